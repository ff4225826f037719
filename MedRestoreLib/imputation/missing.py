"""Finding blank or corrupted slices (and blank frames) with cheap per-slice statistics.

A slice is *blank* when its mean absolute value is below 2 % of the median over the volume's
non-blank slices, and it lies between non-blank slices (runs of empty slices at either end of
the volume are the air around the head, not missing data). A slice is *corrupted* when its
departure from the mean of its two neighbours, ``mean|x_k - (x_{k-1} + x_{k+1}) / 2|``, is a local
maximum and more than ``ratio`` times the median departure over the volume's slices (slices next
to a blank one are not judged this way).
"""
from __future__ import annotations

from typing import List

import numpy as np

#: A slice or frame whose mean |value| is at most this fraction of the median level is blank.
BLANK_FRACTION = 0.02


def present_levels(levels: np.ndarray) -> np.ndarray:
    """Where a level profile (mean |value| per slice or frame) is above blank; all False when
    no level is positive."""
    levels = np.asarray(levels)
    if not np.any(levels > 0):
        return np.zeros(len(levels), bool)
    return levels > BLANK_FRACTION * np.median(levels[levels > 0])


def blank_indices(levels: np.ndarray) -> List[int]:
    """Interior entries of a per-slice level profile that are blank (the ends are air, not gaps)."""
    present = present_levels(levels)
    if not present.any():
        return list(range(len(levels)))
    first, last = np.flatnonzero(present)[[0, -1]]
    return [int(k) for k in range(first, last + 1) if not present[k]]


def find_missing_slices(array: np.ndarray, ratio: float = 4.0) -> List[int]:
    """Indices (axis 0) of blank or corrupted slices of a volume (k, j, i)."""
    values = np.abs(array.astype(np.float32))
    levels = values.reshape(len(values), -1).mean(1)
    blank = set(blank_indices(levels))
    missing = set(blank)
    if len(array) >= 3:
        data = array.astype(np.float32)
        departure = np.abs(data[1:-1] - 0.5 * (data[:-2] + data[2:])).reshape(len(data) - 2, -1).mean(1)
        typical = np.median(departure[departure > 0]) if np.any(departure > 0) else 0.0
        padded = np.r_[0.0, departure, 0.0]
        for k in range(1, len(array) - 1):
            if {k - 1, k, k + 1} & blank:
                continue  # next to a blank slice the departure measures the blank one
            peak = padded[k] >= padded[k - 1] and padded[k] >= padded[k + 1]
            if typical > 0 and padded[k] > ratio * typical and peak:
                missing.add(k)
    return sorted(missing)
