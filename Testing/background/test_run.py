"""Background runs for real: the CLI in a child process, its JSON progress lines, Cancel.

Each test starts ``python -m MedRestoreLib`` as Slicer's panel does (same command line, same
environment), reads what it prints and, for Cancel, ends its process tree mid-run.
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from MedRestoreLib.background.process_tree import descendants, is_running, stop_process_tree
from MedRestoreLib.background.run import (
    BackgroundRun,
    RunMonitor,
    child_environment,
    impute_sequence_arguments,
    impute_slices_arguments,
    restore_arguments,
)
from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import Volume, read_volume, write_volume
from Testing.phantoms import box_mask, head_phantom


def start(run: BackgroundRun, cwd):
    # cwd elsewhere than the source tree: MedRestoreLib must come from the child's PYTHONPATH.
    return subprocess.Popen(run.command(), env=run.environment(), cwd=cwd, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)


@pytest.fixture
def run(tmp_path):
    background = BackgroundRun.create("test", parent=str(tmp_path))
    yield background
    background.cleanup()


def test_a_run_reports_progress_then_finishes_with_its_output(run, tmp_path):
    clean = head_phantom()
    mask = box_mask(clean.shape, (6, 15, 15), (9, 21, 22))
    damaged = clean.array.copy()
    damaged[mask > 0] = 0
    write_volume(clean.with_array(damaged), run.path("input.nrrd"))
    write_volume(clean.with_array(mask), run.path("mask.nrrd"))
    run.arguments = restore_arguments(run.path("input.nrrd"), run.path("out.nrrd"), mask_path=run.path("mask.nrrd"),
                                      method="biharmonic2d", device="cpu", report=run.path("r.json"))
    monitor, events = RunMonitor(), []
    process = start(run, tmp_path)
    for line in process.stderr:
        events.append(monitor.feed(line))
    assert process.wait(timeout=60) == 0, monitor.full_log()
    fractions = [e.fraction for e in events if e is not None and not e.is_finished]
    assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert monitor.finished.status == 0 and monitor.error_message(0) == ""
    restored = read_volume(run.path("out.nrrd"))
    np.testing.assert_array_equal(restored.array[mask == 0], damaged[mask == 0])
    assert np.abs(restored.array[mask > 0].astype(float) - clean.array[mask > 0]).mean() < 100
    run.cleanup()
    assert not run.folder.exists()


def test_cancel_stops_the_child_within_two_seconds_and_leaves_no_output(run, tmp_path):
    from MedRestoreLib.defects import corrupt
    from MedRestoreLib.demo import SAMPLE

    damaged, _, _ = corrupt(read_volume(SAMPLE), "mixed", seed=0)
    write_volume(Volume(damaged.array[20:56].copy(), damaged.ijk_to_ras), run.path("input.nrrd"))  # quicker
    run.arguments = restore_arguments(run.path("input.nrrd"), run.path("out.nrrd"), device="cpu",
                                      prob_out=run.path("p.nrrd"), mask_out=run.path("m.nrrd"))
    monitor, started = RunMonitor(), time.monotonic()
    process = start(run, tmp_path)
    for line in process.stderr:
        event = monitor.feed(line)
        if event is not None and event.fraction >= 0.05:  # mid-run: the detector is working
            break
    assert 0.05 <= monitor.fraction < 1.0, monitor.full_log()
    asked = time.monotonic()
    assert stop_process_tree(process.pid, grace_s=1.5)
    for line in process.stderr:
        monitor.feed(line)
    status = process.wait(timeout=5)
    stopped_in = time.monotonic() - asked
    print(f"cancel at {monitor.fraction:.0%} ({monitor.stage}) after {asked - started:.1f} s: "
          f"stopped in {stopped_in:.2f} s")
    assert stopped_in < 2.0
    assert status == 130 and monitor.finished.status == 130
    assert "interrupted" in monitor.error_message(status)
    assert sorted(p.name for p in run.folder.iterdir()) == ["input.nrrd"]  # no output, no temp file


def test_bad_input_ends_with_one_clear_line(run, tmp_path):
    run.arguments = restore_arguments(run.path("missing.nrrd"), run.path("out.nrrd"), device="cpu")
    process = start(run, tmp_path)
    monitor = RunMonitor()
    for line in process.stderr:
        monitor.feed(line)
    status = process.wait(timeout=60)
    assert status == 2
    message = monitor.error_message(status)
    assert "missing.nrrd" in message and "\n" not in message and "Traceback" not in monitor.full_log()
    assert monitor.finished.status == 2 and monitor.finished.message == message  # the closing JSON line
    assert not run.path("out.nrrd").exists()


def test_every_command_takes_progress_json():
    from MedRestoreLib.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        if name == "train":  # passes its arguments on to the training module
            continue
        options = {option for action in parser._actions for option in action.option_strings}
        assert {"--progress", "--quiet", "--device"} <= options, name
        progress = next(a for a in parser._actions if "--progress" in a.option_strings)
        assert list(progress.choices) == ["auto", "bar", "json", "none"], name


def test_stop_process_tree_ends_a_grandchild_that_ignores_sigterm(tmp_path):
    grandchild = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "print('ready', flush=True); time.sleep(60)")
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; "
         f"p = subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(60)"])
    deadline = time.monotonic() + 10
    while not descendants(parent.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    members = [parent.pid] + descendants(parent.pid)
    assert len(members) == 2
    time.sleep(0.3)  # let the grandchild install its handler
    started = time.monotonic()
    assert stop_process_tree(parent.pid, grace_s=0.5)
    assert time.monotonic() - started < 2.0
    assert parent.wait(timeout=2) == -signal.SIGTERM
    assert not any(is_running(pid) for pid in members)


def test_child_environment_puts_the_engine_first_and_keeps_the_rest():
    environment = child_environment({"PYTHONPATH": "/somewhere", "HOME": "/home/x"})
    paths = environment["PYTHONPATH"].split(os.pathsep)
    assert paths[1:] == ["/somewhere"] and os.path.isdir(os.path.join(paths[0], "MedRestoreLib"))
    assert environment["HOME"] == "/home/x" and environment["PYTHONUNBUFFERED"] == "1"


def test_command_lines_follow_the_design():
    assert restore_arguments("in.nrrd", "out.nrrd", mask_path="m.nrrd", method="telea") == [
        "restore", "in.nrrd", "out.nrrd", "--mask", "m.nrrd", "--method", "telea",
        "--seed", "0", "--device", "auto", "--progress", "json"]
    assert impute_slices_arguments("a.nrrd", "b.nrrd", factor=3, model="cubic", device="cpu") == [
        "impute-slices", "a.nrrd", "b.nrrd", "--factor", "3", "--model", "cubic",
        "--device", "cpu", "--progress", "json"]
    assert impute_slices_arguments("a", "b", missing=[4, 7])[3:5] == ["--missing", "4,7"]
    assert impute_slices_arguments("a", "b", missing="auto")[3:5] == ["--missing", "auto"]
    assert impute_sequence_arguments("t.csv", "o.csv", model="srn", forecast=2) == [
        "impute-sequence", "t.csv", "o.csv", "--missing", "auto", "--model", "srn", "--forecast", "2",
        "--device", "auto", "--progress", "json"]


@pytest.mark.parametrize("call", [
    lambda: impute_slices_arguments("a", "b"),
    lambda: impute_slices_arguments("a", "b", factor=2, missing="auto"),
    lambda: impute_slices_arguments("a", "b", factor=1),
    lambda: impute_slices_arguments("a", "b", factor=2, model="unet"),
    lambda: impute_sequence_arguments("a", "b", model="cubic"),
    lambda: impute_sequence_arguments("a", "b", forecast=-1),
])
def test_impossible_requests_are_refused_before_any_run(call):
    with pytest.raises(InputError):
        call()


def test_monitor_keeps_log_text_and_the_error_line():
    monitor = RunMonitor(clock=iter(range(100)).__next__)
    monitor.feed("/usr/lib/python3/warnings.py: UserWarning: something\n")
    monitor.feed('{"event": "progress", "stage": "detect", "fraction": 0.4, "message": '
                 '"CUDA ran out of memory with tiles of 8 (x); retrying on the CPU"}\n')
    monitor.feed("medrestore restore: error: in.nrrd: no such file\n")
    assert monitor.fraction == 0.4 and monitor.stage == "detect"
    assert monitor.notices and "retrying on the CPU" in monitor.notices[0]
    assert monitor.error_message(2) == "medrestore restore: error: in.nrrd: no such file"
    assert "UserWarning" in monitor.full_log()


def test_a_child_that_never_started_is_reported_as_such():
    program = "/no/such/folder/PythonSlicer"
    with pytest.raises(OSError) as error:  # what Popen (or QProcess's FailedToStart) meets
        subprocess.Popen([program, "-m", "MedRestoreLib"])
    assert "crashed or was killed" in RunMonitor().error_message(-1)  # what the panel says without more
    monitor = RunMonitor()
    monitor.failed_to_start(program, error.value.strerror)
    assert monitor.error_message(-1) == f"could not start the worker process {program}: No such file or directory"
    assert monitor.start_error in monitor.full_log()


def test_torch_is_asked_for_only_by_runs_that_use_a_network():
    from MedRestoreLib.background.run import needs_torch

    assert needs_torch("restore")  # the defaults: LSTM detector, GAN fill
    assert needs_torch("restore", detector="median-mad")  # the GAN fill still needs it
    assert not needs_torch("restore", detector="median-mad", method="biharmonic3d")
    assert not needs_torch("restore", detector="lstm", method="telea", has_mask=True)
    assert needs_torch("restore", detector="dpd", method="telea")
    assert needs_torch("impute-slices") and not needs_torch("impute-slices", model="cubic")
    assert needs_torch("impute-sequence") and not needs_torch("impute-sequence", model="linear")
