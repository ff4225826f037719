"""The Dask side of a batch: a worker plugin that pins threads and loads the task's networks once
per worker, and the function each task runs on a worker.

Both are imported by name on the workers, so every worker needs MedRestore installed (the same
version as the client that submits the batch).
"""
from __future__ import annotations

import signal
import threading
from typing import Any, Dict

from distributed import WorkerPlugin, get_worker

from ..models.loaded import LoadedModels
from .inputs import BatchInput
from .tasks import TaskSpec, preload, run_task

PLUGIN_NAME = "medrestore-models"


def pin_threads() -> None:
    """One torch thread per worker process: a worker runs one task at a time, and N workers
    with N threads each would fight over the cores (NumPy's BLAS is pinned by the Nanny's
    OMP/MKL/OPENBLAS_NUM_THREADS=1, Dask's default)."""
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # allowed once, before any inter-op work; already so
        pass


class ModelsPlugin(WorkerPlugin):
    """Holds a :class:`LoadedModels` per worker, filled with ``spec``'s networks at setup.

    Args:
        spec: the batch's task.
        embedded: the workers belong to the batch's own LocalCluster: they ignore SIGINT, which
            Ctrl+C sends to the terminal's whole process group; the batch stops them itself, in
            order (a worker started by the user, ``dask worker``, keeps its own Ctrl+C).
    """

    name = PLUGIN_NAME

    def __init__(self, spec: TaskSpec, embedded: bool = False):
        self.spec = spec
        self.embedded = embedded
        self.models = None

    def setup(self, worker) -> None:
        if self.embedded and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        pin_threads()
        self.models = LoadedModels()
        try:
            preload(self.spec, self.models)
        except Exception:  # noqa: BLE001 - e.g. damaged weights: each task then reports the reason
            pass


def run_on_worker(item: BatchInput, spec: TaskSpec, resume: bool) -> Dict[str, Any]:
    """Run one input on this worker with the plugin's loaded networks; returns its record."""
    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    models = plugin.models if isinstance(plugin, ModelsPlugin) and plugin.models is not None else LoadedModels()
    record = run_task(item, spec, models, resume)
    record["worker"] = str(worker.address)
    return record
