"""A stopped CLI leaves no output: the signal handlers and the output guard, for real."""
import os
import signal
import subprocess
import sys
import time

import pytest

from MedRestoreLib.background_run import BackgroundRun, RunMonitor, restore_arguments
from MedRestoreLib.termination import OutputGuard, interrupt_on_termination
from MedRestoreLib.volume import Volume, read_volume, write_volume


def test_outputs_written_by_the_run_are_removed_and_others_kept(tmp_path):
    kept, replaced, new, never = (tmp_path / name for name in ("kept.nrrd", "replaced.nrrd", "new.nrrd", "never.nrrd"))
    kept.write_text("before the run")
    replaced.write_text("before the run")
    guard = OutputGuard([str(kept), str(replaced), str(new), str(never), None])
    new.write_text("written by the run")
    replacement = tmp_path / "tmp"
    replacement.write_text("written by the run")
    os.replace(replacement, replaced)  # how every output is written: atomically
    assert sorted(guard.remove_written()) == sorted([str(replaced), str(new)])
    assert kept.read_text() == "before the run"
    assert not replaced.exists() and not new.exists() and not never.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_raises_keyboard_interrupt_inside_and_not_after():
    previous = signal.getsignal(signal.SIGTERM)
    caught = False
    with interrupt_on_termination():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs before this ends
        except KeyboardInterrupt:
            caught = True
    assert caught and signal.getsignal(signal.SIGTERM) == previous


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_cli_with_status_130_and_no_output(tmp_path):
    from MedRestoreLib.defects import corrupt
    from MedRestoreLib.demo import SAMPLE

    run = BackgroundRun.create("sigint", parent=str(tmp_path))
    damaged, _, _ = corrupt(read_volume(SAMPLE), "mixed", seed=1)
    write_volume(Volume(damaged.array[20:56].copy(), damaged.ijk_to_ras), run.path("input.nrrd"))
    run.arguments = restore_arguments(run.path("input.nrrd"), run.path("out.nrrd"), device="cpu",
                                      report=run.path("r.json"))
    # A background child of a shell ignores SIGINT; the CLI sets its own handler anyway.
    process = subprocess.Popen(run.command(), env=run.environment(), stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    monitor = RunMonitor()
    for line in process.stderr:
        event = monitor.feed(line)
        if event is not None and event.fraction >= 0.05:
            break
    process.send_signal(signal.SIGINT)
    for line in process.stderr:
        monitor.feed(line)
    assert process.wait(timeout=10) == 130, monitor.full_log()
    assert sorted(p.name for p in run.folder.iterdir()) == ["input.nrrd"]
    run.cleanup()
