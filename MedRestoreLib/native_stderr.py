"""Keep what native libraries print on their own off the user's terminal.

Some C/C++ readers and writers print to the process's standard error directly, beside the
error they report (or instead of one): MetaIO's "M_ReadElementsData: data not read completely",
niftilib's "** ERROR: NWAD: wrote only ... bytes" on a full disk. The command line promises one
line on stderr per error, so those calls run with file descriptor 2 sent to a temporary file; the
caller turns a failure into its own message and may use the captured text for it.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Iterator, List


@contextlib.contextmanager
def captured_native_stderr() -> Iterator[List[str]]:
    """``with captured_native_stderr() as printed:`` — after the block, ``printed`` holds what
    was written to file descriptor 2 inside it (one string), and nothing of it reached stderr.

    Where descriptor 2 cannot be redirected (no such descriptor, as in some embedded
    interpreters), the block runs unchanged and ``printed`` stays empty.
    """
    printed: List[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield printed
        return
    with tempfile.TemporaryFile() as buffer:
        os.dup2(buffer.fileno(), 2)
        try:
            yield printed
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            buffer.seek(0)
            printed.append(buffer.read(1 << 16).decode("utf-8", "replace"))
