"""MedRestore: the Slicer module (module, parameter node, widget, self-test); no computation.

All computation lives in the engine package ``MedRestoreLib`` (``MedRestoreLib.logic``).
"""
import importlib
import logging
import os
import sys
from typing import Annotated

import slicer
import vtk
from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode
from slicer.parameterNodeWrapper import Choice, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
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


class MedRestore(ScriptedLoadableModule):
    """Module description shown by Slicer."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "MedRestore"
        self.parent.categories = ["Filtering"]
        self.parent.dependencies = []
        self.parent.contributors = ["MedRestore team"]
        self.parent.helpText = """
Finds and repairs damaged voxels of a volume (dead or hot pixels, dropped lines, attenuated or
blank regions) and writes the repaired image into a new or chosen volume. The input volume is
never modified; voxels outside the damaged regions are copied unchanged.
Give a segmentation of known defects to skip detection and fill only those voxels.
<br><br>
Python console:
<pre>
from MedRestoreLib.logic import MedRestoreLogic
output = MedRestoreLogic().restore(getNode("MRHead"))
</pre>
or, with the module loaded, <code>slicer.util.getModuleLogic("MedRestore").restore(node)</code>.
See the <a href="https://github.com/medrestore/SlicerMedRestore">documentation</a>.
"""
        self.parent.acknowledgementText = """Developed by the MedRestore team with 3D Slicer, NumPy,
SciPy, scikit-image, SimpleITK, OpenCV and PyTorch, following Slicer's scripted module template."""


@parameterNodeWrapper
class MedRestoreParameterNode:
    """What the user chose in the module panel (saved with the scene).

    knownMask is optional: when set, detection is skipped and only its voxels are filled.
    The choices mirror MedRestoreLib's option dataclasses.
    """

    inputVolume: vtkMRMLScalarVolumeNode
    knownMask: vtkMRMLSegmentationNode
    outputVolume: vtkMRMLScalarVolumeNode
    fillMethod: Annotated[str, Choice(
        ["biharmonic3d", "biharmonic2d", "adjacent-slices", "neighbour-median", "telea"])] = "biharmonic3d"
    detector: Annotated[str, Choice(["lstm", "dpd", "median-mad"])] = "lstm"
    device: Annotated[str, Choice(["auto", "cpu", "cuda"])] = "auto"


def _reloadLib():
    """Reload MedRestoreLib submodules, deepest first, so the package sees fresh submodules."""
    names = [name for name in sys.modules if name == "MedRestoreLib" or name.startswith("MedRestoreLib.")]
    for name in sorted(names, key=lambda n: (-n.count("."), n)):
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            importlib.reload(module)
        except Exception:
            logging.exception("MedRestore: could not reload %s", name)


class MedRestoreWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """Gathers parameters, calls MedRestoreLogic, shows progress; no computation here."""

    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._running = False
        self._cancelRequested = False

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/MedRestore.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)

        try:
            self.logic = self._createLogic()
        except Exception:
            # Keep the panel usable; Apply retries and shows the error to the user.
            logging.exception("MedRestore: could not create the logic")

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self.ui.cancelButton.connect("clicked(bool)", self.onCancelButton)
        self.ui.cancelButton.enabled = False
        self.initializeParameterNode()

    @staticmethod
    def _createLogic():
        from MedRestoreLib.logic import MedRestoreLogic
        return MedRestoreLogic()

    def cleanup(self):
        self.removeObservers()
        self.setParameterNode(None)

    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event):
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        # The parameter node is a scene singleton named after the module; MedRestoreLogic is
        # Qt-free and scene-independent, so a plain scripted-module logic provides the node.
        holder = ScriptedLoadableModuleLogic()
        holder.moduleName = "MedRestore"
        self.setParameterNode(MedRestoreParameterNode(holder.getParameterNode()))
        if not self._parameterNode.inputVolume:
            firstVolumeNode = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
            if firstVolumeNode:
                self._parameterNode.inputVolume = firstVolumeNode

    def setParameterNode(self, inputParameterNode):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
        self._parameterNode = inputParameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._checkCanApply)
            self._checkCanApply()

    def _checkCanApply(self, caller=None, event=None):
        ready = bool(self._parameterNode and self._parameterNode.inputVolume)
        self.ui.applyButton.enabled = ready and not self._running
        self.ui.applyButton.toolTip = "Repair the damaged voxels." if ready else "Select an input volume."

    def _onProgress(self, fraction, message):
        self.ui.progressBar.value = int(round(100 * min(1.0, max(0.0, float(fraction)))))
        self.ui.statusLabel.text = message
        slicer.app.processEvents()  # repaints the bar and lets the Cancel click through

    def _isCancelRequested(self):
        return self._cancelRequested

    def onCancelButton(self):
        self._cancelRequested = True
        self.ui.statusLabel.text = "Cancelling..."

    def _setRunning(self, running):
        self._running = running
        self.ui.cancelButton.enabled = running
        self._checkCanApply()

    def onApplyButton(self):
        from MedRestoreLib.errors import Cancelled, InputError

        self._cancelRequested = False
        self.ui.progressBar.value = 0
        self._setRunning(True)
        try:
            with slicer.util.tryWithErrorDisplay("Failed to repair the volume.", waitCursor=True):
                try:
                    outputNode = self._runLogic()
                except Cancelled:
                    self.ui.statusLabel.text = "Cancelled; the input volume is unchanged."
                    return
                except InputError as error:
                    # Bad input is not a bug: show its message without a traceback.
                    self.ui.statusLabel.text = str(error)
                    slicer.util.errorDisplay(str(error))
                    return
                self._parameterNode.outputVolume = outputNode
                slicer.util.setSliceViewerLayers(background=outputNode, fit=True)
                self.ui.progressBar.value = 100
                self.ui.statusLabel.text = f"Done: {outputNode.GetName()}"
        finally:
            self._setRunning(False)

    def _runLogic(self):
        from MedRestoreLib.pipeline import RestoreOptions

        if self.logic is None:
            self.logic = self._createLogic()
        parameters = self._parameterNode
        options = RestoreOptions.from_dict({
            "detect": {"method": parameters.detector},
            "fill": {"method": parameters.fillMethod},
            "device": parameters.device,
        })
        return self.logic.restore(
            parameters.inputVolume,
            options=options,
            knownMaskNode=parameters.knownMask,
            outputNode=parameters.outputVolume,
            progress=self._onProgress,
            cancel=self._isCancelRequested,
        )

    def onReload(self):
        _reloadLib()
        ScriptedLoadableModuleWidget.onReload(self)


class MedRestoreTest(ScriptedLoadableModuleTest):
    """Self-test run by Slicer (Developer mode > Reload and Test, or ctest)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_RestoresTheBundledSample()

    def test_RestoresTheBundledSample(self):
        import numpy as np
        from MedRestoreLib.defects import corrupt
        from MedRestoreLib.demo import SAMPLE
        from MedRestoreLib.logic import MedRestoreLogic
        from MedRestoreLib.metrics import psnr
        from MedRestoreLib.volume import VolumeKind, read_volume

        self.delayDisplay("Loading the bundled MRI and damaging it with mixed defects")
        logic = MedRestoreLogic()
        clean = read_volume(SAMPLE)
        damaged, truth, _ = corrupt(clean, "mixed", seed=0)
        inputNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "MedRestoreTestInput")
        logic.updateNodeFromVolume(inputNode, damaged)
        maskNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "MedRestoreTestMask")
        logic.updateNodeFromVolume(maskNode, truth.with_array(truth.array, VolumeKind.LABEL))

        self.delayDisplay("Blind restore (detect, then fill)")
        blindNode = logic.restore(inputNode)
        self.assertEqual(blindNode.GetImageData().GetDimensions(), inputNode.GetImageData().GetDimensions())
        np.testing.assert_array_equal(slicer.util.arrayFromVolume(inputNode), damaged.array)
        self.assertIsNotNone(blindNode.GetNodeReference("MedRestoreDefects"))
        self.assertIsNotNone(blindNode.GetNodeReference("MedRestoreReport"))

        self.delayDisplay("Filling the known defects: everything else stays as it was")
        outputNode = logic.restore(inputNode, knownMaskNode=maskNode)
        output = slicer.util.arrayFromVolume(outputNode)
        outside = truth.array == 0
        np.testing.assert_array_equal(output[outside], damaged.array[outside])
        before = psnr(clean.array, damaged.array, truth.array)
        after = psnr(clean.array, output, truth.array)
        self.assertGreater(after, before + 10.0)  # measured: 3.2 → 16.8 dB with biharmonic 3-D
        slicer.util.setSliceViewerLayers(background=outputNode, label=maskNode, fit=True)
        self.delayDisplay(f"Test passed: PSNR in the defects {before:.1f} → {after:.1f} dB")
