"""MedRestoreLogic on a real MRML scene (slicer-core): nodes, geometry, clean-up on failure."""
from __future__ import annotations

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")
import vtk  # noqa: E402  (the vtk that slicer-core pins)

from MedRestoreLib import Cancelled, InputError, RestoreOptions, read_volume  # noqa: E402
from MedRestoreLib.logic import (  # noqa: E402
    DEFECTS_REFERENCE,
    PROBABILITY_REFERENCE,
    REPORT_REFERENCE,
    MedRestoreLogic,  # noqa: E402
)
from MedRestoreLib.volume import Volume  # noqa: E402

SHAPE = (24, 48, 48)  # k, j, i
FAST = {"fill": {"method": "neighbour-median"}, "device": "cpu"}
REPORT_NAMES = ["detector", "filler", "device", "voxels changed", "fraction changed",
                "defect regions", "detection time", "fill time"]


def oblique_ijk_to_ras(origin=(-20.0, 35.0, 12.5)):
    """A rotation about an oblique axis, anisotropic spacing and an origin off zero."""
    axis = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
    angle = np.deg2rad(30.0)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
    matrix = np.eye(4)
    matrix[:3, :3] = rotation @ np.diag([0.9, 1.1, 2.5])
    matrix[:3, 3] = origin
    return matrix


def phantom(seed=0):
    rng = np.random.default_rng(seed)
    k, j, i = np.meshgrid(*[np.linspace(-1, 1, n) for n in SHAPE], indexing="ij")
    image = 800 * np.exp(-(i ** 2 + j ** 2 + (k / 1.5) ** 2) * 2) + 200 * np.sin(3 * i + 2 * j) + 300
    return (image + rng.normal(0, 5, SHAPE)).astype(np.int16)


def known_mask():
    mask = np.zeros(SHAPE, np.uint8)
    mask[10:14, 20:26, 18:24] = 1  # a box over four slices
    mask[5, 30, 5:40] = 1  # a dropped line
    return mask


def add_volume(scene, name, array, ijk_to_ras=None, class_name="vtkMRMLScalarVolumeNode"):
    node = scene.AddNewNodeByClass(class_name, name)
    volume = Volume(array, oblique_ijk_to_ras() if ijk_to_ras is None else ijk_to_ras)
    MedRestoreLogic.updateNodeFromVolume(node, volume)
    node.CreateDefaultDisplayNodes()
    return node


def damaged_node(scene, seed=0, name="phantom"):
    array = phantom(seed)
    array[known_mask() != 0] = 0
    return add_volume(scene, name, array)


def ijk_to_ras(node):
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return slicer.util.arrayFromVTKMatrix(matrix)


def snapshot(node):
    return np.array(slicer.util.arrayFromVolume(node)), ijk_to_ras(node), node.GetName(), node.GetMTime()


def assert_unchanged(node, before):
    array, matrix, name, mtime = before
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), array)
    np.testing.assert_array_equal(ijk_to_ras(node), matrix)
    assert node.GetName() == name
    assert node.GetMTime() == mtime


def segment_array(segmentation, reference):
    """The segmentation's visible segments exported onto ``reference``'s grid (0/1, k, j, i)."""
    scene = reference.GetScene()
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "check")
    assert slicer.vtkSlicerSegmentationsModuleLogic.ExportVisibleSegmentsToLabelmapNode(
        segmentation, labelmap, reference)
    array = np.array(slicer.util.arrayFromVolume(labelmap)) != 0
    assert np.allclose(ijk_to_ras(labelmap), ijk_to_ras(reference), atol=1e-6)
    scene.RemoveNode(labelmap)
    return array


def table_rows(table):
    vtk_table = table.GetTable()
    columns = [vtk_table.GetColumnName(c) for c in range(vtk_table.GetNumberOfColumns())]
    return columns, [[vtk_table.GetValue(r, c).ToString() for c in range(len(columns))]
                     for r in range(vtk_table.GetNumberOfRows())]


