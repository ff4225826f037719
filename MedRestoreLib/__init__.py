"""MedRestore engine: find and repair damaged voxels, slices and time points in medical images.

Importing this package is cheap (nothing is imported until a name is used), so that the
``medrestore`` program can take Ctrl+C and SIGTERM from its first instant (``__main__.py``), and
torch and SimpleITK load only in the functions that use them.

Example:
    >>> from MedRestoreLib import read_volume, restore, RestoreOptions
    >>> result = restore(read_volume("damaged.nrrd"), RestoreOptions())
    >>> result.volume, result.mask, result.report
"""
import importlib

# Public name → the module that defines it (imported on first use, PEP 562).
_PUBLIC = {
    "Cancelled": "errors", "InputError": "errors",
    "RestoreOptions": "pipeline", "RestoreResult": "pipeline", "detect": "pipeline", "restore": "pipeline",
    "Volume": "volume", "VolumeKind": "volume", "read_series": "volume", "read_volume": "volume",
    "write_series": "volume", "write_volume": "volume",
}
__all__ = [
    "Cancelled", "InputError", "Volume", "VolumeKind", "read_volume", "write_volume",
    "read_series", "write_series", "RestoreOptions", "RestoreResult", "restore", "detect",
]
__version__ = "0.1.0"


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_PUBLIC))
