"""What every fuzz and fault test shares: running the command line (in this process, or as a
child process the way the panel and scripts do), the state of a folder, and the invariants a
failed or successful run must keep.

The invariants (issue 14): a run ends with status 0, 2 (one line on stderr, naming the problem) or
130 (interrupted); never a traceback; on any failure no file in the folder is created, changed
or removed; an input file is never modified.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from MedRestoreLib.cli import main

# How many generated cases each test ran (the summary of `make fuzz` reports them).
CASES: Counter = Counter()
# Classical methods: quick, and the subject here is the plumbing around them, not their quality.
FAST = ["--detector", "median-mad", "--method", "biharmonic3d"]
LONG_RUN = "MEDRESTORE_FUZZ_SEED" in os.environ  # set by `make fuzz SEED=N` (Testing/fuzz/run.py)


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> List[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli(args: Sequence) -> Outcome:
    """``medrestore ARGS`` in this process (fast); stdout and stderr captured.

    Python warnings (numpy's overflow warnings, say) go to stderr as a real run prints them,
    instead of pytest's warning summary, so that the one-line rule sees them.
    """
    out, err = io.StringIO(), io.StringIO()
    with _native_stderr() as native, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main([str(a) for a in args])
    printed = "".join(f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught)
    return Outcome(int(status), out.getvalue(), printed + native[0] + err.getvalue())


@contextlib.contextmanager
def _native_stderr():
    """What native code writes to file descriptor 2 during the block (the harness's own copy of
    the idea in MedRestoreLib/native_stderr.py, so that the check does not trust the code it checks)."""
    printed = [""]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as buffer:
        os.dup2(buffer.fileno(), 2)
        try:
            yield printed
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            buffer.seek(0)
            printed[0] = buffer.read().decode("utf-8", "replace")


def run_cli_process(args: Sequence, timeout: float = 120) -> Outcome:
    """``python -m MedRestoreLib ARGS`` as a child process: what a user and the panel see,
    native libraries' own prints to stderr included."""
    completed = subprocess.run([sys.executable, "-m", "MedRestoreLib"] + [str(a) for a in args],
                               capture_output=True, text=True, timeout=timeout)
    return Outcome(completed.returncode, completed.stdout, completed.stderr)


def folder_state(folder: Path) -> Dict[str, Tuple[int, str]]:
    """Every file under ``folder`` (hidden ones included): relative path → (size, SHA-256)."""
    state = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            state[str(path.relative_to(folder))] = (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
    return state


def assert_clean_failure(outcome: Outcome, before: Dict, after: Dict, *, names: str = "") -> None:
    """Status 2, one line on stderr saying "error" (and naming ``names`` when given), no
    traceback, and the folder exactly as it was."""
    assert outcome.status == 2, (outcome.status, outcome.stderr)
    assert len(outcome.lines) == 1, outcome.stderr
    assert "error" in outcome.lines[0] and "Traceback" not in outcome.stderr, outcome.stderr
    if names:
        assert names in outcome.lines[0], outcome.lines[0]
    assert after == before, "a failed run must not create, change or remove any file"


def assert_allowed_ending(outcome: Outcome) -> None:
    """Any run: status 0 (stderr silent with --quiet) or a clean refusal (2, one line)."""
    assert outcome.status in (0, 2), (outcome.status, outcome.stderr)
    assert "Traceback" not in outcome.stderr, outcome.stderr
    if outcome.status == 0:
        assert outcome.lines == [], outcome.stderr
    else:
        assert len(outcome.lines) == 1 and "error" in outcome.lines[0], outcome.stderr
