"""Progress on the command line: a text bar on a terminal, JSON lines for the panel, or nothing."""
from __future__ import annotations

import sys
from typing import Optional

PROGRESS_STYLES = ("auto", "bar", "json", "none")


class ProgressBar:
    """A one-line text progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream=None, enabled: Optional[bool] = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.width = width
        self._last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        filled = int(round(self.width * fraction))
        line = f"\r[{'#' * filled}{' ' * (self.width - filled)}] {100 * fraction:5.1f}% {message[:40]:<40}"
        if line != self._last:
            self.stream.write(line)
            self.stream.flush()
            self._last = line

    def close(self) -> None:
        """End the bar's line (once: closing again writes nothing)."""
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()
            self._last = ""


def progress_reporter(args):
    """The progress callback the command line asks for (a text bar, JSON lines, or nothing)."""
    style = "none" if getattr(args, "quiet", False) else getattr(args, "progress", "auto")
    if style == "json":
        from ..progress_protocol import JsonProgress

        return JsonProgress(args.command)
    return ProgressBar(enabled={"auto": None, "bar": True, "none": False}[style])
