"""One wrapper per parameter node, connected once and disconnected on every Slicer version.

The wrapper here is a stand-in with the behaviour of Slicer's parameterNodeWrapper that matters
(Slicer's own needs Qt, which the slicer-core wheel lacks): each connection is kept under a tag,
``disconnectGui(tag)`` drops it, and before Slicer 5.10 ``connectGui`` returns no tag.
"""
from types import SimpleNamespace

import pytest

from MedRestoreLib.background.parameter_binding import ParameterBinding, parameter_widgets


class Widget:
    def __init__(self, parameter=None):
        self._parameter = parameter

    def property(self, name):
        return self._parameter if name == "SlicerParameterName" else None


class Wrapper:
    """Slicer's wrapper as far as GUI connections go; ``tagFromConnectGui`` as in 5.10+."""

    instances = 0

    def __init__(self, node, tagFromConnectGui=False):
        self.node = node
        self.connections = {}
        self.next_tag = 0
        self.tagFromConnectGui = tagFromConnectGui
        Wrapper.instances += 1

    def connectParametersToGui(self, mapping):
        tag, self.next_tag = self.next_tag, self.next_tag + 1
        self.connections[tag] = dict(mapping)
        return tag

    def connectGui(self, ui):
        tag = self.connectParametersToGui(parameter_widgets(ui))
        return tag if self.tagFromConnectGui else None

    def disconnectGui(self, tag):
        self.connections.pop(tag, None)


@pytest.fixture
def ui():
    return SimpleNamespace(fillMethod=Widget("fillMethod"), detector=Widget("detector"),
                           statusLabel=Widget(None), layout=object())


def test_the_widgets_are_the_ones_named_in_the_ui(ui):
    assert parameter_widgets(ui) == {"fillMethod": ui.fillMethod, "detector": ui.detector}


def test_the_template_s_way_leaves_live_connectors_before_slicer_5_10(ui):
    # What MedRestore.py did on each enter(): wrap anew, disconnect the old wrapper with the tag.
    node = object()
    first = Wrapper(node)
    tag = first.connectGui(ui)
    first.disconnectGui(tag)
    assert tag is None and len(first.connections) == 1  # still connected: choices reset on re-entry


def test_entering_again_keeps_one_wrapper_and_one_connection(ui):
    Wrapper.instances = 0
    node = object()
    binding = ParameterBinding(Wrapper, ui)
    wrapper = binding.bind(node)
    for _ in range(3):  # enter(), exit(), enter() ...
        assert binding.bind(node) is wrapper
    assert Wrapper.instances == 1 and len(wrapper.connections) == 1
    assert wrapper.connections[0] == {"fillMethod": ui.fillMethod, "detector": ui.detector}


def test_another_node_disconnects_the_old_wrapper_for_real(ui):
    binding = ParameterBinding(Wrapper, ui)
    old = binding.bind(object())
    new = binding.bind(object())
    assert old is not new and old.connections == {} and len(new.connections) == 1
    binding.unbind()
    assert new.connections == {} and binding.wrapper is None
    binding.unbind()  # nothing bound: nothing to do
    assert binding.bind(None) is None
