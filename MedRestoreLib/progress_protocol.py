"""The ``--progress json`` protocol: one JSON object per line on stderr, written by the CLI and
read by whoever runs it in a child process (the Slicer panel, the tests).

Both sides live here so they cannot drift apart. A line is either a progress step::

    {"event": "progress", "command": "restore", "stage": "LSTM scan along slices",
     "fraction": 0.42, "message": "LSTM scan along slices (frame 1/2)", "elapsed_s": 3.1}

or, once, the end of the run (``status`` is the exit status: 0 done, 1 bug, 2 bad input,
130 interrupted; ``message`` the one-line error for 1, 2 and 130)::

    {"event": "finished", "command": "restore", "status": 2, "message": "...", "elapsed_s": 3.2}

Anything else on the stream (warnings, a traceback) is log text; readers keep it for the log box.

Example:
    >>> event = parse_progress_line('{"event": "progress", "stage": "fill", "fraction": 0.5}')
    >>> event.fraction, event.stage
    (0.5, 'fill')
"""
from __future__ import annotations

import json
import math
import re
import sys
import time
from dataclasses import dataclass
from typing import Optional, TextIO

PROGRESS, FINISHED = "progress", "finished"
# A counter at the end of an engine message: "fill (frame 2/3)", "biharmonic 3-D, region 7/184".
_COUNTER_SUFFIX = re.compile(r"[,;:\s]*\(?\b[\w-]+ \d+/\d+\)?\s*$")


@dataclass
class ProgressEvent:
    """One parsed protocol line."""

    event: str
    fraction: float = 0.0
    stage: str = ""
    message: str = ""
    command: str = ""
    elapsed_s: float = 0.0
    status: Optional[int] = None

    @property
    def is_finished(self) -> bool:
        return self.event == FINISHED


def stage_of(message: str) -> str:
    """The step name of an engine message, without its counters: "fill, region 7/9 (frame 2/3)"
    → "fill"."""
    stage, previous = message.strip(), None
    while stage != previous:
        previous, stage = stage, _COUNTER_SUFFIX.sub("", stage)
    return stage or message.strip()


class JsonProgress:
    """``progress(fraction, message)`` callback writing protocol lines (the CLI's ``--progress json``).

    Steps are thinned out so a fine-grained loop does not flood the reader: a line is written when
    the stage changes, the fraction moves by ``min_step``, or ``min_interval_s`` has passed
    (a message that only counts regions or frames is not a new stage).
    """

    def __init__(self, command: str, stream: Optional[TextIO] = None, min_step: float = 0.01,
                 min_interval_s: float = 0.5, clock=time.monotonic):
        self.command = command
        self.stream = stream or sys.stderr
        self.min_step = min_step
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.started = clock()
        self._last = None  # (fraction, stage, time) of the last line written

    def _write(self, data: dict) -> None:
        data["elapsed_s"] = round(self.clock() - self.started, 3)
        self.stream.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.stream.flush()  # a pipe is block-buffered: without this the reader sees nothing

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        now, stage = self.clock(), stage_of(message)
        if self._last is not None:
            last_fraction, last_stage, last_time = self._last
            if stage == last_stage and fraction < 1.0 \
                    and fraction - last_fraction < self.min_step and now - last_time < self.min_interval_s:
                return
        self._last = (fraction, stage, now)
        self._write({"event": PROGRESS, "command": self.command, "stage": stage,
                     "fraction": round(fraction, 4), "message": message})

    def finish(self, status: int, message: str = "") -> None:
        """Write the closing line: exit status and, after a failure, the one-line reason."""
        self._write({"event": FINISHED, "command": self.command, "status": int(status),
                     "message": message})

    def close(self) -> None:
        """Nothing to tidy (the CLI's text bar needs a final newline; this does not)."""


def parse_progress_line(line: str) -> Optional[ProgressEvent]:
    """The event of one protocol line, or None for log text (not JSON, or not ours)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("event") not in (PROGRESS, FINISHED):
        return None
    try:
        fraction = float(data.get("fraction", 1.0 if data["event"] == FINISHED else 0.0))
        status = data.get("status")
        return ProgressEvent(
            event=data["event"], fraction=min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0,
            stage=str(data.get("stage", "")), message=str(data.get("message", "")),
            command=str(data.get("command", "")), elapsed_s=float(data.get("elapsed_s", 0.0)),
            status=None if status is None else int(status))
    except (TypeError, ValueError):
        return None


class TimeLeftEstimator:
    """Seconds left from (time, fraction) samples: the rate over the last ``window_s`` seconds.

    A recent window follows the run's speed as stages change (detection and filling run at
    different rates), while the first ``min_elapsed_s`` seconds give no estimate at all: a guess
    from one early step swings wildly and users learn to ignore it.
    """

    def __init__(self, window_s: float = 20.0, min_elapsed_s: float = 2.0, min_fraction: float = 0.02):
        self.window_s = window_s
        self.min_elapsed_s = min_elapsed_s
        self.min_fraction = min_fraction
        self._samples = []  # (time, fraction), fraction never decreasing

    def add(self, time_s: float, fraction: float) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self._samples and fraction < self._samples[-1][1]:
            fraction = self._samples[-1][1]  # a stage may restart its count; time only moves on
        self._samples.append((float(time_s), fraction))
        while len(self._samples) > 2 and self._samples[-1][0] - self._samples[1][0] >= self.window_s:
            self._samples.pop(0)

    def seconds_left(self) -> Optional[float]:
        """Estimated seconds to the end, or None while there is too little to go on."""
        if len(self._samples) < 2:
            return None
        (t0, f0), (t1, f1) = self._samples[0], self._samples[-1]
        if f1 >= 1.0:
            return 0.0
        if t1 - t0 < self.min_elapsed_s or f1 - f0 < self.min_fraction:
            return None
        return (1.0 - f1) * (t1 - t0) / (f1 - f0)


def format_seconds_left(seconds: Optional[float]) -> str:
    """ "about 40 s left", "about 3 min left", or "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, int(round(seconds)))} s left"
    return f"about {int(round(seconds / 60))} min left"
