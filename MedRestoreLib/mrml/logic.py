"""MRML logic of MedRestore: runs the engine on Slicer nodes (MRML and VTK only, no Qt).

The same code runs inside Slicer and under the ``slicer-core`` wheel in the tests.

Example (Slicer Python console):
    >>> from MedRestoreLib.logic import MedRestoreLogic
    >>> logic = MedRestoreLogic()
    >>> restored = logic.restore(getNode("MRHead"))
    >>> restored.GetNodeReference("MedRestoreDefects")   # segmentation with segment "defects"
    >>> restored.GetNodeReference("MedRestoreReport")    # table: name / value / units / description
    >>> logic.lastResult.report.voxels_changed
"""
from __future__ import annotations

import contextlib
from typing import List, Optional

from ..errors import InputError
from ..options import RestoreOptions
from ..pipeline import RestoreResult
from ..pipeline import restore as restoreVolume
from ..progress import CancelCallback, ProgressCallback, Steps
from .nodes import (
    checkScalarVolume,
    maskFromNode,
    referencedNodes,
    removedOnError,
    removeReplacedNodes,
    sequenceVolumeNodes,
    updateNodeFromVolume,
    volumeFromNode,
)
from .restore_outputs import OUTPUT_REFERENCES, REPORT_REFERENCE, RestoreOutputs