def test_restore_with_known_labelmap_mask(mrml_scene):
    node = damaged_node(mrml_scene)
    mask_node = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    before = snapshot(node)
    logic = MedRestoreLogic()
    output = logic.restore(node, RestoreOptions.from_dict(FAST), knownMaskNode=mask_node)

    assert output.GetName() == "phantom restored" and output.GetScene() is mrml_scene
    assert output.IsA("vtkMRMLScalarVolumeNode") and output.GetDisplayNode() is not None
    np.testing.assert_allclose(ijk_to_ras(output), before[1], atol=1e-9)
    restored = slicer.util.arrayFromVolume(output)
    assert restored.dtype == np.int16
    outside = known_mask() == 0
    np.testing.assert_array_equal(restored[outside], before[0][outside])
    assert restored[known_mask() != 0].min() > 100  # the zeros were filled from the phantom around
    assert_unchanged(node, before)

    segmentation = output.GetNodeReference("MedRestoreDefects")
    assert segmentation.GetName() == "phantom defects"
    assert segmentation.GetSegmentation().GetNumberOfSegments() == 1
    assert segmentation.GetSegmentation().GetNthSegment(0).GetName() == "defects"
    np.testing.assert_array_equal(segment_array(segmentation, node), known_mask() != 0)

    report = output.GetNodeReference("MedRestoreReport")
    assert report.GetName() == "phantom restore report"
    columns, rows = table_rows(report)
    assert columns == ["name", "value", "units", "description"]
    assert [row[0] for row in rows] == REPORT_NAMES
    values = {row[0]: row[1] for row in rows}
    assert values["detector"] == "given" and values["filler"] == "neighbour-median"
    assert int(values["voxels changed"]) == int(known_mask().sum())
    assert output.GetNodeReference("MedRestoreProbability") is None
    assert logic.lastResult.report.voxels_changed == int(known_mask().sum())
    assert mrml_scene.GetFirstNodeByName("MedRestore temporary mask") is None


def test_restore_with_segmentation_mask_matches_labelmap_mask(mrml_scene):
    node = damaged_node(mrml_scene)
    mask_node = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    segmentation = mrml_scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "known defects")
    segmentation.CreateDefaultDisplayNodes()
    assert slicer.vtkSlicerSegmentationsModuleLogic.ImportLabelmapToSegmentationNode(mask_node, segmentation)
    count = mrml_scene.GetNumberOfNodes()
    logic = MedRestoreLogic()
    output = logic.restore(node, RestoreOptions.from_dict(FAST), knownMaskNode=segmentation)
    np.testing.assert_array_equal(logic.lastResult.mask.array, known_mask())
    # output + its display, segmentation + display, report table; the temporary export is gone
    assert mrml_scene.GetNumberOfNodes() == count + 5
    assert output.GetNodeReference("MedRestoreDefects") is not segmentation


def test_blind_restore_adds_probability(mrml_scene):
    array = phantom(1)
    rng = np.random.default_rng(1)
    spots = (rng.integers(0, SHAPE[0], 40), rng.integers(2, 46, 40), rng.integers(2, 46, 40))
    array[spots] = 4000  # hot pixels
    node = add_volume(mrml_scene, "hot", array)
    before = snapshot(node)
    output = MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST))
    probability = output.GetNodeReference("MedRestoreProbability")
    assert probability.GetName() == "hot defect probability"
    assert slicer.util.arrayFromVolume(probability).dtype == np.float32
    np.testing.assert_allclose(ijk_to_ras(probability), before[1], atol=1e-9)
    restored = slicer.util.arrayFromVolume(output)
    assert restored[spots].max() < 4000
    _, rows = table_rows(output.GetNodeReference("MedRestoreReport"))
    assert dict((row[0], row[1]) for row in rows)["detector"] == "lstm"
    assert_unchanged(node, before)


