"""MedRestoreLogic.imputeSlices / imputeSequence on a real MRML scene (slicer-core)."""
import numpy as np
import pytest

slicer = pytest.importorskip("slicer")
import vtk  # noqa: E402

from MedRestoreLib.errors import InputError  # noqa: E402
from MedRestoreLib.imputation.slices import SliceImputeOptions  # noqa: E402
from MedRestoreLib.logic import MedRestoreLogic  # noqa: E402
from MedRestoreLib.volume import Volume  # noqa: E402


def matrix(slice_spacing=4.0):
    result = np.diag([1.0, 1.2, slice_spacing, 1.0])
    result[:3, 3] = [-10.0, 5.0, 30.0]
    return result


def phantom(slices=8):
    k, j, i = np.meshgrid(*[np.linspace(-1, 1, n) for n in (slices, 20, 24)], indexing="ij")
    return (500 + 300 * np.cos(2 * i + k) * np.sin(2 * j + 1)).astype(np.int16)


def volume_node(scene, name, volume):
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    MedRestoreLogic.updateNodeFromVolume(node, volume)
    return node


def test_impute_slices_gives_a_new_thin_volume_node(mrml_scene):
    node = volume_node(mrml_scene, "thick", Volume(phantom(), matrix()))
    before = slicer.util.arrayFromVolume(node).copy()
    fractions = []
    output = MedRestoreLogic().imputeSlices(node, SliceImputeOptions(factor=4, model="srn", device="cpu"),
                                            progress=lambda f, m: fractions.append(f))
    assert output is not node and output.GetName() == "thick thin slices"
    array = slicer.util.arrayFromVolume(output)
    assert array.shape == (32, 20, 24) and array.dtype == np.int16
    ijk = vtk.vtkMatrix4x4()
    output.GetIJKToRASMatrix(ijk)
    result = slicer.util.arrayFromVTKMatrix(ijk)
    np.testing.assert_allclose(np.diag(result)[:3], [1.0, 1.2, 1.0])
    np.testing.assert_allclose(result[:3, 3], [-10.0, 5.0, 30.0 - 1.5])
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), before)
    assert fractions[-1] == pytest.approx(1.0)


def test_impute_sequence_fills_blank_frames_and_forecasts(mrml_scene):
    sequence = mrml_scene.AddNewNodeByClass("vtkMRMLSequenceNode", "series")
    sequence.SetIndexName("time")
    for t in range(5):
        frame = slicer.vtkMRMLScalarVolumeNode()
        array = (phantom(4) + 20 * t).astype(np.int16) if t != 2 else np.zeros((4, 20, 24), np.int16)
        MedRestoreLogic.updateNodeFromVolume(frame, Volume(array, matrix(2.0)))
        sequence.SetDataNodeAtValue(frame, str(2 * t))
    output = MedRestoreLogic().imputeSequence(sequence, model="linear", forecast=1)
    assert output.IsA("vtkMRMLSequenceNode") and output.GetNumberOfDataNodes() == 6
    assert output.GetNthIndexValue(5) == "10" and output.GetIndexName() == "time"
    filled = slicer.util.arrayFromVolume(output.GetNthDataNode(2))
    np.testing.assert_allclose(filled, phantom(4) + 40, atol=1)
    assert slicer.util.arrayFromVolume(sequence.GetNthDataNode(2)).max() == 0  # input untouched


def test_impute_sequence_on_a_table_node_adds_a_marked_table(mrml_scene):
    table = mrml_scene.AddNewNodeByClass("vtkMRMLTableNode", "visits")
    for name, values in (("ID", ["a", "a", "a", "b", "b"]), ("TIME", ["0", "1", "2", "0", "1"]),
                         ("MMSE", ["29", "", "25", "30", "28"])):
        array = vtk.vtkStringArray()
        array.SetName(name)
        for value in values:
            array.InsertNextValue(value)
        table.AddColumn(array)
    output = MedRestoreLogic().imputeSequence(table, model="lstm", forecast=1)
    vtk_table = output.GetTable()
    columns = [vtk_table.GetColumnName(c) for c in range(vtk_table.GetNumberOfColumns())]
    assert columns == ["ID", "TIME", "MMSE", "imputed"] and vtk_table.GetNumberOfRows() == 7
    assert vtk_table.GetValue(1, 3).ToString() == "MMSE" and vtk_table.GetValue(6, 3).ToString() == "forecast"
    assert 22 < vtk_table.GetValue(1, 2).ToDouble() < 31


def test_a_volume_node_is_not_a_sequence(mrml_scene):
    node = volume_node(mrml_scene, "single", Volume(phantom(), matrix()))
    with pytest.raises(InputError, match="single 3-D volume"):
        MedRestoreLogic().imputeSequence(node)


def test_auto_slices_and_tables_carry_their_choice_as_node_attributes(mrml_scene):
    import json

    node = volume_node(mrml_scene, "thick", Volume(phantom(8), matrix()))
    output = MedRestoreLogic().imputeSlices(node, SliceImputeOptions(factor=2, device="cpu", adapt_seconds=0))
    assert output.GetAttribute("MedRestore.model") == "auto"
    choice = json.loads(output.GetAttribute("MedRestore.auto"))
    assert choice["held_out_slices"] == 3 and set(choice["held_out_mse"]) >= {"linear", "cubic", "lstm"}
    table = mrml_scene.AddNewNodeByClass("vtkMRMLTableNode", "visits")
    for name, values in (("ID", ["a"] * 4 + ["b"] * 4), ("TIME", ["0", "1", "2", "3"] * 2),
                         ("MMSE", ["29", "", "25", "24", "30", "28", "", "27"])):
        array = vtk.vtkStringArray()
        array.SetName(name)
        for value in values:
            array.InsertNextValue(value)
        table.AddColumn(array)
    imputed = MedRestoreLogic().imputeSequence(table)
    assert set(json.loads(imputed.GetAttribute("MedRestore.auto"))["models"]["cell"]) == {"MMSE"}
