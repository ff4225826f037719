"""A stopped CLI leaves no output: the signal handlers and the output guard, for real."""
import os
import signal
import sys
import time

import numpy as np
import pytest

from MedRestoreLib.cli.termination import OutputGuard, interrupt_on_termination
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
def test_ctrl_c_is_caught_even_when_the_parent_made_the_child_ignore_it():
    # A child started in the background by a shell inherits SIGINT ignored; the CLI sets its own
    # handler, so Ctrl+C (or a SIGINT from a runner) still stops it cleanly. The SIGTERM path,
    # the one the panel's Cancel takes, runs for real in test_background_run.py.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        caught = False
        with interrupt_on_termination():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                caught = True
        assert caught and signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_interrupted_cli_removes_what_it_wrote_and_exits_130(tmp_path):
    # In-process: the command is stopped right after it wrote its first output, as a signal
    # arriving between two writes would; the written file must go.
    from MedRestoreLib import cli

    source = tmp_path / "in.nrrd"
    write_volume(Volume(np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)), source)
    output, mask = tmp_path / "out.nrrd", tmp_path / "mask.nrrd"

    def stopped_after_first_write(args, progress):
        write_volume(read_volume(args.input), args.output)
        raise KeyboardInterrupt("signal 15")

    original = cli.COMMANDS["corrupt"]
    cli.COMMANDS["corrupt"] = stopped_after_first_write
    try:
        status = cli.main(["corrupt", str(source), str(output), str(mask), "--kind", "blob", "--quiet"])
    finally:
        cli.COMMANDS["corrupt"] = original
    assert status == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nrrd"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_once_settled_a_stop_request_is_only_noted():
    # From the final renames of a run's outputs on, a stop must not leave half of them renamed.
    with interrupt_on_termination() as termination:
        with termination.settled():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
        assert termination.noted == signal.SIGTERM
