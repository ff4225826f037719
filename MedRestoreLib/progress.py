"""Progress reporting and cancellation shared by long-running work.

Long functions take ``progress(fraction, message)`` and ``cancel() -> bool`` callbacks (both
optional), as Slicer's logic and the CLI's progress bar need; no globals.
"""
from __future__ import annotations

from typing import Callable, Optional

from .errors import Cancelled

ProgressCallback = Callable[[float, str], None]
CancelCallback = Callable[[], bool]


class Steps:
    """Maps the sub-steps of one stage onto a [start, end] slice of the caller's progress.

    Example:
        >>> steps = Steps(progress, cancel, start=0.0, end=0.5)
        >>> steps.report(0.25, "detecting")   # calls progress(0.125, "detecting")
    """

    def __init__(self, progress: Optional[ProgressCallback] = None,
                 cancel: Optional[CancelCallback] = None, start: float = 0.0, end: float = 1.0):
        self.progress = progress
        self.cancel = cancel
        self.start = start
        self.end = end

    def report(self, fraction: float, message: str) -> None:
        """Report progress within this stage and raise :class:`Cancelled` if asked to stop."""
        self.check_cancel()
        if self.progress is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            # Rounded so nested stages cannot step back by a float's last bit (0.30000000000000004 → 0.3).
            self.progress(round(self.start + (self.end - self.start) * fraction, 9), message)

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("cancelled by the user")

    def sub(self, start: float, end: float) -> "Steps":
        """A stage covering [start, end] of this one."""
        span = self.end - self.start
        return Steps(self.progress, self.cancel, self.start + span * start, self.start + span * end)
