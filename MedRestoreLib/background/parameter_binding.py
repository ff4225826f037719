"""One parameter-node wrapper per node, connected to the panel once and disconnected for real.

Slicer's template wraps the parameter node anew on every ``enter()`` and disconnects the old
wrapper with the tag ``connectGui`` returned. Before Slicer 5.10 ``connectGui`` returns no tag
(fixed upstream in Slicer commit b5a65a49a0, pull request #8667; issue #7547), so
``disconnectGui(None)`` did nothing: the old wrapper's widget connectors stayed live. The next
connect refills each combo box, Qt emits ``currentIndexChanged`` on the way, and the stale
connectors wrote the first item back into the node: every choice was lost on re-entering the
module (the fill method opened as "biharmonic3d").

Here a node keeps its wrapper while it stays the panel's node, and the GUI is connected with
``connectParametersToGui(mapping)``, which returns its tag on every Slicer that has the wrapper
(5.4+); the mapping is the one ``connectGui`` builds, from each widget's ``SlicerParameterName``.
Qt-free: the widgets are only asked for that property.

Example (in the module widget):
    >>> self.binding = ParameterBinding(MedRestoreParameterNode, self.ui)
    >>> self.binding.bind(logic.getParameterNode())   # enter(): same node → nothing happens
    >>> self.binding.unbind()                          # scene closed, widget cleaned up
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

PARAMETER_NAME_PROPERTY = "SlicerParameterName"  # the .ui property parameterNodeWrapper reads


def parameter_widgets(ui) -> Dict[str, object]:
    """{parameter name: widget} of the widgets in ``ui`` (an object whose attributes are widgets,
    as ``slicer.util.childWidgetVariables`` gives) that carry ``SlicerParameterName``."""
    widgets = {}
    for widget in vars(ui).values():
        name = widget.property(PARAMETER_NAME_PROPERTY) if hasattr(widget, "property") else None
        if name:
            widgets[str(name)] = widget
    return widgets


class ParameterBinding:
    """The panel's parameter node, wrapped once and connected to ``ui`` once.

    Args:
        wrap: the ``@parameterNodeWrapper`` class (or any callable node → wrapper).
        ui: the panel's widgets.
    """

    def __init__(self, wrap: Callable[[object], object], ui):
        self.wrap = wrap
        self.ui = ui
        self.node = None
        self.wrapper = None
        self._tag = None

    def bind(self, node) -> Optional[object]:
        """Make ``node`` the panel's parameter node; returns its wrapper. The same node again
        keeps its wrapper and its one connection; another node first disconnects the old one."""
        if node is not None and node is self.node:
            return self.wrapper
        self.unbind()
        if node is None:
            return None
        self.node, self.wrapper = node, self.wrap(node)
        self._tag = self.wrapper.connectParametersToGui(parameter_widgets(self.ui))
        if self._tag is None:  # never expected: without a tag nothing could disconnect it later
            raise RuntimeError("the parameter node wrapper returned no GUI tag")
        return self.wrapper

    def unbind(self) -> None:
        """Disconnect the GUI from the current node (nothing bound: nothing to do)."""
        if self.wrapper is not None and self._tag is not None:
            self.wrapper.disconnectGui(self._tag)
        self.node = self.wrapper = self._tag = None
