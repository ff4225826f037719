"""``medrestore batch``: one task (restore, detect, impute-slices) over a whole archive on Dask —
an embedded ``LocalCluster`` by default, or an existing cluster through its scheduler.

    >>> from MedRestoreLib.batch import BatchSettings, run_batch
    >>> run_batch("scans/", "restored/", task="restore", settings=BatchSettings(workers=2)).status

Dask (``pip install 'MedRestoreLib[batch]'``) is imported only when a batch runs.
"""
from .driver import BatchInterrupted, BatchResult, BatchSettings, run_batch
from .inputs import BatchInput, discover
from .tasks import Task

__all__ = ["run_batch", "BatchSettings", "BatchResult", "BatchInterrupted", "BatchInput", "discover", "Task"]