def test_sequence_gives_sequences_of_restored_volumes_and_masks(mrml_scene):
    sequence = mrml_scene.AddNewNodeByClass("vtkMRMLSequenceNode", "series")
    sequence.SetIndexName("time")
    sequence.SetIndexUnit("s")
    index_values = ["0", "2.5", "7"]
    mask_node = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    for seed, value in enumerate(index_values):
        frame = slicer.vtkMRMLScalarVolumeNode()
        array = phantom(seed)
        array[known_mask() != 0] = 0
        MedRestoreLogic.updateNodeFromVolume(frame, Volume(array, oblique_ijk_to_ras()))
        sequence.SetDataNodeAtValue(frame, value)
    fractions = []
    output = MedRestoreLogic().restore(sequence, RestoreOptions.from_dict(FAST), knownMaskNode=mask_node,
                                       progress=lambda fraction, message: fractions.append(fraction))
    assert output.IsA("vtkMRMLSequenceNode") and output.GetName() == "series restored"
    assert output.GetNumberOfDataNodes() == 3
    assert [output.GetNthIndexValue(n) for n in range(3)] == index_values
    assert (output.GetIndexName(), output.GetIndexUnit()) == ("time", "s")
    for n in range(3):
        restored = slicer.util.arrayFromVolume(output.GetNthDataNode(n))
        original = slicer.util.arrayFromVolume(sequence.GetNthDataNode(n))
        assert restored.dtype == np.int16
        np.testing.assert_array_equal(restored[known_mask() == 0], original[known_mask() == 0])
        np.testing.assert_allclose(ijk_to_ras(output.GetNthDataNode(n)), oblique_ijk_to_ras(), atol=1e-9)
        assert np.all(original[known_mask() != 0] == 0)  # the input sequence is untouched
    defects = output.GetNodeReference("MedRestoreDefects")
    assert defects.GetName() == "series defects" and defects.GetNumberOfDataNodes() == 3
    assert defects.GetNthDataNode(1).IsA("vtkMRMLLabelMapVolumeNode")
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(defects.GetNthDataNode(1)), known_mask())
    columns, rows = table_rows(output.GetNodeReference("MedRestoreReport"))
    assert columns[0] == "frame" and len(rows) == 3 * len(REPORT_NAMES)
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert max(f for f in fractions if f < 1.0) > 2 / 3  # progress spans all frames


def test_mask_on_another_grid_is_an_input_error(mrml_scene):
    node = damaged_node(mrml_scene)
    other = add_volume(mrml_scene, "small mask", np.ones((12, 48, 48), np.uint8),
                       class_name="vtkMRMLLabelMapVolumeNode")
    shifted = add_volume(mrml_scene, "shifted mask", known_mask(), oblique_ijk_to_ras((0.0, 0.0, 0.0)),
                         class_name="vtkMRMLLabelMapVolumeNode")
    before, count = snapshot(node), mrml_scene.GetNumberOfNodes()
    for mask_node in (other, shifted):
        with pytest.raises(InputError, match="another grid"):
            MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST), knownMaskNode=mask_node)
        assert mrml_scene.GetNumberOfNodes() == count
    assert_unchanged(node, before)


def test_cancel_removes_everything(mrml_scene):
    node = damaged_node(mrml_scene)
    before, count = snapshot(node), mrml_scene.GetNumberOfNodes()
    with pytest.raises(Cancelled):
        MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST), cancel=lambda: True)
    assert mrml_scene.GetNumberOfNodes() == count
    assert_unchanged(node, before)


def test_failure_after_nodes_were_added_removes_them(mrml_scene):
    node = damaged_node(mrml_scene)
    count = mrml_scene.GetNumberOfNodes()
    counts_at_failure = []

    class FailingLogic(MedRestoreLogic):
        """Fails at the last step, after every output node exists."""

        def _writeVolumeOutputs(self, scene, *args):
            super()._writeVolumeOutputs(scene, *args)
            counts_at_failure.append(scene.GetNumberOfNodes())
            raise RuntimeError("late failure")

    with pytest.raises(RuntimeError, match="late failure"):
        FailingLogic().restore(node, RestoreOptions.from_dict(FAST))  # blind: probability too
    # table, segmentation, probability, output (+ display nodes) had been added
    assert counts_at_failure == [count + 7]
    assert mrml_scene.GetNumberOfNodes() == count


