"""Restore results as nodes: every node made is recorded for the rollback, and the defect
segmentation has one orange "defects" segment, empty or imported from the mask."""
from __future__ import annotations

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")

from MedRestoreLib.mrml.nodes import removeNodes, updateNodeFromVolume  # noqa: E402
from MedRestoreLib.mrml.restore_outputs import DEFECT_COLOUR, RestoreOutputs  # noqa: E402
from MedRestoreLib.volume import Volume, VolumeKind  # noqa: E402


def image_node(scene, shape=(6, 10, 12)):
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "image")
    updateNodeFromVolume(node, Volume(np.arange(np.prod(shape), dtype=np.int16).reshape(shape)))
    return node


@pytest.mark.parametrize("defects", [0, 9])
def test_the_defect_segmentation_has_one_orange_segment_and_every_added_node_is_recorded(mrml_scene, defects):
    inputNode = image_node(mrml_scene)
    count = mrml_scene.GetNumberOfNodes()
    mask = np.zeros((6, 10, 12), np.uint8)
    mask[3, 2:5, 4:7] = 1 if defects else 0
    added = []
    segmentation = RestoreOutputs(mrml_scene, added).defectSegmentation(
        "defects", Volume(mask, kind=VolumeKind.LABEL), inputNode)
    segment = segmentation.GetSegmentation().GetNthSegment(0)
    assert segmentation.GetSegmentation().GetNumberOfSegments() == 1 and segment.GetName() == "defects"
    assert segment.GetColor() == pytest.approx(DEFECT_COLOUR)
    assert segmentation in added and mrml_scene.GetNumberOfNodes() > count  # the temporary label map is gone
    assert not any(node.IsA("vtkMRMLLabelMapVolumeNode") for node in added if node.GetScene() is not None)
    removeNodes(mrml_scene, added)
    assert mrml_scene.GetNumberOfNodes() == count
