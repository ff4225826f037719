"""``medrestore benchmark``: measured tables and figures, reproducible from a seed."""
from .runner import run_benchmark

__all__ = ["run_benchmark"]
