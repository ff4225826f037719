"""Helpers of :mod:`MedRestoreLib.defects`: the imaged object, where defects may go, dtypes.

Every array is in (k, j, i) order (slice, row, column) and every random choice comes from the
caller's ``numpy.random.Generator``.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
from scipy import ndimage

from .errors import InputError
from .intensity import nonzero_window


def check_grey_dtype(array: np.ndarray) -> None:
    """Raise InputError unless ``array`` holds integers or floats (not bool, complex, object)."""
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise InputError(f"cannot simulate defects on a {array.dtype} image; give a grey-level image")


def intensity_range(array: np.ndarray) -> Tuple[float, float]:
    """Robust intensity range (p0.5, p99.5) of the finite non-zero voxels.

    Raises:
        InputError: the image has no non-zero voxels or no contrast.
    """
    window = nonzero_window(np.asarray(array, dtype=np.float64), finite_only=True)
    if window is None:
        raise InputError("the image is empty (every voxel is zero): there is no object to damage")
    lo, hi = (float(v) for v in window)
    if not hi > lo:
        raise InputError("the image has no contrast (constant intensity): there is no object to damage")
    return lo, hi


def foreground_mask(array: np.ndarray) -> np.ndarray:
    """The imaged object: where simulated defects are allowed.

    Light Gaussian smoothing (σ 1 voxel along axes of ≥ 3 voxels), threshold at
    p0.5 + 0.1·(p99.5 − p0.5) of the non-zero voxels, largest 6-connected component, holes filled
    in 3-D and then slice by slice.

    Args:
        array: image, shape (k, j, i), any real dtype.

    Returns:
        Boolean array of the same shape; True inside the object.

    Raises:
        InputError: the image is all zero, constant, or has no object above the threshold.
    """
    array = np.asarray(array)
    if array.ndim != 3:
        raise InputError(f"expected a 3-D (k, j, i) array, got shape {array.shape}")
    lo, hi = intensity_range(array)
    values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=hi, neginf=lo)
    sigma = [1.0 if n >= 3 else 0.0 for n in array.shape]
    smooth = ndimage.gaussian_filter(values, sigma, mode="nearest")
    inside = smooth > lo + 0.1 * (hi - lo)
    labels, count = ndimage.label(inside)
    if count == 0:
        raise InputError("no imaged object found (nothing above the background threshold)")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    inside = ndimage.binary_fill_holes(labels == int(np.argmax(sizes)))
    for k in range(inside.shape[0]):
        inside[k] = ndimage.binary_fill_holes(inside[k])
    return inside


def bounding_extent(foreground: np.ndarray) -> np.ndarray:
    """Size (k, j, i) of the foreground's bounding box, in voxels."""
    where = np.nonzero(foreground)
    return np.array([int(w.max() - w.min() + 1) for w in where])


def pick_column(foreground: np.ndarray, slices: int, rng: np.random.Generator) -> Tuple[int, int, int, int]:
    """A position (k0, j, i) whose column (k0 … k0 + n − 1, j, i) lies wholly in the object.

    Asks for ``slices`` slices and settles for fewer when the object is too thin.

    Returns:
        (k0, j, i, n) with n ≤ ``slices`` the number of slices granted (≥ 1).
    """
    slices = int(min(max(slices, 1), foreground.shape[0]))
    for n in range(slices, 0, -1):
        column = foreground[: foreground.shape[0] - n + 1].copy()
        for step in range(1, n):
            column &= foreground[step: foreground.shape[0] - n + 1 + step]
        candidates = np.argwhere(column)
        if len(candidates):
            k0, j, i = (int(v) for v in candidates[rng.integers(len(candidates))])
            return k0, j, i, n
    raise InputError("no imaged object found")


