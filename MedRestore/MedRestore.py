"""MedRestore: the Slicer module (module, parameter node, widget, self-test); no computation.

Apply runs the engine's own CLI in a child process (``MedRestoreLib.mrml.node_files`` exports the
nodes and imports the results, ``MedRestoreLib.background.run`` builds the command line and
reads its progress), so Slicer stays responsive and Cancel can end the run at any time.
"""
import importlib
import logging
import os
import sys
from typing import Annotated, Union

import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLSequenceNode, vtkMRMLTableNode
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin


def _ensureLibImportable():
    """Put the source tree's root on sys.path when MedRestoreLib is not importable yet.

    Installed extensions carry MedRestoreLib/ next to this file (on sys.path already); a source
    checkout added as an additional module path has it one folder up, beside MedRestore/.
    """
    try:
        import MedRestoreLib  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "MedRestoreLib":
            raise
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        if root not in sys.path:
            sys.path.insert(0, root)


_ensureLibImportable()

from MedRestoreLib.background import run as _run  # noqa: E402
from MedRestoreLib.options import DetectOptions, DetectorMethod, Device, FillMethod, FillOptions  # noqa: E402

# The panel's choices and defaults come from the engine, so a new method (e.g. "gan") appears
# by itself and a new default (e.g. the slice model becoming "auto") reaches the panel too.
FILL_METHODS = [method.value for method in FillMethod]
DETECTORS = [method.value for method in DetectorMethod]
DEVICES = [device.value for device in Device]
SLICE_MODELS = list(_run.SLICE_MODELS)
SEQUENCE_MODELS = list(_run.SEQUENCE_MODELS)
DEFAULT_FILL_METHOD = FillOptions().method.value
DEFAULT_DETECTOR = DetectOptions().method.value
DEFAULT_SLICE_MODEL = _run.SLICE_MODEL_DEFAULT
DEFAULT_SEQUENCE_MODEL = _run.SEQUENCE_MODEL_DEFAULT

HELP_TEXT = """
Finds and repairs damaged voxels of a volume (dead or hot pixels, dropped lines, attenuated or
blank regions) and writes the repaired image into a new or chosen volume. The input volume is
never modified; voxels outside the damaged regions are copied unchanged. Give a segmentation of
known defects to skip detection and fill only those voxels. Apply runs in the background with a
progress bar; press it again to cancel. "Missing slices and time points" fills thick or missing
slices of a volume and missing visits of a sequence or a table.
<br><br>Try it: Sample Data &rarr; MedRestore &rarr; "MedRestore damaged brain MRI", then Apply.
<br><br>Python console:
<pre>
from MedRestoreLib.logic import MedRestoreLogic
output = MedRestoreLogic().restore(getNode("MRHead"))
output.GetNodeReference("MedRestoreReport")  # the report table
</pre>
or, with the module loaded, <code>slicer.util.getModuleLogic("MedRestore").restore(node)</code>.
See the <a href="https://github.com/medrestore/SlicerMedRestore">documentation</a>.
"""


class MedRestore(ScriptedLoadableModule):
    """Module description shown by Slicer."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "MedRestore"
        self.parent.categories = ["Filtering"]
        self.parent.dependencies = []
        self.parent.contributors = ["MedRestore team"]
        self.parent.helpText = HELP_TEXT
        self.parent.acknowledgementText = """Developed by the MedRestore team with 3D Slicer, NumPy,
SciPy, scikit-image, SimpleITK, OpenCV and PyTorch, following Slicer's scripted module template."""
        slicer.app.connect("startupCompleted()", self._registerSampleData)

    def _registerSampleData(self):
        try:
            from MedRestoreGui import registerSampleData

            registerSampleData(os.path.join(os.path.dirname(__file__), "Resources", "Icons", "MedRestoreSample.png"))
        except Exception:
            logging.exception("MedRestore: could not register the sample data")


