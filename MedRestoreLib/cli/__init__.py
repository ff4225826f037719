"""The ``medrestore`` command line (also ``python -m MedRestoreLib``).

Exit status: 0 done; 2 bad input or usage, or a file that cannot be read or written (one line on
stderr, nothing written); 3 ``batch`` only: some inputs failed; 130 interrupted (nothing written);
1 a bug (with its traceback, so it can be reported). Every message a user reads leaves through
:func:`main`, made one line here.
"""
from __future__ import annotations

import contextlib
import os
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
    """Run the CLI; returns the exit status.

    Args:
        argv: the arguments; None = the program's own (``medrestore``, ``python -m MedRestoreLib``),
            which also leaves stop requests ignored once the outcome is decided, until the exit.
    """
    program = argv is None
    status = _main(argv, program)
    if program and status == ExitStatus.INTERRUPTED:
        # CPython remembers a KeyboardInterrupt that passed through C code it ran (an import,
        # say) even when it was caught, and then ends the process by SIGINT at exit instead of
        # with 130: end here, with the status the panel and scripts read.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(status))
    return status


def _main(argv: Optional[List[str]], program: bool) -> int:
    from .termination import interrupt_on_termination

    # SIGTERM (the panel's Cancel) stops like Ctrl+C, from the first moment of the run.
    with interrupt_on_termination(restore=not program) as termination:
        try:
            args = build_parser().parse_args(argv)
        except InputError as error:
            termination.settle()
            print(one_line(f"medrestore: error: {str(error).replace('medrestore: ', '', 1)}"), file=sys.stderr)
            return ExitStatus.BAD_INPUT
        except KeyboardInterrupt:
            termination.settle()
            print("medrestore: interrupted; nothing was written", file=sys.stderr)
            return ExitStatus.INTERRUPTED
        try:
            return _run(args, termination)
        except KeyboardInterrupt:  # a stop in the instant between the work's end and settle()
            termination.settle()
            print(f"medrestore {args.command}: interrupted; nothing was written", file=sys.stderr)
            return ExitStatus.INTERRUPTED


def _run(args, termination) -> int:
    from .termination import OutputGuard

    status, message = ExitStatus.OK, ""
    progress = None
    outputs = OutputGuard(getattr(args, name, None) for name in OUTPUT_ARGUMENTS)
    try:
        progress = progress_reporter(args)
        # Commands with named outputs write them together at the end: a failed run changes no file,
        # and once the outputs start moving into place a stop request only gets noted.
        together = (lambda: committed_together(termination.settled)) if outputs.paths else contextlib.nullcontext
        with together():
            outcome = COMMANDS[args.command](args, progress)
        if outcome is not None:  # batch: (3, its summary line) when some inputs failed
            status, message = outcome
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
        termination.settle()
        if hasattr(progress, "finish"):
            progress.finish(ExitStatus.BUG, one_line(f"medrestore {args.command}: {type(error).__name__}: {error}"))
        raise
    termination.settle()  # the outcome is decided: a stop request from now on changes nothing
    if status != ExitStatus.OK:
        outputs.remove_written()  # a rename that failed half-way through the commit
    if progress is not None:
        progress.close()
    message = one_line(message)
    if message:
        print(message, file=sys.stderr)
    if hasattr(progress, "finish"):
        progress.finish(status, message)
    return int(status)
