"""The "Advanced" section's device line, asked of a child process so torch never loads in Slicer.

Importing torch in Slicer's process to ask about CUDA would create a CUDA context there: a few
hundred MB of GPU memory held for the rest of the session, and a frozen panel while torch loads.
``python -m MedRestoreLib.background.device_description --json`` runs in a child (the same
runner as a restore) and the label shows the summary it prints; until then it says that the
answer is on its way.
"""
from MedRestoreLib.background.device_description import summary_from_json

from .process_runner import ChildProcessRunner


class DevicesProbe:
    """Fills ``label`` with the devices torch sees, asked of a child process on each call."""

    def __init__(self, label):
        self.label = label
        self.lines = []
        self.runner = ChildProcessRunner(self.lines.append, self._onFinished, self._onStartFailed)
        self.startError = ""

    def describe(self):
        """Ask again (torch may have been installed since); returns at once."""
        from MedRestoreLib.background.run import child_environment, devices_command

        if self.runner.isRunning():
            return
        self.lines, self.startError = [], ""
        self.runner.lineCallback = self.lines.append
        self.label.text = "Asking torch which devices it sees..."
        self.runner.start(devices_command(), child_environment())

    def cancel(self):
        self.runner.cancel()

    def _onStartFailed(self, program, reason):
        self.startError = f"could not start {program}: {reason}"

    def _onFinished(self, exitCode):
        summary = summary_from_json(self.lines)
        if summary is None:
            detail = self.startError or (self.lines[-1] if self.lines else f"status {exitCode}")
            summary = f"Could not ask torch about devices ({detail})."
        self.label.text = summary
