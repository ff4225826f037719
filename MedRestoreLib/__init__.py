"""MedRestore engine: find and repair damaged voxels, slices and time points in medical images.

Importing this package is cheap: torch and SimpleITK are imported only by the functions that
use them.

Example:
    >>> from MedRestoreLib import read_volume, restore, RestoreOptions
    >>> result = restore(read_volume("damaged.nrrd"), RestoreOptions())
    >>> result.volume, result.mask, result.report
"""
from .errors import Cancelled, InputError
from .pipeline import RestoreOptions, RestoreResult, detect, restore
from .volume import Volume, VolumeKind, read_series, read_volume, write_series, write_volume

__all__ = [
    "Cancelled", "InputError", "Volume", "VolumeKind", "read_volume", "write_volume",
    "read_series", "write_series", "RestoreOptions", "RestoreResult", "restore", "detect",
]
__version__ = "0.1.0"
