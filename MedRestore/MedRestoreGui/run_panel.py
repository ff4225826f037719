"""The panel's side of a background run: install what is missing, start the CLI child, show its
stage, progress and time left, turn Apply into Cancel, keep the full log, and add results only
when the run succeeded.

The work itself is the engine's: ``prepare()`` returns a ``MedRestoreLib.background.run.
BackgroundRun`` (inputs exported, command line built), ``RunMonitor`` reads its output, and
``run.collect(run)`` imports its outputs as nodes. What Apply does and which buttons are enabled
is ``MedRestoreLib.background.panel_state.PanelState`` (Qt-free, tested): the panel is busy
from the first install step to the run's end, so a click while pip works does nothing.
"""
import qt
import slicer

from MedRestoreLib.background.panel_state import PanelState

from .process_runner import ChildProcessRunner


class RunPanel:
    """One background run at a time, shown in the panel's progress bar, status label and log.

    Args:
        ui: the panel's widgets (progressBar, statusLabel, logTextEdit).
        requirementsPath: ``Resources/requirements.txt``, installed on first use.
        stateChanged: called whenever the busy state changes (the widget updates its buttons).
    """

    def __init__(self, ui, requirementsPath, stateChanged):
        self.ui = ui
        self.requirementsPath = requirementsPath
        self.stateChanged = stateChanged
        self.state = PanelState()
        self.runner = ChildProcessRunner(self._onLine, self._onFinished, self._onStartFailed)
        self.run = self.monitor = self.onSuccess = None
        self.timer = qt.QTimer()
        self.timer.setInterval(1000)  # the time left moves on between progress lines too
        self.timer.connect("timeout()", self._showProgress)

    def isRunning(self):
        return self.runner.isRunning()

    def start(self, prepare, onSuccess, needTorch=True):
        """Install what is missing, export the inputs, start the child; returns at once.
        Does nothing while the panel is busy (installing, running, cancelling)."""
        if not self.state.begin_install():
            return
        try:
            self.stateChanged()  # Apply disabled before pip starts processing events
            try:
                run = self._installAndPrepare(prepare, needTorch)
            finally:
                self.state.end_install()
            if run is not None:
                self._startChild(run, onSuccess)
        finally:
            self.stateChanged()

    def _installAndPrepare(self, prepare, needTorch):
        from MedRestoreLib.errors import InputError

        from .dependencies import DependencyError, ensureDependencies

        with slicer.util.tryWithErrorDisplay("MedRestore could not start.", waitCursor=True):
            try:
                self.ui.statusLabel.text = "Checking what MedRestore needs..."
                ensureDependencies(self.requirementsPath, needTorch=needTorch)
                return prepare()
            except (DependencyError, InputError) as error:
                # Not a bug: one clear line, no traceback.
                self.ui.statusLabel.text = str(error)
                slicer.util.errorDisplay(str(error))
        return None

    def _startChild(self, run, onSuccess):
        from MedRestoreLib.background.run import RunMonitor

        self.run, self.monitor, self.onSuccess = run, RunMonitor(), onSuccess
        self.ui.logTextEdit.clear()
        self.ui.progressBar.value = 0
        self.ui.statusLabel.text = f"Starting: {run.description}"
        self.state.begin_run()
        try:
            with slicer.util.tryWithErrorDisplay("MedRestore could not start.", waitCursor=True):
                self.runner.start(run.command(), run.environment())
        finally:
            if self.runner.isRunning():
                self.timer.start()
            elif self.run is run:  # raised before a child existed: nothing will call _onFinished
                run.cleanup()
                self.run = self.monitor = self.onSuccess = None
                self.state.end_run()

    def cancel(self):
        """End the child's process tree; nothing is added to the scene."""
        if not self.state.cancel():
            return
        self.ui.statusLabel.text = "Cancelling..."
        self.stateChanged()
        self.runner.cancel()

    def _onLine(self, line):
        if self.monitor is None:
            return
        self.monitor.feed(line)
        self.ui.logTextEdit.appendPlainText(line.rstrip())
        self._showProgress()

    def _onStartFailed(self, program, reason):
        if self.monitor is not None:
            self.monitor.failed_to_start(program, reason)
            self.ui.logTextEdit.appendPlainText(self.monitor.start_error)

    def _showProgress(self):
        from MedRestoreLib.background.panel_state import Phase
        from MedRestoreLib.progress_protocol import format_seconds_left

        if self.monitor is None or self.state.phase == Phase.CANCELLING:
            return
        self.ui.progressBar.value = int(round(100 * self.monitor.fraction))
        left = format_seconds_left(self.monitor.seconds_left())
        self.ui.statusLabel.text = " — ".join(filter(None, [self.monitor.stage or "starting", left]))

    def _onFinished(self, exitCode):
        from MedRestoreLib.background.panel_state import Phase

        self.timer.stop()
        cancelled = self.state.phase == Phase.CANCELLING
        run, monitor, onSuccess = self.run, self.monitor, self.onSuccess
        self.run = self.monitor = self.onSuccess = None
        try:
            if cancelled:
                self.ui.statusLabel.text = "Cancelled: nothing was added to the scene."
                self.ui.progressBar.value = 0
            elif exitCode != 0:
                message = monitor.error_message(exitCode) if monitor else f"the run ended with status {exitCode}"
                self.ui.statusLabel.text = message
                slicer.util.errorDisplay(message, detailedText=monitor.full_log() if monitor else "")
            else:
                with slicer.util.tryWithErrorDisplay("MedRestore could not load its results.", waitCursor=True):
                    output = run.collect(run)
                    self.ui.progressBar.value = 100
                    notes = " ".join(monitor.notices)  # e.g. the GPU ran out of memory: CPU used
                    self.ui.statusLabel.text = f"Done: {output.GetName()}. {notes}".strip()
                    onSuccess(output)
        finally:
            if run is not None:
                run.cleanup()
            self.state.end_run()
            self.stateChanged()
