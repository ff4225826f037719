"""Progress on the command line: a text bar (tqdm) on a terminal, JSON lines for the panel, or nothing."""
from __future__ import annotations

import sys
from typing import Optional

PROGRESS_STYLES = ("auto", "bar", "json", "none")
_STEPS = 1000  # the bar counts thousandths of the work: fractions arrive as floats in [0, 1]


class ProgressBar:
    """A one-line text progress bar on stderr (tqdm: percentage, the current step, elapsed and
    remaining time), drawn only when stderr is a terminal unless ``enabled`` says otherwise.

    Args:
        stream: where the bar goes (stderr by default).
        enabled: True/False to force it; None = only when ``stream`` is a terminal.
    """

    def __init__(self, stream=None, enabled: Optional[bool] = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._bar = None

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        done = int(round(min(max(fraction, 0.0), 1.0) * _STEPS))
        if self._bar is None:  # created at the first report, so that it starts where the work is
            from tqdm import tqdm

            self._bar = tqdm(total=_STEPS, initial=done, file=self.stream, leave=True, dynamic_ncols=True,
                             desc=message[:40], bar_format="{percentage:5.1f}%|{bar}| {desc} [{elapsed}<{remaining}]")
            return
        self._bar.set_description_str(message[:40], refresh=False)
        self._bar.update(done - self._bar.n)  # tqdm redraws at most every 0.1 s

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_reporter(args):
    """The progress callback the command line asks for (a text bar, JSON lines, or nothing)."""
    style = "none" if getattr(args, "quiet", False) else getattr(args, "progress", "auto")
    if style == "json":
        from ..progress_protocol import JsonProgress

        return JsonProgress(args.command)
    return ProgressBar(enabled={"auto": None, "bar": True, "none": False}[style])
