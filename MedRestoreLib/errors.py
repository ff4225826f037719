"""Exceptions and exit statuses shared by the engine, the CLI and the Slicer logic."""
from enum import IntEnum


class InputError(ValueError):
    """Bad input or usage: the CLI prints the message on one line and exits with status 2."""


class Cancelled(RuntimeError):
    """Raised inside long work when the caller's ``cancel()`` returns True."""


class ExitStatus(IntEnum):
    """Exit status of every ``medrestore`` command (DESIGN.md): the one list the CLI, the
    panel's background runs and ``batch`` share."""

    OK = 0
    BUG = 1
    BAD_INPUT = 2
    SOME_FAILED = 3  # batch: some inputs failed, the others were written
    INTERRUPTED = 130  # SIGTERM / Ctrl+C; nothing was written
