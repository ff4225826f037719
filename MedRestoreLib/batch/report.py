"""A batch's report: ``results.jsonl`` gets one line per input as its result arrives (so a crash
loses nothing already done), ``summary.csv`` one row per input at the end, in input order.

Columns: input, output (relative to the output folder), status (ok, failed, skipped: done by
an earlier run and kept by ``--resume``; not run: the batch was stopped first), reason (one
line, for failed), voxels_changed, seconds, worker, peak_memory_mb (the worker process's peak
so far).
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Dict, List

from .tasks import FAILED, OK, SKIPPED

COLUMNS = ("input", "output", "status", "reason", "voxels_changed", "seconds", "worker", "peak_memory_mb")
NOT_RUN = "not run"
RESULTS, SUMMARY = "results.jsonl", "summary.csv"


def _ends_with_newline(path: Path) -> bool:
    """True for an empty file or one whose last byte ends a line."""
    with open(path, "rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


class Report:
    """Collects the records of one batch run.

    Args:
        out_dir: the batch's output folder (exists).
        names: every input's output name, in input order.
        resume: keep ``results.jsonl`` and append to it; a skipped input's row takes its numbers
            from the last successful record of it there. Without it the file starts empty.
    """

    def __init__(self, out_dir: Path, names: List[str], resume: bool):
        self.results_path = Path(out_dir) / RESULTS
        self.summary_path = Path(out_dir) / SUMMARY
        self.names = list(names)
        self.previous = self._previous_successes() if resume else {}
        self.rows: Dict[str, Dict[str, Any]] = {}
        self._stream = open(self.results_path, "a" if resume else "w", encoding="utf-8")
        if resume and not _ends_with_newline(self.results_path):
            self._stream.write("\n")  # after a line cut by a crash, the next record starts on its own line

    def _previous_successes(self) -> Dict[str, Dict[str, Any]]:
        found = {}
        if self.results_path.exists():
            for line in self.results_path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:  # a line cut by a crash: that input is simply done again
                    continue
                if isinstance(record, dict) and record.get("status") == OK and "output" in record:
                    found[record["output"]] = record
        return found

    def add(self, record: Dict[str, Any]) -> None:
        """Append ``record`` to results.jsonl (flushed at once) and keep it for the summary."""
        if record["status"] == SKIPPED and record["output"] in self.previous:
            earlier = self.previous[record["output"]]
            record = dict(record, **{key: earlier.get(key) for key in ("voxels_changed", "worker", "peak_memory_mb")})
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._stream.flush()
        self.rows[record["output"]] = record

    @property
    def done(self) -> int:
        return sum(row["status"] in (OK, SKIPPED) for row in self.rows.values())

    @property
    def failed(self) -> int:
        return sum(row["status"] == FAILED for row in self.rows.values())

    @property
    def remaining(self) -> int:
        return len(self.names) - len(self.rows)

    def counts(self) -> str:
        """"3 done, 1 failed, 4 remaining": the progress bar's message."""
        return f"{self.done} done, {self.failed} failed, {self.remaining} remaining"

    def close(self, labels: Dict[str, str]) -> None:
        """Close results.jsonl and write summary.csv atomically; inputs without a record are
        rows with status "not run". ``labels`` maps output names to input labels."""
        self._stream.close()
        temporary = self.summary_path.with_name(f".{SUMMARY}.partial")
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for name in self.names:
                row = self.rows.get(name) or {"input": labels.get(name, ""), "output": name, "status": NOT_RUN}
                writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in COLUMNS})
        os.replace(temporary, self.summary_path)