@parameterNodeWrapper
class MedRestoreParameterNode:
    """What the user chose in the module panel (saved with the scene).

    knownMask is optional: when set, detection is skipped and only its voxels are filled.
    sliceMissing blank means: use sliceFactor. The choices mirror MedRestoreLib's options.
    """

    inputVolume: vtkMRMLScalarVolumeNode
    knownMask: vtkMRMLSegmentationNode
    outputVolume: vtkMRMLScalarVolumeNode
    fillMethod: Annotated[str, Choice(FILL_METHODS)] = DEFAULT_FILL_METHOD
    detector: Annotated[str, Choice(DETECTORS)] = DEFAULT_DETECTOR
    device: Annotated[str, Choice(DEVICES)] = "auto"
    imputeSlicesInput: vtkMRMLScalarVolumeNode
    sliceFactor: Annotated[int, WithinRange(2, 16)] = 2
    sliceMissing: str = ""
    sliceModel: Annotated[str, Choice(SLICE_MODELS)] = DEFAULT_SLICE_MODEL
    imputeSequenceInput: Union[vtkMRMLSequenceNode, vtkMRMLTableNode, None]
    sequenceMissing: str = "auto"
    sequenceModel: Annotated[str, Choice(SEQUENCE_MODELS)] = DEFAULT_SEQUENCE_MODEL
    forecast: Annotated[int, WithinRange(0, 20)] = 0


def _reloadLib():
    """Reload MedRestoreLib and MedRestoreGui submodules, deepest first."""
    names = [name for name in sys.modules
             if name.split(".")[0] in ("MedRestoreLib", "MedRestoreGui")]
    for name in sorted(names, key=lambda n: (-n.count("."), n)):
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            importlib.reload(module)
        except Exception:
            logging.exception("MedRestore: could not reload %s", name)


class MedRestoreWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """Gathers parameters, starts background runs and shows their progress; no computation.

    The parameter node keeps one wrapper, connected to the panel once (``ParameterBinding``:
    Slicer before 5.10 gives no tag to disconnect with); the buttons follow ``PanelState``
    (busy from the first install step to the run's end).
    """

    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self.binding = None
        self.runPanel = None
        self.results = None
        self.devices = None

    @property
    def _parameterNode(self):
        return self.binding.wrapper if self.binding is not None else None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/MedRestore.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)

        from MedRestoreGui import DevicesProbe, ResultsView, RunPanel

        from MedRestoreLib.background.parameter_binding import ParameterBinding
        from MedRestoreLib.logic import MedRestoreLogic

        self.logic = MedRestoreLogic()
        self.binding = ParameterBinding(MedRestoreParameterNode, self.ui)
        self.runPanel = RunPanel(self.ui, self.resourcePath("requirements.txt"), self._updateButtons)
        self.results = ResultsView(self.ui)
        self.devices = DevicesProbe(self.ui.deviceInfoLabel)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.imputeSlicesButton.connect("clicked(bool)", self.onImputeSlicesButton)
        self.ui.imputeSequenceButton.connect("clicked(bool)", self.onImputeSequenceButton)
        self.ui.advancedCollapsibleButton.connect("contentsCollapsed(bool)", self._describeDevices)
        self.initializeParameterNode()

    def cleanup(self):
        if self.runPanel is not None:
            self.runPanel.cancel()  # closing Slicer must not leave a worker running
        if self.devices is not None:
            self.devices.cancel()
        self.removeObservers()
        self.setParameterNode(None)

    def enter(self):
        self.initializeParameterNode()  # the same node again: its one wrapper stays connected

    def exit(self):
        pass  # the binding stays: re-entering must find the choices as they were

    def onSceneStartClose(self, caller, event):
        self.runPanel.cancel()  # its results would have no scene to go to
        self.setParameterNode(None)
        self.results.clear()

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        # MedRestoreLogic is Qt-free and scene-independent: a plain scripted-module logic holds
        # the parameter node, a scene singleton named after the module.
        holder = ScriptedLoadableModuleLogic()
        holder.moduleName = "MedRestore"
        self.setParameterNode(holder.getParameterNode())
        if not self._parameterNode.inputVolume:
            firstVolumeNode = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if firstVolumeNode:
                self._parameterNode.inputVolume = firstVolumeNode

    def setParameterNode(self, node):
        """Bind the panel to ``node`` (a vtkMRMLScriptedModuleNode, or None to unbind)."""
        previous = self.binding.node
        if node is not None and node is previous:
            return
        if previous is not None:
            self.removeObserver(previous, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
        self.binding.bind(node)
        if node is not None:
            self.addObserver(node, vtk.vtkCommand.ModifiedEvent, self._updateButtons)
            self._updateButtons()

    def _updateButtons(self, caller=None, event=None):
        parameters = self._parameterNode
        state = self.runPanel.state.buttons(
            bool(parameters and parameters.inputVolume), bool(parameters and parameters.imputeSlicesInput),
            bool(parameters and parameters.imputeSequenceInput))
        self.ui.applyButton.text = state.apply_text
        self.ui.applyButton.enabled = state.apply_enabled
        self.ui.imputeSlicesButton.enabled = state.impute_slices_enabled
        self.ui.imputeSequenceButton.enabled = state.impute_sequence_enabled

    def _describeDevices(self, collapsed=False):
        if not collapsed:
            self.devices.describe()  # in a child process: torch never loads in Slicer

    # --- background runs (RunPanel: install, the child process, progress bar, Cancel, log) -----

    def onApplyButton(self):
        from MedRestoreLib.background.panel_state import Click

        click = self.runPanel.state.click()
        if click == Click.CANCEL:  # the button reads "Cancel" while a run is going
            self.runPanel.cancel()
            return
        if click != Click.START:  # installing or cancelling: a second click does nothing
            return
        from MedRestoreLib.background.run import needs_torch
        from MedRestoreLib.mrml.node_files import prepare_restore

        parameters = self._parameterNode
        inputNode, outputNode, maskNode = parameters.inputVolume, parameters.outputVolume, parameters.knownMask
        self.runPanel.start(lambda: prepare_restore(
            self.logic, inputNode, maskNode, outputNode, method=parameters.fillMethod,
            detector=parameters.detector, device=parameters.device),
            lambda output: self._showRestore(inputNode, output),
            needTorch=needs_torch("restore", detector=parameters.detector, method=parameters.fillMethod,
                                  has_mask=maskNode is not None))

    def onImputeSlicesButton(self):
        from MedRestoreLib.background.run import needs_torch
        from MedRestoreLib.mrml.node_files import prepare_impute_slices

        parameters = self._parameterNode
        missing = parameters.sliceMissing.strip() or None
        self.runPanel.start(lambda: prepare_impute_slices(
            parameters.imputeSlicesInput, factor=None if missing else parameters.sliceFactor,
            missing=missing, model=parameters.sliceModel, device=parameters.device),
            lambda output: slicer.util.setSliceViewerLayers(background=output, fit=True),
            needTorch=needs_torch("impute-slices", model=parameters.sliceModel))

    def onImputeSequenceButton(self):
        from MedRestoreLib.background.run import needs_torch
        from MedRestoreLib.mrml.node_files import prepare_impute_sequence

        parameters = self._parameterNode
        self.runPanel.start(lambda: prepare_impute_sequence(
            parameters.imputeSequenceInput, missing=parameters.sequenceMissing.strip() or "auto",
            model=parameters.sequenceModel, forecast=parameters.forecast, device=parameters.device),
            self.results.showImputedSeries, needTorch=needs_torch("impute-sequence", model=parameters.sequenceModel))

    def _showRestore(self, inputNode, outputNode):
        if self._parameterNode:  # None when the scene was closed during the run
            self._parameterNode.outputVolume = outputNode
        self.results.show(inputNode, outputNode)

    def onReload(self):
        _reloadLib()
        ScriptedLoadableModuleWidget.onReload(self)


# Slicer runs the self-test it finds here as MedRestoreTest (ctest and Reload and Test).
from MedRestoreGui.self_test import MedRestoreTest  # noqa: E402,F401
