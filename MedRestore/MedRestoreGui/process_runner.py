"""Runs one child process without blocking Slicer: its output lines and its end come back on
the main thread as callbacks, and ``cancel()`` ends its whole process tree.

Slicer 5.12+ has ``slicer.util.launchConsoleProcess(..., blocking=False, logCallback=...,
completedCallback=...)`` (a reader thread and a QTimer poll); older Slicer gets a ``qt.QProcess``
with its signals. Either way stdout and stderr arrive merged, one line per callback; the
MedRestore CLI writes its ``--progress json`` lines on stderr. QProcess hands over bytes as they
come: ``OutputLines`` decodes them incrementally, so a character cut between reads stays whole.
A child that cannot start at all is reported through ``startFailedCallback``, not as a run that
"stopped before it finished".
"""
import inspect
import logging
import os
import signal
import threading

import qt
import slicer

from MedRestoreLib.background.output_lines import OutputLines
from MedRestoreLib.background.process_tree import stop_process_tree

CANCEL_GRACE_S = 1.5  # SIGTERM first (the CLI removes partial outputs), then kill what remains


def _hasNonBlockingLaunch():
    launch = getattr(slicer.util, "launchConsoleProcess", None)
    if launch is None:
        return False
    try:
        return "blocking" in inspect.signature(launch).parameters
    except (TypeError, ValueError):
        return False


class ChildProcessRunner:
    """One child process at a time.

    Args:
        lineCallback: ``lineCallback(line)`` for every output line, on the main thread.
        finishedCallback: ``finishedCallback(exitCode)`` once, on the main thread.
        startFailedCallback: ``startFailedCallback(program, reason)`` when the child could not be
            started at all; ``finishedCallback(-1)`` follows.
    """

    def __init__(self, lineCallback, finishedCallback, startFailedCallback=None):
        self.lineCallback = lineCallback
        self.finishedCallback = finishedCallback
        self.startFailedCallback = startFailedCallback
        self._popen = None
        self._qprocess = None
        self._retiredQProcess = None  # the last finished QProcess, kept until the next run
        self._lines = OutputLines()
        self._finished = True

    def isRunning(self):
        return not self._finished

    def start(self, command, environment):
        """Start ``command`` (a list) with ``environment`` (a dict of the whole environment)."""
        if self.isRunning():
            raise RuntimeError("a MedRestore run is already in progress")
        self._finished = False
        try:
            if _hasNonBlockingLaunch():
                changed = {key: value for key, value in environment.items() if os.environ.get(key) != value}
                parameters = inspect.signature(slicer.util.launchConsoleProcess).parameters
                options = dict(useStartupEnvironment=False, blocking=False,
                               logCallback=self.lineCallback, completedCallback=self._onCompleted)
                if "updateEnvironment" in parameters:
                    options["updateEnvironment"] = changed
                else:  # no way to pass the environment: set it for this process, the child inherits it
                    os.environ.update(changed)
                try:
                    self._popen = slicer.util.launchConsoleProcess(command, **options)
                except OSError as error:  # no interpreter there, not executable, ...
                    self._finished = True
                    self._reportStartFailure(command[0], error.strerror or str(error))
                    self.finishedCallback(-1)
                    return
            else:
                self._startQProcess(command, environment)
        except BaseException:
            # Nothing was started (e.g. Popen raised OSError): without this the runner would say
            # "running" for ever, the Apply button would stay "Cancel" and no run could start.
            self._finished = True
            self._popen = self._qprocess = None
            raise

    def _startQProcess(self, command, environment):
        self._retiredQProcess = None  # the previous run's QProcess: safe to delete here
        self._lines = OutputLines()
        process = qt.QProcess()
        processEnvironment = qt.QProcessEnvironment()
        for key, value in environment.items():
            processEnvironment.insert(key, value)
        process.setProcessEnvironment(processEnvironment)
        process.setProcessChannelMode(qt.QProcess.MergedChannels)
        process.connect("readyReadStandardOutput()", self._onQProcessOutput)
        process.connect("finished(int,QProcess::ExitStatus)", self._onQProcessFinished)
        process.connect("errorOccurred(QProcess::ProcessError)", self._onQProcessError)
        self._qprocess = process
        process.start(command[0], command[1:])

    def _onQProcessOutput(self):
        data = self._qprocess.readAllStandardOutput()
        raw = data.data() if hasattr(data, "data") else data
        # PythonQt gives bytes for QByteArray.data(); OutputLines takes text too.
        for line in self._lines.feed(raw):
            self.lineCallback(line)

    def _onQProcessFinished(self, exitCode, exitStatus):
        self._onQProcessOutput()
        for line in self._lines.finish():
            self.lineCallback(line)
        crashed = exitStatus == qt.QProcess.CrashExit
        self._onCompleted(-1 if crashed and exitCode == 0 else exitCode)

    def _onQProcessError(self, error):
        if error == qt.QProcess.FailedToStart:
            self._reportStartFailure(self._qprocess.program(), self._qprocess.errorString())
            self._onCompleted(-1)

    def _reportStartFailure(self, program, reason):
        if self.startFailedCallback is not None:
            self.startFailedCallback(program, reason)
        else:
            self.lineCallback(f"could not start {program}: {reason}")

    def _onCompleted(self, exitCode):
        if self._finished:
            return
        self._finished = True
        self._popen = None
        if self._qprocess is not None:
            # We are inside one of the QProcess's own signals (finished, errorOccurred), and Qt
            # goes on using the object after the slot returns (Qt 5's _q_startupNotification()
            # calls waitForDeadChild() and cleanup() after emitting FailedToStart). Dropping the
            # last Python reference here would make PythonQt delete the parentless QProcess at
            # once: keep it until the next run starts (_startQProcess), outside its signals.
            self._retiredQProcess, self._qprocess = self._qprocess, None
        self.finishedCallback(int(exitCode))

    def pid(self):
        if self._popen is not None:
            return self._popen.pid
        if self._qprocess is not None:
            return int(self._qprocess.processId())
        return None

    def cancel(self):
        """End the child's process tree; the finished callback follows as usual."""
        pid = self.pid()
        if pid is None or not self.isRunning():
            return
        # In a thread: the grace period must not freeze the panel.
        threading.Thread(target=self._stop, args=(pid,), daemon=True).start()

    @staticmethod
    def _stop(pid):
        try:
            stop_process_tree(pid, grace_s=CANCEL_GRACE_S)
        except ImportError:
            # psutil comes with the first Apply; a child started before (the Advanced section's
            # device probe) is ended alone, its interpreter with it when the launcher goes.
            logging.warning("MedRestore: psutil is not installed yet; ending process %s only", pid)
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        except Exception:
            logging.exception("MedRestore: could not stop process %s", pid)
