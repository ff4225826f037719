"""``medrestore benchmark``: measured tables and figures, reproducible from a seed.

The runner is imported when called, not with the package, so that ``python -m
MedRestoreLib.benchmark.<section>`` runs a section without importing it twice.
"""


def run_benchmark(*args, **kwargs):
    """See :func:`.runner.run_benchmark`."""
    from .runner import run_benchmark as run

    return run(*args, **kwargs)


__all__ = ["run_benchmark"]
