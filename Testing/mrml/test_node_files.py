"""Background runs on a real MRML scene: nodes exported to a temporary folder, the real CLI run
in a child process, and results imported as new nodes only when it succeeded."""
from __future__ import annotations

import csv
import subprocess

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")

from MedRestoreLib.background.run import RunMonitor  # noqa: E402
from MedRestoreLib.cli import build_parser  # noqa: E402
from MedRestoreLib.errors import InputError  # noqa: E402
from MedRestoreLib.logic import DEFECTS_REFERENCE, REPORT_REFERENCE, MedRestoreLogic  # noqa: E402
from MedRestoreLib.mrml.node_files import (  # noqa: E402
    export_sequence,
    export_table,
    import_sequence,
    import_table,
    prepare_impute_sequence,
    prepare_impute_slices,
    prepare_restore,
)
from MedRestoreLib.options import RestoreOptions  # noqa: E402
from MedRestoreLib.volume import read_series, read_volume  # noqa: E402
from Testing.mrml.test_logic import add_volume, damaged_node, known_mask, phantom  # noqa: E402


def node_ids(scene):
    return {scene.GetNthNode(n).GetID() for n in range(scene.GetNumberOfNodes())}


def run_child(run):
    monitor = RunMonitor()
    completed = subprocess.run(run.command(), env=run.environment(), stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True, timeout=120)
    for line in completed.stderr.splitlines():
        monitor.feed(line)
    return completed.returncode, monitor


def cli_has(command):
    return command in build_parser()._subparsers._group_actions[0].choices


def test_background_restore_gives_the_same_nodes_as_the_logic(mrml_scene):
    logic = MedRestoreLogic()
    inputNode = damaged_node(mrml_scene)
    maskNode = add_volume(mrml_scene, "known", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    run = prepare_restore(logic, inputNode, maskNode, method="neighbour-median", device="cpu")
    try:
        before = node_ids(mrml_scene)
        assert run.path("input.nrrd").is_file() and run.path("known-mask.nrrd").is_file()
        status, monitor = run_child(run)
        assert status == 0, monitor.full_log()
        assert node_ids(mrml_scene) == before  # nothing enters the scene while it runs
        outputNode = run.collect(run)
    finally:
        run.cleanup()
    assert not run.folder.exists()
    expected = logic.restore(inputNode, RestoreOptions.from_dict({"fill": {"method": "neighbour-median"},
                                                                  "device": "cpu"}), knownMaskNode=maskNode)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(outputNode), slicer.util.arrayFromVolume(expected))
    assert outputNode.GetName() == "phantom restored"
    table = outputNode.GetNodeReference(REPORT_REFERENCE)
    assert table.GetNumberOfRows() == 8 and table.GetCellText(0, 1) == "given"
    assert outputNode.GetNodeReference(DEFECTS_REFERENCE).IsA("vtkMRMLSegmentationNode")
    matrix_in, matrix_out = (slicer.util.arrayFromVTKMatrix(_ijk(node)) for node in (inputNode, outputNode))
    np.testing.assert_allclose(matrix_out, matrix_in, atol=1e-5)


def _ijk(node):
    import vtk

    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return matrix


def test_a_failed_run_adds_no_node_and_leaves_no_folder(mrml_scene):
    logic = MedRestoreLogic()
    inputNode = damaged_node(mrml_scene)
    before = node_ids(mrml_scene)
    run = prepare_restore(logic, inputNode, device="cpu")
    run.arguments[run.arguments.index("--seed") + 1] = "-1"  # the CLI refuses it: status 2
    try:
        status, monitor = run_child(run)
    finally:
        run.cleanup()
    assert status == 2 and "seed" in monitor.error_message(status)
    assert node_ids(mrml_scene) == before and not run.folder.exists()


