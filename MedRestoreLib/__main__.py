"""``python -m MedRestoreLib`` and the ``medrestore`` program: the command line, with Ctrl+C and
SIGTERM taken from its first instant.

Until the command line installs its own handlers (``cli/termination.py``), nothing can have been
written: a stop request then ends the program quietly with status 130, instead of a
KeyboardInterrupt traceback from inside an import (SIGINT) or a bare "killed by SIGTERM".
"""
import os
import signal
import sys


def _stopped_before_start(signum, frame):
    os.write(2, b"medrestore: interrupted; nothing was written\n")
    os._exit(130)


def run() -> None:
    """The program's entry point (``medrestore`` and ``python -m MedRestoreLib``)."""
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), _stopped_before_start)
    from .cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
