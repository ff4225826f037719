"""A restore's results as new nodes: the repaired volume, the defect segmentation, the defect
probability and the report table (for a sequence: sequences of volumes and of label maps).

Every node made here is appended to the caller's ``added`` list, the one
:func:`MedRestoreLib.mrml.nodes.removedOnError` removes again when anything fails, so the scene
never keeps half a result.
"""
from __future__ import annotations

from typing import List

import slicer
import vtk

from ..pipeline import RestoreResult
from ..volume import Volume
from .nodes import copyDisplay, updateNodeFromVolume

DEFECTS_REFERENCE = "MedRestoreDefects"
REPORT_REFERENCE = "MedRestoreReport"
PROBABILITY_REFERENCE = "MedRestoreProbability"
OUTPUT_REFERENCES = (DEFECTS_REFERENCE, PROBABILITY_REFERENCE, REPORT_REFERENCE)  # what a re-run replaces
DEFECT_COLOUR = (1.0, 0.35, 0.0)  # orange, as in the README's figures


class RestoreOutputs:
    """Writes results into ``scene``, recording each node it adds in ``added``."""

    def __init__(self, scene, added: List):
        self.scene = scene
        self.added = added

    def addNode(self, className, name):
        node = self.scene.AddNewNodeByClass(className, name)
        self.added.append(node)
        return node

    def addScalarVolume(self, name, volume: Volume, inputNode, displayLikeInput=True):
        node = self.addNode("vtkMRMLScalarVolumeNode", name)
        updateNodeFromVolume(node, volume)
        self.displayLike(node, inputNode if displayLikeInput else None)
        node.SetAndObserveTransformNodeID(inputNode.GetTransformNodeID())
        return node

    def displayLike(self, node, inputNode) -> None:
        """Give ``node`` a display node, copying the input's window/level and colours."""
        self.added.extend(copyDisplay(node, inputNode))

    def volumeOutputs(self, inputNode, result: RestoreResult, outputNode):
        """The restored volume (``outputNode``, or a new node) referencing its defect
        segmentation and, after blind detection, its defect probability."""
        name = inputNode.GetName()
        segmentation = self.defectSegmentation(f"{name} defects", result.mask, inputNode)
        probability = None
        if result.probability is not None:
            probability = self.addScalarVolume(f"{name} defect probability", result.probability, inputNode,
                                               displayLikeInput=False)
            probability.GetDisplayNode().AutoWindowLevelOff()  # show [0, 1], whatever the values
            probability.GetDisplayNode().SetWindowLevelMinMax(0.0, 1.0)
        if outputNode is None:
            outputNode = self.addScalarVolume(f"{name} restored", result.volume, inputNode)
        else:  # a given output node is written only now, once everything else has succeeded
            updateNodeFromVolume(outputNode, result.volume)
            self.displayLike(outputNode, inputNode)
            outputNode.SetAndObserveTransformNodeID(inputNode.GetTransformNodeID())
        outputNode.SetVoxelValueQuantity(inputNode.GetVoxelValueQuantity())
        outputNode.SetVoxelValueUnits(inputNode.GetVoxelValueUnits())
        outputNode.SetNodeReferenceID(DEFECTS_REFERENCE, segmentation.GetID())
        outputNode.SetNodeReferenceID(PROBABILITY_REFERENCE, probability.GetID() if probability else None)
        return outputNode

    def defectSegmentation(self, name, mask: Volume, inputNode):
        """A segmentation with one segment, "defects", on the input's geometry."""
        segmentation = self.addNode("vtkMRMLSegmentationNode", name)
        segmentation.CreateDefaultDisplayNodes()
        self.added.append(segmentation.GetDisplayNode())
        segmentation.SetReferenceImageGeometryParameterFromVolumeNode(inputNode)
        if mask.array.any():
            labelmap = self.addNode("vtkMRMLLabelMapVolumeNode", f"{name} temporary labelmap")
            updateNodeFromVolume(labelmap, mask)
            segmentations = slicer.vtkSlicerSegmentationsModuleLogic
            if not segmentations.ImportLabelmapToSegmentationNode(labelmap, segmentation):
                raise RuntimeError("importing the defect mask into a segmentation failed")
            self.scene.RemoveNode(labelmap)
            self.added.remove(labelmap)
            segmentation.GetSegmentation().GetNthSegment(0).SetName("defects")
        else:
            segmentation.GetSegmentation().AddEmptySegment("defects", "defects")
        segmentation.GetSegmentation().GetNthSegment(0).SetColor(*DEFECT_COLOUR)
        segmentation.SetAndObserveTransformNodeID(inputNode.GetTransformNodeID())
        return segmentation

    def sequenceOutputs(self, inputNode, frames, results, outputNode):
        """The restored sequence (``outputNode``, or a new one) referencing a sequence of defect
        label maps, both indexed as the input."""
        name = inputNode.GetName()
        masks = self.addNode("vtkMRMLSequenceNode", f"{name} defects")
        if outputNode is None:
            outputNode = self.addNode("vtkMRMLSequenceNode", f"{name} restored")
        # A given output sequence is emptied only once the masks sequence is complete.
        for sequence, attribute, className, suffix in (
                (masks, "mask", "vtkMRMLLabelMapVolumeNode", "defects"),
                (outputNode, "volume", "vtkMRMLScalarVolumeNode", "restored")):
            sequence.RemoveAllDataNodes()
            sequence.CopySequenceIndex(inputNode)
            for (index, frameNode, _), result in zip(frames, results):
                item = getattr(slicer, className)()  # outside the scene: the sequence keeps a copy
                item.SetName(f"{frameNode.GetName()} {suffix}")
                updateNodeFromVolume(item, getattr(result, attribute))
                sequence.SetDataNodeAtValue(item, index)
        outputNode.SetNodeReferenceID(DEFECTS_REFERENCE, masks.GetID())
        outputNode.SetNodeReferenceID(PROBABILITY_REFERENCE, None)
        return outputNode

    def reportTable(self, name, frames, results, isSequence):
        """The reports as a table node: name / value / units / description (and the frame)."""
        columns = (["frame"] if isSequence else []) + ["name", "value", "units", "description"]
        arrays = []
        for column in columns:
            array = vtk.vtkStringArray()
            array.SetName(column)
            arrays.append(array)
        for (index, _, _), result in zip(frames, results):
            for measurement in result.report.measurements():
                row = [measurement.name, measurement.value, measurement.units, measurement.description]
                for array, value in zip(arrays, ([index] if isSequence else []) + row):
                    array.InsertNextValue(str(value))
        table = self.addNode("vtkMRMLTableNode", name)
        for array in arrays:
            table.AddColumn(array)
        return table
