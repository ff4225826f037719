"""One run of the ``medrestore`` CLI in a child process, as the Slicer panel starts it: the
command line, a private temporary folder for its files, and what to do with them afterwards.

The child is the same CLI the tests cover, so the panel never runs other code than the command
line does, and Slicer stays responsive while it works. This file is Qt-free: the panel only
starts the command, feeds the lines it prints to :class:`RunMonitor`, and on success calls
``collect``; the MRML side (exporting nodes, importing results) is in ``node_files.py``.

Example (what the panel does, without Qt):
    >>> run = BackgroundRun.create("restore")
    >>> run.arguments = restore_arguments(run.path("input.nrrd"), run.path("restored.nrrd"))
    >>> process = subprocess.Popen(run.command(), env=run.environment(), stderr=subprocess.PIPE, text=True)
    >>> for line in process.stderr: monitor.feed(line)
    >>> run.cleanup()
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from ..errors import ExitStatus, InputError
from ..imputation.slices import DEFAULT_SLICE_MODEL, SliceModel
from ..imputation.time_series import DEFAULT_SEQUENCE_MODEL, SequenceModel
from ..progress_protocol import ProgressEvent, TimeLeftEstimator, parse_progress_line

LIB_ROOT = Path(__file__).resolve().parents[2]  # the folder holding MedRestoreLib/
# The engine's own choices, so the panel and the CLI cannot disagree.
SLICE_MODELS = tuple(model.value for model in SliceModel)
SEQUENCE_MODELS = tuple(model.value for model in SequenceModel)
SLICE_MODEL_DEFAULT = DEFAULT_SLICE_MODEL.value
SEQUENCE_MODEL_DEFAULT = DEFAULT_SEQUENCE_MODEL.value


# What runs without torch: the classical detector and fills, and the non-network imputers
# (checked in a Python without torch by `make check-slicer-versions`).
_CLASSICAL_DETECTORS = ("median-mad",)
_NETWORK_FILLS = ("gan", "unet", "auto")  # auto runs the GAN among its candidates
_CLASSICAL_MODELS = ("linear", "cubic", "gmm")


def needs_torch(command: str, *, detector: Optional[str] = None, method: Optional[str] = None,
                has_mask: bool = False, model: Optional[str] = None) -> bool:
    """Whether a run needs torch, so the panel asks the PyTorch extension for it only then.

    ``command`` is "restore" (``detector`` unused with a known mask), "impute-slices" or
    "impute-sequence" (``model``); defaults are the engine's.
    """
    if command == "restore":
        from ..options import DetectOptions, FillOptions

        method = method or FillOptions().method.value
        detector = detector or DetectOptions().method.value
        return method in _NETWORK_FILLS or not (has_mask or detector in _CLASSICAL_DETECTORS)
    default = SLICE_MODEL_DEFAULT if command == "impute-slices" else SEQUENCE_MODEL_DEFAULT
    return (model or default) not in _CLASSICAL_MODELS


def devices_command() -> List[str]:
    """The child that tells the panel about GPUs (so torch never loads in Slicer's process)."""
    return [python_executable(), "-m", "MedRestoreLib.background.device_description", "--json"]


def python_executable() -> str:
    """The interpreter for the child: PythonSlicer inside Slicer (``sys.executable`` there is the
    application itself, which would open a second Slicer), the running Python elsewhere."""
    name = "PythonSlicer.exe" if sys.platform == "win32" else "PythonSlicer"
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    return shutil.which("PythonSlicer") or sys.executable


def child_environment(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The child's environment: ``MedRestoreLib`` importable wherever the extension is installed,
    and unbuffered output so progress lines arrive as they are written."""
    environment = dict(os.environ if base is None else base)
    paths = [str(LIB_ROOT)] + [p for p in environment.get("PYTHONPATH", "").split(os.pathsep) if p]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def _number_list(values: Optional[Sequence[int]]) -> Optional[str]:
    if values is None:
        return None
    if isinstance(values, str):
        return values
    return ",".join(str(int(v)) for v in values)


def restore_arguments(input_path, output_path, *, mask_path=None, method: Optional[str] = None,
                      detector: Optional[str] = None, device: str = "auto", seed: int = 0,
                      mask_out=None, prob_out=None, report=None) -> List[str]:
    """``restore IN OUT ...`` as DESIGN.md fixes it (with ``--progress json``)."""
    arguments = ["restore", str(input_path), str(output_path)]
    for flag, value in (("--mask", mask_path), ("--method", method), ("--detector", detector),
                        ("--mask-out", mask_out), ("--prob-out", prob_out), ("--report", report)):
        if value is not None:
            arguments += [flag, str(value)]
    return arguments + ["--seed", str(int(seed)), "--device", device, "--progress", "json"]


def impute_slices_arguments(input_path, output_path, *, factor: Optional[int] = None,
                            missing=None, model: str = SLICE_MODEL_DEFAULT, device: str = "auto") -> List[str]:
    """``impute-slices IN OUT (--factor F | --missing auto|LIST) --model M``.

    Raises:
        InputError: neither or both of ``factor`` and ``missing``, or an unknown model.
    """
    if (factor is None) == (missing is None):
        raise InputError("give either a slice factor or the missing slices (auto or a list), not both")
    if model not in SLICE_MODELS:
        raise InputError(f"unknown slice model '{model}' (choose one of: {', '.join(SLICE_MODELS)})")
    arguments = ["impute-slices", str(input_path), str(output_path)]
    if factor is not None:
        if int(factor) < 2:
            raise InputError(f"the slice factor must be ≥ 2, got {factor}")
        arguments += ["--factor", str(int(factor))]
    else:
        arguments += ["--missing", _number_list(missing)]
    return arguments + ["--model", model, "--device", device, "--progress", "json"]


def impute_sequence_arguments(input_path, output_path, *, missing="auto", model: str = SEQUENCE_MODEL_DEFAULT,
                              forecast: int = 0, times: Optional[Sequence[float]] = None,
                              device: str = "auto") -> List[str]:
    """``impute-sequence IN OUT [--missing auto|LIST] --model M [--forecast N] [--times=T,...]``.

    ``times`` (one per frame) are written with ``repr``, which Python reads back to the same
    float, so the child imputes at exactly the times the node's index values give.
    """
    if model not in SEQUENCE_MODELS:
        raise InputError(f"unknown sequence model '{model}' (choose one of: {', '.join(SEQUENCE_MODELS)})")
    if int(forecast) < 0:
        raise InputError(f"forecast must be ≥ 0, got {forecast}")
    arguments = ["impute-sequence", str(input_path), str(output_path)]
    if missing is not None:
        arguments += ["--missing", _number_list(missing)]
    arguments += ["--model", model]
    if int(forecast) > 0:
        arguments += ["--forecast", str(int(forecast))]
    if times is not None:  # one token: a first time below zero must not read as an option
        arguments.append("--times=" + ",".join(repr(float(t)) for t in times))
    return arguments + ["--device", device, "--progress", "json"]


@dataclass
class BackgroundRun:
    """A CLI run's files and command line. ``collect(run)`` turns its outputs into results
    (new nodes, in Slicer) and is called only after the child exits with status 0."""

    folder: Path
    arguments: List[str] = field(default_factory=list)
    collect: Optional[Callable[["BackgroundRun"], object]] = None
    description: str = ""

    @classmethod
    def create(cls, description: str = "run", parent: Optional[str] = None) -> "BackgroundRun":
        return cls(Path(tempfile.mkdtemp(prefix="MedRestore-", dir=parent)), description=description)

    def path(self, name: str) -> Path:
        return self.folder / name

    def command(self) -> List[str]:
        return [python_executable(), "-m", "MedRestoreLib"] + list(self.arguments)

    def environment(self, base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        return child_environment(base)

    def cleanup(self) -> None:
        """Remove the temporary folder and all it holds (inputs, outputs, leftovers of a kill)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class RunMonitor:
    """Reads the child's output lines: progress for the bar, time left, the log, the error line.

    Args:
        clock: seconds, monotonic; the panel and the tests may pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()
        self.fraction = 0.0
        self.stage = ""
        self.message = ""
        self.log: List[str] = []
        self.finished: Optional[ProgressEvent] = None
        self.estimator = TimeLeftEstimator()
        self.notices: List[str] = []
        self.start_error = ""

    def failed_to_start(self, program: str, reason: str = "") -> None:
        """The child never ran (no interpreter there, not executable, ...): say that, not that it
        "stopped before it finished"."""
        detail = f": {reason}" if reason else ""
        self.start_error = f"could not start the worker process {program}{detail}"
        self.log.append(self.start_error)

    def feed(self, line: str) -> Optional[ProgressEvent]:
        """Take one line of the child's output; returns its event, or None for log text."""
        line = line.rstrip("\r\n")
        event = parse_progress_line(line)
        if event is None:
            if line.strip():
                self.log.append(line)
            return None
        if event.is_finished:
            self.finished = event
        else:
            self.fraction = max(self.fraction, event.fraction)
            self.stage, self.message = event.stage, event.message
            self.estimator.add(self.clock() - self.started, self.fraction)
            if "out of memory" in event.message and event.message not in self.notices:
                self.notices.append(event.message)  # the OOM fallback's note, kept for the report
        self.log.append(line)
        return event

    def seconds_left(self) -> Optional[float]:
        return self.estimator.seconds_left()

    def error_message(self, status: int) -> str:
        """One line that says why the run failed (the CLI's own line when it wrote one)."""
        if status == 0:
            return ""
        if self.start_error:
            return self.start_error
        if status < 0:  # ended by a signal (Popen: -signal; Qt's QProcess: -1 for any crash)
            return _signal_message(-status)
        if self.finished is not None and self.finished.message:
            return self.finished.message
        errors = [line for line in self.log if ": error:" in line or line.startswith("medrestore")]
        if errors:
            return errors[-1]
        if status == ExitStatus.INTERRUPTED:
            return "stopped before it finished"
        tail = [line for line in self.log if line.strip() and parse_progress_line(line) is None]
        return tail[-1] if tail else f"the worker process ended with status {status}"

    def full_log(self) -> str:
        return "\n".join(self.log)


def _signal_message(number: int) -> str:
    """Why a child that did not exit by itself ended, in a user's words; nothing was added."""
    import signal

    if number == 1:  # Qt's QProcess gives -1 for any crash, without the signal
        return ("the worker process crashed or was killed (e.g. by the system when out of memory); "
                "nothing was added")
    if number == getattr(signal, "SIGKILL", None):
        return ("the worker process was killed by the system (SIGKILL), e.g. because it ran out of memory; "
                "nothing was added (try the CPU, a smaller volume, or closing other programs)")
    if number in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGINT", None)):
        return f"the worker process was stopped ({signal.Signals(number).name}) before it finished; nothing was added"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return f"the worker process crashed ({name}); nothing was added"