def test_rgb_and_label_inputs_are_input_errors(mrml_scene):
    rgb = mrml_scene.AddNewNodeByClass("vtkMRMLVectorVolumeNode", "colour photo")
    slicer.util.updateVolumeFromArray(rgb, np.zeros((4, 8, 8, 3), np.uint8))
    label = add_volume(mrml_scene, "labels", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    count = mrml_scene.GetNumberOfNodes()
    for bad, message in ((rgb, "RGB"), (label, "not a scalar volume")):
        with pytest.raises(InputError, match=message):
            MedRestoreLogic().restore(bad)
        assert mrml_scene.GetNumberOfNodes() == count
    with pytest.raises(InputError):
        MedRestoreLogic().restore(None)


def test_given_output_node_is_overwritten_and_returned(mrml_scene):
    node = damaged_node(mrml_scene)
    target = add_volume(mrml_scene, "my result", np.zeros((2, 3, 4), np.float32), np.eye(4))
    mask_node = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    output = MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST), knownMaskNode=mask_node,
                                       outputNode=target)
    assert output is target and output.GetName() == "my result"
    restored = slicer.util.arrayFromVolume(output)
    assert restored.shape == SHAPE and restored.dtype == np.int16
    np.testing.assert_allclose(ijk_to_ras(output), oblique_ijk_to_ras(), atol=1e-9)
    assert mrml_scene.GetFirstNodeByName("phantom restored") is None
    with pytest.raises(InputError):
        MedRestoreLogic().restore(node, outputNode=node)


def count_nodes(scene, class_name):
    return scene.GetNodesByClass(class_name).GetNumberOfItems()


def test_a_rerun_into_the_same_output_leaves_no_orphaned_results(mrml_scene):
    node = damaged_node(mrml_scene)
    logic = MedRestoreLogic()
    blind = RestoreOptions.from_dict(dict(FAST, detect={"method": "median-mad"}))
    output = logic.restore(node, blind)
    counts = {name: count_nodes(mrml_scene, name) for name in
              ("vtkMRMLSegmentationNode", "vtkMRMLTableNode", "vtkMRMLScalarVolumeNode")}
    first_defects = output.GetNodeReference(DEFECTS_REFERENCE)
    assert output.GetNodeReference(PROBABILITY_REFERENCE) is not None
    for _ in range(2):  # Apply again with the output selected
        logic.restore(node, blind, outputNode=output)
    assert {name: count_nodes(mrml_scene, name) for name in counts} == counts
    assert first_defects.GetScene() is None  # replaced, not orphaned
    for role in (DEFECTS_REFERENCE, PROBABILITY_REFERENCE, REPORT_REFERENCE):
        assert output.GetNodeReference(role).GetScene() is mrml_scene, role
    # A known-mask run replaces the probability map too (it has none), and a mask that is the
    # previous result's own defects segmentation is the user's input now: it stays.
    mask = output.GetNodeReference(DEFECTS_REFERENCE)
    logic.restore(node, RestoreOptions.from_dict(FAST), knownMaskNode=mask, outputNode=output)
    assert mask.GetScene() is mrml_scene
    assert output.GetNodeReference(PROBABILITY_REFERENCE) is None
    assert count_nodes(mrml_scene, "vtkMRMLScalarVolumeNode") == counts["vtkMRMLScalarVolumeNode"] - 1
    assert count_nodes(mrml_scene, "vtkMRMLSegmentationNode") == 2  # the kept mask and the new defects


def test_given_output_node_untouched_on_failure(mrml_scene):
    node = damaged_node(mrml_scene)
    target = add_volume(mrml_scene, "my result", np.zeros((2, 3, 4), np.float32), np.eye(4))
    before = snapshot(target)
    with pytest.raises(Cancelled):
        MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST), outputNode=target,
                                  cancel=lambda: True)
    assert_unchanged(target, before)


def test_default_options_and_nrrd_round_trip_through_storage_node(mrml_scene, tmp_path):
    node = damaged_node(mrml_scene)
    mask_node = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    output = MedRestoreLogic().restore(node, knownMaskNode=mask_node)  # default RestoreOptions
    storage = mrml_scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
    path = tmp_path / "restored.nrrd"
    storage.SetFileName(str(path))
    assert storage.WriteData(output)
    written = read_volume(path)
    np.testing.assert_allclose(written.ijk_to_ras, oblique_ijk_to_ras(), atol=1e-5)
    np.testing.assert_array_equal(written.array, slicer.util.arrayFromVolume(output))
    assert written.array.dtype == np.int16
