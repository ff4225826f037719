"""``run_batch``: one task over many inputs on a Dask cluster, with a report and a resume.

    >>> from MedRestoreLib.batch import BatchSettings, run_batch
    >>> result = run_batch("scans/", "restored/", task="restore", settings=BatchSettings(workers=2))
    >>> result.failed, result.status            # 0, ExitStatus.OK; restored/summary.csv lists every input

Inputs are submitted as worker threads become free (one in flight per thread) and their results
taken with ``as_completed`` as they arrive; each finished future is released at once, so the
client's and the scheduler's memory stay flat over any number of inputs. Workers write outputs
atomically (temporary file, then a rename); partial files that a killed worker leaves are
removed at the start and at the end, so neither a worker's death nor a stop (Ctrl+C, SIGTERM)
leaves a half-written output.
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from ..errors import ExitStatus, InputError
from ..progress import ProgressCallback, Steps
from .inputs import BatchInput, discover
from .report import Report
from .tasks import FAILED, SKIPPED, Task, TaskSpec, task_spec


@dataclass
class BatchSettings:
    """Where and how a batch runs.

    Attributes:
        workers: worker processes of the embedded cluster (default: the CPU count).
        memory_limit: per embedded worker: "4GB", "auto" (the machine's memory shared out) or "0" (none).
        scheduler: address of an existing Dask scheduler ("tcp://host:8786"); None embeds a cluster.
        retries: runs of a task after its worker died, before it is reported and skipped.
        resume: keep outputs that exist and read back; compute only the rest.
        resources: worker resources each task needs, e.g. {"GPU": 1} (workers started with
            ``--resources GPU=1``); the embedded workers offer them.
        connect_timeout: seconds to wait for ``scheduler``.
    """

    workers: Optional[int] = None
    memory_limit: str = "auto"
    scheduler: Optional[str] = None
    retries: int = 2
    resume: bool = False
    resources: Dict[str, float] = field(default_factory=dict)
    connect_timeout: float = 10.0

    def validate(self) -> None:
        from dask.utils import parse_bytes

        if self.workers is not None and (isinstance(self.workers, bool) or int(self.workers) != self.workers
                                         or self.workers < 1):
            raise InputError(f"workers must be an integer ≥ 1, got {self.workers!r}")
        if isinstance(self.retries, bool) or int(self.retries) != self.retries or self.retries < 0:
            raise InputError(f"retries must be an integer ≥ 0, got {self.retries!r}")
        if str(self.memory_limit) != "auto":
            try:
                parse_bytes(str(self.memory_limit))
            except ValueError:
                raise InputError(f"memory limit '{self.memory_limit}': give a size like 4GB, auto or 0") from None
        if self.scheduler is not None and "://" not in self.scheduler:
            raise InputError(f"scheduler address '{self.scheduler}' needs a protocol, e.g. tcp://host:8786")


@dataclass
class BatchResult:
    """How a batch ended (the rows are in ``out_dir/summary.csv``)."""

    out_dir: Path
    total: int
    done: int  # outputs written, or kept by resume
    failed: int
    skipped: int  # of done: kept from an earlier run (resume)

    @property
    def status(self) -> ExitStatus:
        """OK when every input is done, SOME_FAILED (3) when any failed."""
        return ExitStatus.SOME_FAILED if self.failed else ExitStatus.OK


class BatchInterrupted(KeyboardInterrupt):
    """The batch was stopped (Ctrl+C, SIGTERM): the cluster is shut down, finished outputs are
    kept (``resume`` continues), no partial file is left. ``result`` counts what was done."""

    def __init__(self, result: BatchResult):
        super().__init__(f"stopped after {result.done + result.failed} of {result.total} inputs")
        self.result = result


def run_batch(inputs, out_dir, task="restore", options=None, device: Optional[str] = None,
              settings: Optional[BatchSettings] = None, progress: Optional[ProgressCallback] = None) -> BatchResult:
    """Run ``task`` on every input of ``inputs``; outputs mirror the inputs under ``out_dir``.

    Args:
        inputs: a folder, a glob or a CSV manifest (:mod:`.inputs`).
        out_dir: output folder (created), with ``results.jsonl`` and ``summary.csv``.
        task: "restore", "detect" or "impute-slices" (:class:`~.tasks.Task`).
        options: the task's options: ``RestoreOptions``, ``DetectOptions`` or
            ``SliceImputeOptions`` (or their ``to_dict()``); None takes the defaults.
        device: "auto", "cpu" or "cuda" on the workers (None: the options' own).
        settings: the cluster and retries (:class:`BatchSettings`).
        progress: ``progress(fraction, message)`` after each input; the message counts
            done, failed and remaining inputs.

    Returns:
        :class:`BatchResult`; failed inputs are rows with their reason, never an exception.

    Raises:
        InputError: bad inputs, options or settings, or an unreachable scheduler.
        BatchInterrupted: stopped by KeyboardInterrupt (Ctrl+C or the CLI's SIGTERM).
    """
    from .cluster import connect, require_dask
    from .worker import ModelsPlugin

    require_dask()
    settings = settings or BatchSettings()
    settings.validate()
    spec = task_spec(task, options, device)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    items = discover(str(inputs), out_dir)
    masked = [item.label for item in items if item.mask]
    if masked and spec.task is not Task.RESTORE:
        raise InputError(f"{masked[0]}: a mask applies to --task restore only")
    steps, report = Steps(progress), None
    workers = settings.workers or os.cpu_count() or 1
    try:
        # An embedded cluster is shut down (its workers stopped) when this block ends, before
        # _finish sweeps partial files, so no worker writes after the sweep. (On an existing
        # cluster a task already running finishes its own atomic write, or fails it.)
        with connect(settings.scheduler, workers, settings.memory_limit, settings.retries,
                     settings.resources, settings.connect_timeout) as client:
            client.register_plugin(ModelsPlugin(spec, embedded=settings.scheduler is None))
            # Nothing is written before the cluster is there: a bad scheduler address leaves no trace.
            out_dir.mkdir(parents=True, exist_ok=True)
            _remove_partial_outputs(items)
            report = Report(out_dir, [item.name for item in items], settings.resume)
            for record in _records(client, items, spec, settings, steps):
                report.add(record)
                steps.report(len(report.rows) / len(items), report.counts())
    except KeyboardInterrupt:
        if report is None:
            raise
        raise BatchInterrupted(_finish(report, items, out_dir)) from None
    except BaseException:
        if report is not None:
            _finish(report, items, out_dir)
        raise
    return _finish(report, items, out_dir)


def _finish(report: Report, items: List[BatchInput], out_dir: Path) -> BatchResult:
    _remove_partial_outputs(items)
    report.close({item.name: item.label for item in items})
    skipped = sum(row["status"] == SKIPPED for row in report.rows.values())
    return BatchResult(out_dir, len(items), report.done, report.failed, skipped)


def _remove_partial_outputs(items: List[BatchInput]) -> None:
    from ..output_files import partial_writes

    for item in items:
        for partial in partial_writes(item.output):
            # ignore_errors: another process may remove it first (a worker finishing its own write)
            shutil.rmtree(partial, ignore_errors=True)


def _records(client, items: List[BatchInput], spec: TaskSpec, settings: BatchSettings,
             steps: Steps) -> Iterator[dict]:
    """Submit the inputs to ``client``'s cluster and yield each one's record as it completes."""
    from distributed import as_completed

    from .cluster import describe
    from .worker import run_on_worker

    steps.report(0.0, f"{len(items)} inputs on {describe(client)}")
    run = uuid.uuid4().hex[:8]  # keys unique to this run: a shared scheduler may hold others
    queued = iter(enumerate(items))
    waiting: Dict[str, BatchInput] = {}

    def submit(index: int, item: BatchInput):
        future = client.submit(run_on_worker, item, spec, settings.resume, pure=False,
                               key=f"medrestore-{spec.task.value}-{run}-{index}", retries=settings.retries,
                               resources=settings.resources or None)
        waiting[future.key] = item
        return future

    # One task in flight per worker thread: the scheduler (and this process) never hold thousands
    # of futures, and a worker never has a task waiting behind the one it runs. That matters when
    # a worker dies: Dask counts the death against every task assigned to it, so a queued,
    # innocent input would be retried (and after `retries` deaths, skipped) with the guilty one.
    # A new task goes out as soon as one finishes: an idle gap of a round trip (milliseconds)
    # per task that takes seconds. The thread count is read again each time: a cluster may grow.
    completed = as_completed([submit(n, item) for n, item in itertools.islice(queued, _threads(client))])
    for future in completed:
        item = waiting.pop(future.key)
        record = future.result() if future.status == "finished" else _failure(item, future.exception())
        future.release()  # as soon as it is read: nothing of it stays on the cluster
        del future
        for following in itertools.islice(queued, max(_threads(client) - len(waiting), 0)):
            completed.add(submit(*following))
        yield record


def _threads(client) -> int:
    """Worker threads of the cluster now (at least 1: tasks wait for a worker that joins later)."""
    return max(sum(client.nthreads().values()), 1)


def _failure(item: BatchInput, error: BaseException) -> dict:
    """The record of a task that did not return: its workers died, or Dask failed to run it."""
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        reason = (f"the worker died each of the {error.allowed_failures + 1} times it ran this input "
                  "(out of memory under the memory limit, or a crash); skipped")
    else:
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    return {"input": item.label, "output": item.name, "status": FAILED, "reason": reason[:300],
            "voxels_changed": None, "seconds": None, "worker": None, "peak_memory_mb": None}
