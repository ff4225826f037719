"""The panel's side of a background run: start the CLI child, show its stage, progress and time
left, turn Apply into Cancel, keep the full log, and add results only when the run succeeded.

The work itself is the engine's: ``prepare()`` returns a ``MedRestoreLib.background.run.
BackgroundRun`` (inputs exported, command line built), ``RunMonitor`` reads its output, and
``run.collect(run)`` imports its outputs as nodes.
"""
import qt
import slicer

from .process_runner import ChildProcessRunner


class RunPanel:
    """One background run at a time, shown in the panel's progress bar, status label and log.

    Args:
        ui: the panel's widgets (progressBar, statusLabel, logTextEdit).
        requirementsPath: ``Resources/requirements.txt``, installed on first use.
        stateChanged: called when a run starts or ends (the widget updates its buttons).
    """

    def __init__(self, ui, requirementsPath, stateChanged):
        self.ui = ui
        self.requirementsPath = requirementsPath
        self.stateChanged = stateChanged
        self.runner = ChildProcessRunner(self._onLine, self._onFinished)
        self.run = self.monitor = self.onSuccess = None
        self.cancelRequested = False
        self.timer = qt.QTimer()
        self.timer.setInterval(1000)  # the time left moves on between progress lines too
        self.timer.connect("timeout()", self._showProgress)

    def isRunning(self):
        return self.runner.isRunning()

    def start(self, prepare, onSuccess):
        """Install what is missing, export the inputs, start the child; returns at once."""
        from MedRestoreLib.background.run import RunMonitor
        from MedRestoreLib.errors import InputError

        from .dependencies import DependencyError, ensureDependencies

        try:
            with slicer.util.tryWithErrorDisplay("MedRestore could not start.", waitCursor=True):
                try:
                    ensureDependencies(self.requirementsPath)
                    run = prepare()
                except (DependencyError, InputError) as error:
                    # Not a bug: one clear line, no traceback.
                    self.ui.statusLabel.text = str(error)
                    slicer.util.errorDisplay(str(error))
                    return
                self.run, self.monitor, self.onSuccess = run, RunMonitor(), onSuccess
                self.cancelRequested = False
                self.ui.logTextEdit.clear()
                self.ui.progressBar.value = 0
                self.ui.statusLabel.text = f"Starting: {run.description}"
                try:
                    self.runner.start(run.command(), run.environment())
                except BaseException:
                    run.cleanup()
                    self.run = None
                    raise
                if self.runner.isRunning():  # a start failure reported at once has ended the run already
                    self.timer.start()
        finally:
            self.stateChanged()

    def cancel(self):
        """End the child's process tree; nothing is added to the scene."""
        if not self.isRunning():
            return
        self.cancelRequested = True
        self.ui.statusLabel.text = "Cancelling..."
        self.runner.cancel()

    def _onLine(self, line):
        if self.monitor is None:
            return
        self.monitor.feed(line)
        self.ui.logTextEdit.appendPlainText(line.rstrip())
        self._showProgress()

    def _showProgress(self):
        from MedRestoreLib.progress_protocol import format_seconds_left

        if self.monitor is None or self.cancelRequested:
            return
        self.ui.progressBar.value = int(round(100 * self.monitor.fraction))
        left = format_seconds_left(self.monitor.seconds_left())
        self.ui.statusLabel.text = " — ".join(filter(None, [self.monitor.stage or "starting", left]))

    def _onFinished(self, exitCode):
        self.timer.stop()
        run, monitor, onSuccess = self.run, self.monitor, self.onSuccess
        self.run = self.monitor = self.onSuccess = None
        try:
            if self.cancelRequested:
                self.ui.statusLabel.text = "Cancelled: nothing was added to the scene."
                self.ui.progressBar.value = 0
            elif exitCode != 0:
                message = monitor.error_message(exitCode)
                self.ui.statusLabel.text = message
                slicer.util.errorDisplay(message, detailedText=monitor.full_log())
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
            self.cancelRequested = False
            self.stateChanged()
