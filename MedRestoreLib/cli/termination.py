"""Stopping the CLI cleanly when it is told to: SIGTERM/SIGINT end the work, and a stopped run
leaves no output file and every earlier version of its outputs as it was.

Every output is written whole into a temporary folder (``output_files.write_atomically``) and the
command line moves a run's outputs into place only once it has succeeded
(``output_files.committed_together``), with stop requests only noted from those renames on
(:meth:`Termination.settled`). :class:`OutputGuard` is the last net: after a failure it removes
outputs this run has replaced (a rename that failed half-way through a commit).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Dict, Iterable, Iterator, Optional, Tuple


class Termination:
    """What a SIGTERM/SIGINT does now: raise KeyboardInterrupt (while the work runs), or only be
    noted (while the outputs are moved into place, and once the outcome is decided), so that a
    stop can never leave half of a run's outputs renamed, nor a traceback after the work."""

    def __init__(self):
        self.raising = True
        self.noted: Optional[int] = None

    def handle(self, signum, frame):
        if not self.raising:
            self.noted = signum
            return
        # KeyboardInterrupt, not Cancelled: Cancelled is a RuntimeError, and `except RuntimeError`
        # around a file write would turn a cancel into a "cannot be written" error.
        raise KeyboardInterrupt(f"signal {signum}")

    def settle(self) -> None:
        """The outcome is decided: from now on a stop request changes nothing."""
        self.raising = False

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """:meth:`settle` on entering the block (for the final renames of a run's outputs)."""
        self.settle()
        yield


@contextlib.contextmanager
def interrupt_on_termination(restore: bool = True) -> Iterator[Termination]:
    """Within the block, SIGTERM and SIGINT raise KeyboardInterrupt in the main thread (see
    :class:`Termination` for the moments when they are only noted).

    SIGINT is set too because a child started from a non-interactive shell in the background
    inherits it ignored. Outside the main thread (where Python forbids handlers) nothing changes.

    Args:
        restore: give the previous handlers back after the block. The program itself passes
            False: its outcome is decided and printed, and a stop request during the interpreter's
            shut-down (a second or more with torch loaded) must not turn a finished run into one
            "killed by SIGTERM".
    """
    termination = Termination()
    if threading.current_thread() is not threading.main_thread():
        yield termination
        return
    names = ["SIGTERM", "SIGINT"] + (["SIGBREAK"] if hasattr(signal, "SIGBREAK") else [])
    previous = {}
    for name in names:
        number = getattr(signal, name)
        previous[number] = signal.signal(number, termination.handle)
    try:
        yield termination
    finally:
        for number, handler in previous.items():
            if not restore:
                handler = signal.SIG_IGN
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _identity(path: str) -> Optional[Tuple[int, int, int]]:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


class OutputGuard:
    """Remembers the output files as they were before a run; ``remove_written()`` removes the
    ones the run has since created or replaced (an atomic replace gives a new inode)."""

    def __init__(self, paths: Iterable[Optional[str]]):
        self._before: Dict[str, Optional[Tuple[int, int, int]]] = {
            str(path): _identity(str(path)) for path in paths if path}

    @property
    def paths(self) -> list:
        return list(self._before)

    def remove_written(self) -> list:
        removed = []
        for path, before in self._before.items():
            now = _identity(path)
            if now is not None and now != before and os.path.isfile(path):
                os.remove(path)
                removed.append(path)
        return removed
