"""The intensity window: the 0.5 and 99.5 percentiles of the non-zero voxels, written once.

The evaluation protocol normalises intensities to ``clip((v - p0.5) / (p99.5 - p0.5), 0, 1)``
(:func:`normalise_intensity`); the defect simulator, the DPD_D features, the GAN filler, the
slice imputer and every figure use the same window. Only what each does when there is no
window (no non-zero voxel, or no contrast) differs, so :func:`nonzero_window` returns the raw
percentiles and leaves that decision to the caller; :func:`intensity_window` (the protocol:
refuse) and :func:`display_window` (figures: show something) are the two common choices.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .errors import InputError

LOW_PERCENTILE = 0.5
HIGH_PERCENTILE = 99.5


def voxel_array(data) -> np.ndarray:
    """The voxel array of a :class:`MedRestoreLib.volume.Volume`, or the argument as an array."""
    return np.asarray(getattr(data, "array", data))


def nonzero_window(array, finite_only: bool = False) -> Optional[Tuple[np.floating, np.floating]]:
    """(p0.5, p99.5) of the non-zero voxels of ``array``, or None when it has none.

    The values are not converted first (a float32 volume gives the same window as it always
    did) and the percentiles come back as numpy scalars; ``low == high`` means no contrast,
    which the caller handles.

    Args:
        array: array or Volume.
        finite_only: leave NaN and infinite voxels out as well.
    """
    values = voxel_array(array)
    keep = values != 0
    if finite_only:
        keep &= np.isfinite(values)
    values = values[keep]
    if values.size == 0:
        return None
    low, high = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE])
    return low, high


def intensity_window(reference) -> Tuple[float, float]:
    """The evaluation protocol's window: (p0.5, p99.5) of the non-zero voxels of ``reference``.

    Raises:
        InputError: the reference has non-finite values, no non-zero voxel, or its non-zero
            voxels are (nearly) constant, so no intensity scale can be derived from it.
    """
    values = voxel_array(reference)
    values = values[values != 0].astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)):
        raise InputError("the reference volume has NaN or infinite voxels")
    window = nonzero_window(values)
    if window is None:
        raise InputError("the reference volume is all zeros: it has no intensity scale")
    low, high = window
    if not high > low:
        raise InputError(
            f"the reference volume is constant over its non-zero voxels ({low:g}): "
            "it has no intensity scale")
    return float(low), float(high)


def display_window(array) -> Tuple[float, float]:
    """Grey levels for showing ``array``: its :func:`nonzero_window`, (0, 1) for an empty
    image, and a minimal width for a constant one (a figure never fails on its data)."""
    window = nonzero_window(array, finite_only=True)
    if window is None:
        return 0.0, 1.0
    low, high = float(window[0]), float(window[1])
    return low, max(high, low + 1e-6)


def normalise_intensity(array, reference=None) -> np.ndarray:
    """Map intensities to [0, 1] with the 0.5/99.5 percentiles of the reference's non-zero voxels.

    Args:
        array: the volume to normalise (array or Volume), any numeric dtype.
        reference: whose percentiles to use; ``array`` itself by default. Give the clean
            reference here when normalising a restored volume, so both share one scale.

    Returns:
        float64 array of ``array``'s shape, ``clip((v - p0.5) / (p99.5 - p0.5), 0, 1)``.

    Raises:
        InputError: see :func:`intensity_window`.
    """
    array = voxel_array(array)
    low, high = intensity_window(array if reference is None else reference)
    normalised = (array.astype(np.float64) - low) / (high - low)
    return np.clip(normalised, 0.0, 1.0, out=normalised)
