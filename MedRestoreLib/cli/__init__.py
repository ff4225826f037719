"""The ``medrestore`` command line (also ``python -m MedRestoreLib``).

Exit status: 0 done; 2 bad input or usage, or a file that cannot be read or written (one line on
stderr, nothing written); 130 interrupted (nothing written); 1 a bug (with its traceback, so it
can be reported). Every message a user reads leaves through :func:`main`, made one line here.
"""
from __future__ import annotations

import contextlib
import sys
from typing import List, Optional

from ..errors import Cancelled, ExitStatus, InputError, one_line
from ..output_files import committed_together, describe_os_error
from .commands import COMMANDS
from .output_checks import OUTPUT_ARGUMENTS
from .parser import build_parser
from .progress_bar import progress_reporter

__all__ = ["main", "build_parser", "COMMANDS"]


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except InputError as error:
        print(one_line(f"medrestore: error: {str(error).replace('medrestore: ', '', 1)}"), file=sys.stderr)
        return ExitStatus.BAD_INPUT
    from .termination import OutputGuard, interrupt_on_termination

    progress = progress_reporter(args)
    outputs = OutputGuard(getattr(args, name, None) for name in OUTPUT_ARGUMENTS)
    status, message = ExitStatus.OK, ""
    # Commands with named outputs write them together at the end: a failed run changes no file.
    together = committed_together if outputs.paths else contextlib.nullcontext
    try:
        with interrupt_on_termination(), together():  # SIGTERM (the panel's Cancel) stops like Ctrl+C
            COMMANDS[args.command](args, progress)
    except InputError as error:
        status, message = ExitStatus.BAD_INPUT, f"medrestore {args.command}: error: {error}"
    except OSError as error:  # a file that cannot be read or written: the system's reason, no traceback
        where = f"{error.filename}: " if error.filename else ""
        status, message = ExitStatus.BAD_INPUT, \
            f"medrestore {args.command}: error: {where}{describe_os_error(error)}"
    except MemoryError:
        status, message = ExitStatus.BAD_INPUT, \
            f"medrestore {args.command}: error: not enough memory for this input on this computer"
    except (Cancelled, KeyboardInterrupt):
        status, message = ExitStatus.INTERRUPTED, f"medrestore {args.command}: interrupted; nothing was written"
    except Exception as error:
        # A bug: the traceback goes to stderr as usual; the JSON reader still gets its last line.
        if hasattr(progress, "finish"):
            progress.finish(ExitStatus.BUG, one_line(f"medrestore {args.command}: {type(error).__name__}: {error}"))
        raise
    if status == ExitStatus.INTERRUPTED or status == ExitStatus.BAD_INPUT:
        outputs.remove_written()  # a run that failed after writing some outputs leaves none
    progress.close()
    message = one_line(message)
    if message:
        print(message, file=sys.stderr)
    if hasattr(progress, "finish"):
        progress.finish(status, message)
    return int(status)
