"""Where a batch runs: an embedded Dask ``LocalCluster`` (the default) or an existing Dask
cluster reached through its scheduler's address.

The embedded cluster has worker processes with one thread each (a task is one volume; the
processes run in parallel, and each pins torch and BLAS to one thread), a memory limit per
worker (the Nanny restarts a worker that exceeds it) and ``allowed-failures`` set to the
batch's retries: a task whose worker dies is run again on another worker up to ``retries``
times, then reported as failed and skipped. An existing cluster keeps its own settings
(its scheduler's ``distributed.scheduler.allowed-failures``, 3 by default).
"""
from __future__ import annotations

import contextlib
import logging
from typing import Dict, Iterator, Optional

from ..errors import InputError


def require_dask() -> None:
    """Raise a one-line :class:`InputError` when Dask is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("medrestore batch needs Dask: pip install 'MedRestoreLib[batch]' "
                         "(dask[distributed])") from None


@contextlib.contextmanager
def connect(scheduler: Optional[str], workers: int, memory_limit: str, retries: int,
            resources: Optional[Dict[str, float]] = None, timeout: float = 10.0) -> Iterator[object]:
    """A ``distributed.Client`` for the batch; closed (and the embedded cluster shut down,
    its worker processes stopped) when the block ends, however it ends.

    Args:
        scheduler: address of an existing scheduler ("tcp://host:8786"), or None to start a
            ``LocalCluster`` here.
        workers, memory_limit: the embedded cluster's worker processes and memory limit per
            worker ("4GB", "auto" = the machine's memory shared out, "0" = none).
        retries: times a task is run again after its worker died (embedded cluster only).
        resources: abstract resources each embedded worker offers (e.g. {"GPU": 1}).
        timeout: seconds to wait for ``scheduler``.

    Raises:
        InputError: the scheduler cannot be reached.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{timeout}s")
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({error})") from None
        try:
            yield client
        finally:
            client.close()
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": int(retries)}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               memory_limit=memory_limit, resources=resources or None,
                               dashboard_address=None, silence_logs=logging.ERROR)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def describe(client) -> str:
    """"2 workers at tcp://127.0.0.1:8786": what the batch runs on, for the first progress line."""
    count = len(client.nthreads())
    return f"{count} Dask worker{'s' if count != 1 else ''} at {client.scheduler.address}"
