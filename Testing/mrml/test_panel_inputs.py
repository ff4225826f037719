"""What the Slicer panel can be given, on a real MRML scene (slicer-core): odd nodes get a clear
message and leave no half-made node and no temporary folder; odd names go through; a node
deleted while its background run works, and a child killed from outside (as the system's
out-of-memory killer would), leave the scene as it was.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")

from MedRestoreLib.background.run import BackgroundRun, RunMonitor  # noqa: E402
from MedRestoreLib.errors import InputError  # noqa: E402
from MedRestoreLib.logic import MedRestoreLogic  # noqa: E402
from MedRestoreLib.mrml.node_files import prepare_impute_sequence, prepare_impute_slices, prepare_restore  # noqa: E402
from MedRestoreLib.options import RestoreOptions  # noqa: E402
from Testing.mrml.test_logic import FAST, add_volume, damaged_node, known_mask, phantom  # noqa: E402
from Testing.mrml.test_node_files import make_sequence, node_ids  # noqa: E402

ODD_NAMES = ["with spaces", "quotes ' and \"", "a\nnewline", "ñandú 脑 MRT", "$(touch pwned); rm -rf x", "-dash"]


def start(run):
    return subprocess.Popen(run.command(), env=run.environment(), stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)


def finish(run, process=None):
    process = process or start(run)
    monitor = RunMonitor()
    for line in process.stderr:
        monitor.feed(line)
    return process.wait(timeout=120), monitor


def empty_volume(scene):
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "no image data")
    node.CreateDefaultDisplayNodes()
    return node


def rgb_volume(scene):
    node = scene.AddNewNodeByClass("vtkMRMLVectorVolumeNode", "colour photo")
    slicer.util.updateVolumeFromArray(node, np.zeros((4, 8, 8, 3), np.uint8))
    return node


def four_d_volume(scene):
    # A 4-D volume as Slicer holds one without the Sequences module: frames as voxel components.
    import vtk
    from vtk.util import numpy_support

    image = vtk.vtkImageData()
    image.SetDimensions(8, 8, 4)
    frames = numpy_support.numpy_to_vtk(np.zeros((4 * 8 * 8, 12), np.int16), deep=True)
    image.GetPointData().SetScalars(frames)
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "dynamic series")
    node.SetAndObserveImageData(image)
    return node


def labelmap(scene):
    return add_volume(scene, "labels", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")


ODD_NODES = {"a volume without image data": (empty_volume, "no image data"),
             "an RGB volume": (rgb_volume, "RGB"),
             "a 4-D volume": (four_d_volume, "12 values per voxel"),
             "a label map": (labelmap, "label map")}


@pytest.mark.parametrize("case", sorted(ODD_NODES))
def test_odd_input_nodes_get_a_clear_message_and_change_nothing(case, mrml_scene, tmp_path):
    make, words = ODD_NODES[case]
    node = make(mrml_scene)
    runs = tmp_path / "runs"
    runs.mkdir()
    before = node_ids(mrml_scene)
    calls = {
        "logic.restore": lambda: MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST)),
        "logic.imputeSlices": lambda: MedRestoreLogic().imputeSlices(node),
        "panel restore": lambda: prepare_restore(MedRestoreLogic(), node, parent=str(runs)),
        "panel slices": lambda: prepare_impute_slices(node, factor=2, parent=str(runs)),
    }
    for name, call in calls.items():
        with pytest.raises(InputError) as refused:
            call()
        message = str(refused.value)
        assert words in message and "\n" not in message, (name, message)
        assert node_ids(mrml_scene) == before, name
        assert list(runs.iterdir()) == [], name


def test_an_odd_node_name_goes_through_a_background_run(mrml_scene, tmp_path):
    name = " ".join(ODD_NAMES)  # every oddity at once: one child run
    node = damaged_node(mrml_scene, name=name)
    mask = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    run = prepare_restore(MedRestoreLogic(), node, mask, method="neighbour-median", device="cpu")
    try:
        assert all(isinstance(part, str) for part in run.command())
        status, monitor = finish(run)
        assert status == 0, monitor.full_log()
        output = run.collect(run)
    finally:
        run.cleanup()
    assert output.GetName() == f"{name} restored"
    assert not (tmp_path / "pwned").exists() and not os.path.exists("pwned")


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_node_names_go_through_the_logic(name, mrml_scene):
    node = damaged_node(mrml_scene, name=name)
    mask = add_volume(mrml_scene, "mask", known_mask(), class_name="vtkMRMLLabelMapVolumeNode")
    output = MedRestoreLogic().restore(node, RestoreOptions.from_dict(FAST), knownMaskNode=mask)
    assert output.GetName() == f"{name} restored"
    assert output.GetNodeReference("MedRestoreReport").GetName() == f"{name} restore report"


def test_the_run_folder_is_private_and_its_path_passes_unchanged(mrml_scene, tmp_path):
    # A parent folder whose name a shell would misread: the child gets the paths as they are
    # (its command line is a list, never a shell string), and the run's folder is 0700.
    parent = tmp_path / "odd $(touch pwned); 'quoted' \"too\" ñ"
    parent.mkdir()
    run = prepare_impute_slices(add_volume(mrml_scene, "thick", phantom()), factor=2, model="linear",
                                device="cpu", parent=str(parent))
    try:
        assert (run.folder.stat().st_mode & 0o777) == 0o700
        assert isinstance(run.command(), list) and run.command()[1:3] == ["-m", "MedRestoreLib"]
        status, monitor = finish(run)
        assert status == 0, monitor.full_log()
        assert run.collect(run).GetName() == "thick slices imputed"
    finally:
        run.cleanup()
    assert not run.folder.exists() and not (tmp_path / "pwned").exists() and not os.path.exists("pwned")


@pytest.mark.parametrize("which", ["restore", "slices", "sequence"])
def test_a_node_deleted_during_its_run_adds_nothing(which, mrml_scene):
    if which == "restore":
        node = damaged_node(mrml_scene)
        run = prepare_restore(MedRestoreLogic(), node, method="neighbour-median", detector="median-mad", device="cpu")
    elif which == "slices":
        node = add_volume(mrml_scene, "thick", phantom())
        run = prepare_impute_slices(node, factor=2, model="linear", device="cpu")
    else:
        node = make_sequence(mrml_scene)
        run = prepare_impute_sequence(node, model="linear", missing=[1], device="cpu")
    try:
        process = start(run)
        mrml_scene.RemoveNode(node)  # the user deletes the input while the run works
        before = node_ids(mrml_scene)
        status, monitor = finish(run, process)
        assert status == 0, monitor.full_log()
        with pytest.raises(InputError, match="was removed from the scene"):
            run.collect(run)
        assert node_ids(mrml_scene) == before
    finally:
        run.cleanup()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_child_killed_by_the_system_is_reported_as_such_and_changes_nothing(mrml_scene):
    node = damaged_node(mrml_scene)
    run = prepare_restore(MedRestoreLogic(), node, device="cpu")  # the learned detector: a few seconds
    before = node_ids(mrml_scene)
    try:
        process = start(run)
        monitor = RunMonitor()
        for line in process.stderr:
            if monitor.feed(line) is not None:  # the first progress line: it is working
                break
        os.kill(process.pid, signal.SIGKILL)  # what the out-of-memory killer does
        status, monitor = finish(run, process)
        message = monitor.error_message(status)
        assert status == -signal.SIGKILL
        assert "killed by the system" in message and "out of memory" in message and "\n" not in message
        assert node_ids(mrml_scene) == before
    finally:
        run.cleanup()
    assert not run.folder.exists()


def test_the_panels_crash_status_is_reported_too():
    # Qt's QProcess gives -1 for a crash without the signal number (process_runner.py).
    message = RunMonitor().error_message(-1)
    assert "killed" in message or "crashed" in message


def test_background_run_folders_are_private(tmp_path):
    run = BackgroundRun.create(parent=str(tmp_path))
    try:
        assert (run.folder.stat().st_mode & 0o777) == 0o700
    finally:
        run.cleanup()
