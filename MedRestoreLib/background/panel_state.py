"""The module panel's busy state: what Apply does and which buttons are enabled, without Qt.

The panel is busy from the moment Apply starts installing dependencies until its run has ended.
Inside Slicer the install runs pip with ``slicer.util.pip_install``, which keeps calling
``processEvents()`` while pip works (minutes for torch): without a busy state a second click
there started a second install of the same packages. Here a click while busy does nothing,
Apply is disabled while installing and reads "Cancel" while a run can be cancelled.

Example (what ``MedRestoreGui.RunPanel`` does):
    >>> state = PanelState()
    >>> state.click()                      # Apply pressed
    <Click.START: 'start'>
    >>> state.begin_install(); state.buttons(True, False, False).apply_enabled
    False
    >>> state.end_install(); state.begin_run(); state.buttons(True, False, False).apply_text
    'Cancel'
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Phase(str, Enum):
    IDLE = "idle"
    INSTALLING = "installing"  # dependencies are being checked or installed (pip, PyTorch)
    RUNNING = "running"  # the CLI child works; Apply reads "Cancel"
    CANCELLING = "cancelling"  # Cancel pressed; waiting for the child's process tree to end


class Click(str, Enum):
    START = "start"  # start a run
    CANCEL = "cancel"  # cancel the running one
    IGNORE = "ignore"  # busy in a way a click cannot change (installing, already cancelling)


@dataclass(frozen=True)
class Buttons:
    """What the panel's buttons show."""

    apply_text: str
    apply_enabled: bool
    impute_slices_enabled: bool
    impute_sequence_enabled: bool


class PanelState:
    """One run at a time, and nothing started while dependencies install."""

    def __init__(self):
        self.phase = Phase.IDLE

    @property
    def busy(self) -> bool:
        return self.phase != Phase.IDLE

    def click(self) -> Click:
        """What a click on Apply means now."""
        if self.phase == Phase.IDLE:
            return Click.START
        if self.phase == Phase.RUNNING:
            return Click.CANCEL
        return Click.IGNORE

    def begin_install(self) -> bool:
        """Enter the install phase; False (and no change) when the panel is already busy."""
        if self.busy:
            return False
        self.phase = Phase.INSTALLING
        return True

    def end_install(self) -> None:
        """Dependencies are there (or the install failed): idle again, ready to run."""
        if self.phase == Phase.INSTALLING:
            self.phase = Phase.IDLE

    def begin_run(self) -> None:
        """The child process has started."""
        self.phase = Phase.RUNNING

    def cancel(self) -> bool:
        """Cancel pressed: True when there was a run to cancel."""
        if self.phase != Phase.RUNNING:
            return False
        self.phase = Phase.CANCELLING
        return True

    def end_run(self) -> None:
        """The child has ended (finished, failed, cancelled or failed to start)."""
        self.phase = Phase.IDLE

    def buttons(self, has_input: bool, has_slices_input: bool, has_sequence_input: bool) -> Buttons:
        """The buttons for the panel's current inputs (a node chosen in each section or not)."""
        running = self.phase in (Phase.RUNNING, Phase.CANCELLING)
        return Buttons(
            apply_text="Cancel" if running else "Apply",
            apply_enabled=self.phase == Phase.RUNNING or (self.phase == Phase.IDLE and has_input),
            impute_slices_enabled=not self.busy and has_slices_input,
            impute_sequence_enabled=not self.busy and has_sequence_input,
        )