def ellipsoid_mask(shape: Sequence[int], center: Sequence[float], radii: Sequence[float]) -> np.ndarray:
    """Voxels with Σ((x − centre)/radius)² ≤ 1, as a boolean array of ``shape`` (k, j, i)."""
    mask = np.zeros(tuple(shape), dtype=bool)
    # Evaluate only the bounding box: a full-volume grid costs seconds per defect on 256³ scans.
    low = [int(min(max(np.floor(c - r), 0), n)) for c, r, n in zip(center, radii, shape)]
    high = [int(min(max(np.ceil(c + r) + 1, 0), n)) for c, r, n in zip(center, radii, shape)]
    grids = np.ogrid[tuple(slice(a, b) for a, b in zip(low, high))]
    distance = sum(((g - c) / max(r, 1e-6)) ** 2 for g, c, r in zip(grids, center, radii))
    mask[tuple(slice(a, b) for a, b in zip(low, high))] = distance <= 1.0
    return mask


def box_mask(shape: Sequence[int], start: Sequence[int], stop: Sequence[int]) -> np.ndarray:
    """Axis-aligned box [start, stop) (k, j, i, stop exclusive) as a boolean array of ``shape``."""
    mask = np.zeros(tuple(shape), dtype=bool)
    mask[tuple(slice(int(a), int(b)) for a, b in zip(start, stop))] = True
    return mask


def slab_ellipsoid(foreground: np.ndarray, slices: int, radius_range: Tuple[float, float],
                   rng: np.random.Generator) -> Tuple[List[float], List[float]]:
    """Centre and radii (k, j, i) of an ellipsoid covering exactly n ≤ ``slices`` slices.

    The slab k0 … k0 + n − 1 gets centre k0 + (n − 1)/2 and radius n/2, so its end slices hold a
    smaller cross-section; the in-plane radii are drawn from ``radius_range``. The centre column
    lies in the object on every slice of the slab, so the defect is never empty.
    """
    k0, j, i, n = pick_column(foreground, slices, rng)
    rj, ri = rng.uniform(radius_range[0], radius_range[1], size=2)
    return [k0 + (n - 1) / 2.0, float(j), float(i)], [n / 2.0, float(rj), float(ri)]


def place_box(foreground: np.ndarray, size: Sequence[int],
              rng: np.random.Generator) -> Tuple[List[int], List[int]]:
    """Start and stop (k, j, i) of a box of ``size`` around a column inside the object."""
    shape = foreground.shape
    size = [int(min(max(s, 1), n)) for s, n in zip(size, shape)]
    k0, j, i, granted = pick_column(foreground, size[0], rng)
    start = [k0 - (size[0] - granted) // 2, j - size[1] // 2, i - size[2] // 2]
    start = [int(min(max(a, 0), n - s)) for a, s, n in zip(start, size, shape)]
    return start, [a + s for a, s in zip(start, size)]


def sample_line(foreground: np.ndarray, partial: bool,
                rng: np.random.Generator) -> Tuple[List[int], List[int]]:
    """A one-voxel-wide line along a row (fixed j) or column (fixed i) of one slice.

    A full line spans the object's extent on that row/column; a partial one 10–50 % of it. The
    row/column crosses at least half as much object as the longest one in that slice.

    Returns:
        (start, stop) of the line as a 1×1×L or 1×L×1 box, (k, j, i), stop exclusive.
    """
    slices = np.flatnonzero(foreground.any(axis=(1, 2)))
    k = int(slices[rng.integers(len(slices))])
    along_row = bool(rng.integers(2))
    plane = foreground[k] if along_row else foreground[k].T
    # Lines that cross the object broadly: a 3-voxel "line" at the object's tip is a dead pixel.
    crossing = plane.sum(axis=1)
    lines = np.flatnonzero(crossing >= 0.5 * crossing.max())
    line = int(lines[rng.integers(len(lines))])
    inside = np.flatnonzero(plane[line])
    first, length = int(inside[0]), int(inside[-1] - inside[0] + 1)
    if partial:
        part = int(max(1, round(rng.uniform(0.1, 0.5) * length)))
        first += int(rng.integers(0, length - part + 1))
        length = part
    if along_row:
        return [k, line, first], [k + 1, line + 1, first + length]
    return [k, first, line], [k + 1, first + length, line + 1]


def broad_slices(foreground: np.ndarray) -> np.ndarray:
    """Slices whose object cross-section is at least half the largest one."""
    area = foreground.sum(axis=(1, 2))
    return np.flatnonzero(area >= 0.5 * area.max())
