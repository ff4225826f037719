"""Exceptions and exit statuses shared by the engine, the CLI and the Slicer logic, and the one
place where any error becomes the single line a user reads."""
import re
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


def one_line(message: str, limit: int = 500) -> str:
    """``message`` on one line: line breaks (a file name may hold them) and runs of blanks become
    single spaces, and very long messages are cut."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def library_reason(error: Exception) -> str:
    """The telling part of a library's error (SimpleITK/ITK, teem, matplotlib): its last line
    without the source location, object address and function name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    line = lines[-1]
    line = re.sub(r"^(\w+::)?(ITK |itk::|sitk::)?ERROR:\s*", "", line)
    line = re.sub(r"^\w+\(0x[0-9a-fA-F]+\):\s*", "", line)  # ITK: ClassName(0x1234):
    line = re.sub(r"^\[\w+\]\s*_?\w+:\s*", "", line)  # teem: [nrrd] _nrrdFunction:
    return one_line(line, 200) or type(error).__name__