class MedRestoreLogic:
    """Restore volume and sequence nodes; results become new nodes linked to the output node.

    Args:
        scene: where new nodes go; by default the input node's scene (``slicer.mrmlScene`` in Slicer).

    Attributes:
        lastResult: the pipeline's :class:`RestoreResult` of the last volume restore, or a list
            of them (one per frame) after a sequence restore.
    """

    def __init__(self, scene=None):
        self.scene = scene
        self.lastResult = None
        self._added: List = []  # nodes added by the call in progress (see removedOnError)

    # --- Volume <-> node ----------------------------------------------------------------------

    volumeFromNode = staticmethod(volumeFromNode)
    updateNodeFromVolume = staticmethod(updateNodeFromVolume)

    # --- restore -----------------------------------------------------------------------------

    def restore(self, inputNode, options: Optional[RestoreOptions] = None, knownMaskNode=None,
                outputNode=None, progress: Optional[ProgressCallback] = None,
                cancel: Optional[CancelCallback] = None):
        """Detect (or take ``knownMaskNode``) and fill defects; return the output node.

        Args:
            inputNode: ``vtkMRMLScalarVolumeNode`` or ``vtkMRMLSequenceNode`` of scalar volumes.
            options: :class:`RestoreOptions` (defaults when None).
            knownMaskNode: segmentation (visible segments, resampled onto the input) or label
                map / scalar volume on the input's grid; non-zero = defect. Skips detection.
            outputNode: node to overwrite (same class family as the input); new one when None.
            progress: ``progress(fraction, message)``; spans all frames of a sequence.
            cancel: ``cancel() -> bool``; True stops the work with :class:`Cancelled`.

        Returns:
            The output node. It references the defects (``MedRestoreDefects``: segmentation,
            or a label-map sequence for a sequence input), the report table (``MedRestoreReport``)
            and, after blind detection of a volume, the probability map (``MedRestoreProbability``).

        Raises:
            InputError: unsupported node, mask on another grid, bad options.
            Cancelled: ``cancel()`` returned True. On any error every node added is removed
            again and neither the input nor a given ``outputNode`` is changed.

        A given ``outputNode`` that holds an earlier result gets the new one, and the nodes of
        the earlier one (defects, probability map, report) are removed once the new are in.
        """
        options = options if options is not None else RestoreOptions()
        if inputNode is None or not inputNode.IsA("vtkMRMLNode"):
            raise InputError("give an input volume node or sequence node")
        scene = self.scene or inputNode.GetScene()
        if scene is None:
            raise InputError("the input node is not in a scene; pass MedRestoreLogic(scene)")
        isSequence = inputNode.IsA("vtkMRMLSequenceNode")
        self._checkNodes(inputNode, outputNode, isSequence)
        previous = referencedNodes(outputNode, OUTPUT_REFERENCES)
        with self._addingNodes(scene):
            frames = self._frames(inputNode, isSequence)
            mask = None if knownMaskNode is None else self.readMask(scene, knownMaskNode, frames[0][1])
            for _, frameNode, volume in frames:
                if mask is not None and not volume.has_same_geometry(mask):
                    raise InputError(f"the mask '{knownMaskNode.GetName()}' is on another grid than "
                                     f"'{inputNode.GetName()}'; resample it onto the image first")
            Steps(progress, cancel).check_cancel()
            results = []
            for number, (_, _, volume) in enumerate(frames):
                frameProgress = _subProgress(progress, number, len(frames))
                results.append(restoreVolume(volume, options, frameProgress, cancel, mask=mask))
            outputs = RestoreOutputs(scene, self._added)
            table = outputs.reportTable(f"{inputNode.GetName()} restore report", frames, results, isSequence)
            if isSequence:
                outputNode = outputs.sequenceOutputs(inputNode, frames, results, outputNode)
            else:
                outputNode = self._writeVolumeOutputs(scene, inputNode, results[0], outputNode)
            outputNode.SetNodeReferenceID(REPORT_REFERENCE, table.GetID())
        removeReplacedNodes(scene, previous, [inputNode, knownMaskNode, outputNode]
                            + referencedNodes(outputNode, OUTPUT_REFERENCES))
        self.lastResult = results if isSequence else results[0]
        return outputNode

    def addRestoreOutputs(self, inputNode, result: RestoreResult, outputNode=None, knownMaskNode=None):
        """Add a finished volume restore's results as nodes, as :meth:`restore` does.

        For results computed elsewhere, such as the panel's background run of the CLI
        (``MedRestoreLib.mrml.node_files.prepare_restore``). Nothing is added when this fails;
        ``knownMaskNode`` (the mask the run used) is never removed as an earlier result.
        """
        scene = self.scene or inputNode.GetScene()
        self._checkNodes(inputNode, outputNode, False)
        previous = referencedNodes(outputNode, OUTPUT_REFERENCES)
        if not result.volume.has_same_geometry(self.volumeFromNode(inputNode)):
            raise InputError(f"the result does not lie on the grid of '{inputNode.GetName()}'")
        with self._addingNodes(scene):
            table = RestoreOutputs(scene, self._added).reportTable(
                f"{inputNode.GetName()} restore report", [(None, inputNode, result.volume)], [result], False)
            outputNode = self._writeVolumeOutputs(scene, inputNode, result, outputNode)
            outputNode.SetNodeReferenceID(REPORT_REFERENCE, table.GetID())
        removeReplacedNodes(scene, previous, [inputNode, knownMaskNode, outputNode]
                            + referencedNodes(outputNode, OUTPUT_REFERENCES))
        self.lastResult = result
        return outputNode

    # --- checks and inputs ------------------------------------------------------------------

    @staticmethod
    def _checkNodes(inputNode, outputNode, isSequence) -> None:
        if not isSequence:
            checkScalarVolume(inputNode)
        if outputNode is None:
            return
        if outputNode is inputNode:
            raise InputError("the output node must differ from the input node (the input is never changed)")
        wanted = "vtkMRMLSequenceNode" if isSequence else "vtkMRMLScalarVolumeNode"
        if not outputNode.IsA(wanted) or outputNode.IsA("vtkMRMLLabelMapVolumeNode") \
                or outputNode.IsA("vtkMRMLDiffusionImageVolumeNode"):
            raise InputError(f"the output node '{outputNode.GetName()}' must be a {wanted}")

    def _frames(self, inputNode, isSequence):
        """[(index value, node, Volume)] of the input: one item for a volume node."""
        if not isSequence:
            return [(None, inputNode, self.volumeFromNode(inputNode))]
        return [(inputNode.GetNthIndexValue(n), node, self.volumeFromNode(node))
                for n, node in enumerate(sequenceVolumeNodes(inputNode))]

    readMask = staticmethod(maskFromNode)  # mask node -> 0/1 label Volume on the input's grid

    # --- outputs ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _addingNodes(self, scene):
        """Nodes added inside the block (recorded in ``self._added``) stay only if it completes."""
        self.lastResult = None
        with removedOnError(scene) as self._added:
            try:
                yield
            finally:
                self._added = []

    def _writeVolumeOutputs(self, scene, inputNode, result: RestoreResult, outputNode):
        # The last step of a volume restore, a method so that a subclass can wrap it (the
        # rollback test makes it fail once every output node exists).
        return RestoreOutputs(scene, self._added).volumeOutputs(inputNode, result, outputNode)

    # --- missing slices and time points (implementation in mrml/imputation_nodes.py) ---------

    def imputeSlices(self, inputVolumeNode, options=None, outputNode=None,
                     progress: Optional[ProgressCallback] = None, cancel: Optional[CancelCallback] = None):
        """Thin-slice volume node from a thick or gapped volume node; ``options`` is a
        :class:`MedRestoreLib.imputation.slices.SliceImputeOptions` (factor 2 when None)."""
        from .imputation_nodes import impute_slices_node

        return impute_slices_node(self.scene or inputVolumeNode.GetScene(), inputVolumeNode, options,
                                  outputNode, progress, cancel)

    def imputeSequence(self, inputNode, model=None, missing="auto", forecast=0, outputNode=None,
                       progress: Optional[ProgressCallback] = None, cancel: Optional[CancelCallback] = None):
        """Imputed (and forecast) frames of a sequence node as a new sequence node, or the
        imputed cells of a table node as a new table node (see imputation/tables.py); ``model``
        is a :class:`~MedRestoreLib.imputation.time_series.SequenceModel` (the engine's default
        when None)."""
        from ..imputation.time_series import DEFAULT_SEQUENCE_MODEL
        from .imputation_nodes import impute_sequence_node

        model = DEFAULT_SEQUENCE_MODEL if model is None else model
        scene = self.scene or (inputNode.GetScene() if inputNode is not None else None)
        return impute_sequence_node(scene, inputNode, model, missing, forecast, outputNode, progress, cancel)


def _subProgress(progress, number, count):
    if progress is None:
        return None

    def frameProgress(fraction, message):
        progress((number + fraction) / count,
                 f"{message} (frame {number + 1}/{count})" if count > 1 else message)
    return frameProgress