def test_refused_inputs_leave_no_folder(mrml_scene, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    labelmap = add_volume(mrml_scene, "labels", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    with pytest.raises(InputError):
        prepare_restore(MedRestoreLogic(), labelmap, parent=str(runs))
    with pytest.raises(InputError):
        prepare_impute_slices(add_volume(mrml_scene, "v", phantom()), parent=str(runs))  # no factor
    assert list(runs.iterdir()) == []


def test_impute_slices_run_exports_the_volume(mrml_scene):
    inputNode = add_volume(mrml_scene, "thick", phantom())
    run = prepare_impute_slices(inputNode, factor=2, model="linear", device="cpu")
    try:
        assert run.arguments[:5] == ["impute-slices", str(run.path("input.nrrd")), str(run.path("imputed.nrrd")),
                                     "--factor", "2"]
        np.testing.assert_array_equal(read_volume(run.path("input.nrrd")).array, phantom())
        if cli_has("impute-slices"):  # the command lands with the imputation work
            status, monitor = run_child(run)
            assert status == 0, monitor.full_log()
            output = run.collect(run)
            assert output.GetImageData().GetDimensions()[2] > inputNode.GetImageData().GetDimensions()[2]
            assert output.GetAttribute("MedRestore.model") == "linear"  # from the output's header
    finally:
        run.cleanup()


def make_sequence(scene, frames=3, times=None):
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", "series")
    sequence.SetIndexName("time")
    sequence.SetIndexUnit("s")
    for n in range(frames):
        item = slicer.vtkMRMLScalarVolumeNode()
        MedRestoreLogic.updateNodeFromVolume(item, _volume(phantom(n)))
        sequence.SetDataNodeAtValue(item, times[n] if times else str(10 * n))
    return sequence


def _volume(array):
    from MedRestoreLib.volume import Volume
    from Testing.mrml.test_logic import oblique_ijk_to_ras

    return Volume(array, oblique_ijk_to_ras())


def test_sequences_round_trip_through_a_4d_file(mrml_scene, tmp_path):
    sequence = make_sequence(mrml_scene)
    export_sequence(sequence, tmp_path / "s.nrrd")
    frames = read_series(tmp_path / "s.nrrd")
    assert len(frames) == 3
    np.testing.assert_array_equal(frames[2].array, phantom(2))
    imported = import_sequence(mrml_scene, tmp_path / "s.nrrd", "again", like=sequence)
    assert imported.GetNumberOfDataNodes() == 3 and imported.GetIndexName() == "time"
    assert [imported.GetNthIndexValue(n) for n in range(3)] == ["0", "10", "20"]
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(imported.GetNthDataNode(1)), phantom(1))
    browsers = mrml_scene.GetNodesByClass("vtkMRMLSequenceBrowserNode")
    assert browsers.GetNumberOfItems() == 1


def test_a_forecast_extends_the_index_by_its_median_step_as_the_engine_forecasts(mrml_scene, tmp_path):
    from MedRestoreLib.volume import write_series

    sequence = make_sequence(mrml_scene, frames=2)
    write_series([_volume(phantom(n)) for n in range(4)], tmp_path / "f.nrrd")
    imported = import_sequence(mrml_scene, tmp_path / "f.nrrd", "forecast", like=sequence)
    assert [imported.GetNthIndexValue(n) for n in range(4)] == ["0", "10", "20", "30"]
    irregular = make_sequence(mrml_scene, frames=3, times=("0", "1", "7"))  # steps 1 and 6: median 3.5
    write_series([_volume(phantom(n)) for n in range(5)], tmp_path / "g.nrrd")
    imported = import_sequence(mrml_scene, tmp_path / "g.nrrd", "forecast", like=irregular)
    assert [imported.GetNthIndexValue(n) for n in range(5)] == ["0", "1", "7", "10.5", "14"]


@pytest.mark.parametrize("model", ["linear", "lstm"])
def test_panel_and_console_give_the_same_frames_for_irregular_time_points(mrml_scene, model):
    # Visits at 0, 1, 3, 7, 8 with the third blank, and two forecast frames. The console path
    # (logic → engine) and the panel's (node files → the real CLI child → import) must agree.
    from MedRestoreLib.imputation.frames import impute_frames

    times = ("0", "1", "3", "7", "8")
    sequence = make_sequence(mrml_scene, frames=5, times=times)
    MedRestoreLogic.updateNodeFromVolume(sequence.GetNthDataNode(2), _volume(np.zeros_like(phantom(2))))
    console = MedRestoreLogic().imputeSequence(sequence, model=model, forecast=2)
    run = prepare_impute_sequence(sequence, model=model, forecast=2, device="cpu")
    try:
        assert "--times=0.0,1.0,3.0,7.0,8.0" in run.arguments
        status, monitor = run_child(run)
        assert status == 0, monitor.full_log()
        panel = run.collect(run)
    finally:
        run.cleanup()
    assert panel.GetNumberOfDataNodes() == console.GetNumberOfDataNodes() == 7
    values = [console.GetNthIndexValue(n) for n in range(7)]
    assert [panel.GetNthIndexValue(n) for n in range(7)] == values == list(times) + ["9.5", "11"]  # median step 1.5
    for n in range(7):
        np.testing.assert_array_equal(slicer.util.arrayFromVolume(panel.GetNthDataNode(n)),
                                      slicer.util.arrayFromVolume(console.GetNthDataNode(n)), err_msg=f"frame {n}")
    # The times matter: read as 0, 1, 2, 3, 4 (what the panel did before) the frames differ.
    frames = [MedRestoreLogic.volumeFromNode(sequence.GetNthDataNode(n)) for n in range(5)]
    evenly = impute_frames(frames, model, "auto", 2)
    assert not np.array_equal(evenly[2].array, slicer.util.arrayFromVolume(console.GetNthDataNode(2)))


def test_tables_round_trip_through_csv_with_blank_cells(mrml_scene, tmp_path):
    source = tmp_path / "visits.csv"
    source.write_text("ID,TIME,score\n1,0,10.5\n1,1,\n1,2,12.0\n")
    table = import_table(mrml_scene, source, "visits")
    assert table.GetNumberOfRows() == 3 and table.GetCellText(1, 2) == ""
    export_table(table, tmp_path / "again.csv")
    # MRML quotes every cell; any CSV reader (Python's csv, pandas) reads the same table back.
    rows = list(csv.reader((tmp_path / "again.csv").read_text().splitlines()))
    assert rows == [["ID", "TIME", "score"], ["1", "0", "10.5"], ["1", "1", ""], ["1", "2", "12.0"]]


def test_impute_sequence_run_takes_a_table_or_a_sequence(mrml_scene, tmp_path):
    source = tmp_path / "visits.csv"
    source.write_text("ID,TIME,score\n1,0,10.5\n1,1,\n1,2,12.0\n")
    table = import_table(mrml_scene, source, "visits")
    run = prepare_impute_sequence(table, model="linear", forecast=1, device="cpu")
    try:
        assert run.arguments[1].endswith("input.csv") and run.arguments[2].endswith("imputed.csv")
        assert run.arguments[3:9] == ["--missing", "auto", "--model", "linear", "--forecast", "1"]
        if cli_has("impute-sequence"):
            status, monitor = run_child(run)
            assert status == 0, monitor.full_log()
            imputed = run.collect(run)
            assert imputed.GetNumberOfRows() == 4 and imputed.GetCellText(1, 2) != ""
    finally:
        run.cleanup()
    run = prepare_impute_sequence(make_sequence(mrml_scene), model="lstm", device="cpu")
    try:
        assert len(read_series(run.path("input.nrrd"))) == 3
    finally:
        run.cleanup()


def test_impute_sequence_fills_a_blank_frame_of_a_sequence(mrml_scene):
    if not cli_has("impute-sequence"):
        pytest.skip("impute-sequence is not in the CLI yet")
    sequence = make_sequence(mrml_scene, frames=3)
    blank = sequence.GetNthDataNode(1)
    MedRestoreLogic.updateNodeFromVolume(blank, _volume(np.zeros_like(phantom(1))))
    run = prepare_impute_sequence(sequence, model="linear", device="cpu")
    try:
        status, monitor = run_child(run)
        assert status == 0, monitor.full_log()
        imputed = run.collect(run)
    finally:
        run.cleanup()
    assert imputed.GetNumberOfDataNodes() == 3 and imputed.GetName() == "series imputed"
    middle = slicer.util.arrayFromVolume(imputed.GetNthDataNode(1)).astype(float)
    expected = (phantom(0).astype(float) + phantom(2)) / 2
    assert np.abs(middle - expected).mean() < 0.05 * np.abs(expected).mean()
