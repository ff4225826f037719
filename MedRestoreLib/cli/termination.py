"""Stopping the CLI cleanly when it is told to: SIGTERM/SIGINT end the work, and outputs that
the interrupted run had already written are removed, so a cancelled run leaves no output file.

Every output is written atomically (a temporary file in the target folder, then a rename, see
``output_files.write_atomically``), so no half-written file can appear, and the command line
renames a run's outputs only once it has succeeded (``output_files.committed_together``). A stop
in the short moment of those renames may still leave some renamed: :class:`OutputGuard` removes
the ones this run wrote and leaves files that were there before and were not yet replaced.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Dict, Iterable, Iterator, Optional, Tuple


def _interrupt(signum, frame):
    # KeyboardInterrupt, not Cancelled: Cancelled is a RuntimeError, and `except RuntimeError`
    # around a file write (volume.py) would turn a cancel into a "cannot be written" error.
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise KeyboardInterrupt in the main thread.

    SIGINT is set too because a child started from a non-interactive shell in the background
    inherits it ignored. Outside the main thread (where Python forbids handlers) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ["SIGTERM", "SIGINT"] + (["SIGBREAK"] if hasattr(signal, "SIGBREAK") else [])
    previous = {}
    for name in names:
        number = getattr(signal, name)
        previous[number] = signal.signal(number, _interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
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
