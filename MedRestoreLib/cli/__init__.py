"""The ``medrestore`` command line (also ``python -m MedRestoreLib``).

Exit status: 0 done; 2 bad input or usage, with one line on stderr and nothing written; 1 a bug
(with its traceback, so it can be reported); 3 ``batch`` only: some inputs failed; 130 interrupted.
"""
from __future__ import annotations

import sys
from typing import List, Optional

from ..errors import Cancelled, ExitStatus, InputError
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
        print(f"medrestore: error: {str(error).replace('medrestore: ', '', 1)}", file=sys.stderr)
        return ExitStatus.BAD_INPUT
    from .termination import OutputGuard, interrupt_on_termination

    progress = progress_reporter(args)
    outputs = OutputGuard(getattr(args, name, None) for name in OUTPUT_ARGUMENTS)
    status, message = ExitStatus.OK, ""
    try:
        with interrupt_on_termination():  # SIGTERM (the panel's Cancel) stops like Ctrl+C
            outcome = COMMANDS[args.command](args, progress)
        if outcome is not None:
            status, message = outcome
    except InputError as error:
        status, message = ExitStatus.BAD_INPUT, f"medrestore {args.command}: error: {error}"
    except (Cancelled, KeyboardInterrupt):
        outputs.remove_written()
        status, message = ExitStatus.INTERRUPTED, f"medrestore {args.command}: interrupted; nothing was written"
    except Exception as error:
        # A bug: the traceback goes to stderr as usual; the JSON reader still gets its last line.
        if hasattr(progress, "finish"):
            progress.finish(ExitStatus.BUG, f"medrestore {args.command}: {type(error).__name__}: {error}")
        raise
    progress.close()
    if message:
        print(message, file=sys.stderr)
    if hasattr(progress, "finish"):
        progress.finish(status, message)
    return int(status)
