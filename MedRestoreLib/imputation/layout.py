"""Where the acquired slices lie on the thin-slice grid, and how thick or gapped data is simulated.

Everything runs on a *thin grid* along the slice axis (array axis 0, the volume's k axis).
Two acquisitions of ``n`` slices with spacing ``S`` are understood, for a factor ``F``:

- ``thick``: slice ``i`` is the average of the thin slices ``iF … iF+F-1`` (a slab of thickness
  ``S``, centred on the slice's position). The thin grid has ``nF`` slices of spacing ``S/F``;
  its first slice lies ``S (F-1) / (2F)`` *before* the first thick slice's centre, so that the
  slab of thick slice ``i`` is exactly covered, and thick slice ``i`` sits at thin position
  ``iF + (F-1)/2``.
- ``sampled`` (decimated): slice ``i`` is thin slice ``iF``; the thin grid has ``(n-1)F + 1``
  slices of spacing ``S/F`` and the same origin; the acquired slices are kept bit-identical.

A gapped volume (``--missing``) is already on its thin grid: the listed slices are missing,
the others are acquired exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Sequence, Tuple

import numpy as np

from ..errors import InputError
from ..volume import Volume


class Acquisition(str, Enum):
    THICK = "thick"  # each slice averages its slab of F thin slices
    SAMPLED = "sampled"  # each slice is one thin slice, F-1 thin slices skipped between


@dataclass
class Layout:
    """Observations on a thin grid of ``length`` slices.

    Attributes:
        length: number of thin slices.
        positions: (n,) thin-grid position (may be fractional) of each observation's centre.
        exact: (n,) integer thin index of observations that *are* a thin slice, -1 for slab averages.
        slabs: (n, 2) thin index range [start, stop) each observation averages.
    """

    length: int
    positions: np.ndarray
    exact: np.ndarray
    slabs: np.ndarray

    @property
    def observed(self) -> np.ndarray:
        """(length,) bool: thin slices acquired exactly (kept bit-identical)."""
        mask = np.zeros(self.length, bool)
        mask[self.exact[self.exact >= 0]] = True
        return mask

    @property
    def anchor(self) -> np.ndarray:
        """(length,) int: index of the observation the recurrent models read at each thin slice
        (the nearest thin slice to an observation's centre), -1 where the slice is missing."""
        index = np.full(self.length, -1, int)
        for n, position in enumerate(self.positions):
            index[int(np.clip(np.floor(position + 0.5), 0, self.length - 1))] = n
        return index


def factor_layout(count: int, factor: int, acquisition: Acquisition) -> Layout:
    """Layout of ``count`` slices acquired at ``factor`` × the thin spacing."""
    if count < 2:
        raise InputError(f"the volume has {count} slice; at least 2 are needed to fill between slices")
    if factor < 2:
        raise InputError(f"--factor must be ≥ 2, got {factor}")
    starts = np.arange(count) * factor
    if Acquisition(acquisition) == Acquisition.THICK:
        return Layout(count * factor, starts + (factor - 1) / 2.0, np.full(count, -1),
                      np.stack([starts, starts + factor], 1))
    return Layout((count - 1) * factor + 1, starts.astype(float), starts, np.stack([starts, starts + 1], 1))


def gap_layout(length: int, missing: Sequence[int]) -> Layout:
    """Layout of a volume of ``length`` slices of which ``missing`` (0-based) are absent."""
    missing = sorted(set(int(m) for m in missing))
    if length < 2:
        raise InputError(f"the volume has {length} slice; at least 2 are needed to fill between slices")
    bad = [m for m in missing if not 0 <= m < length]
    if bad:
        raise InputError(f"missing slice(s) {bad} outside 0…{length - 1}")
    kept = np.setdiff1d(np.arange(length), missing)
    if kept.size == 0:
        raise InputError("all slices are missing: nothing to fill from")
    if kept.size == 1:
        raise InputError("only one slice is present: at least 2 are needed to fill between slices")
    return Layout(length, kept.astype(float), kept, np.stack([kept, kept + 1], 1))


def observe(thin: np.ndarray, layout: Layout) -> np.ndarray:
    """The acquired slices (n, j, i) that ``layout`` makes of a thin volume (slab means)."""
    return np.stack([thin[a:b].mean(axis=0) for a, b in layout.slabs]).astype(np.float32)


def simulate(thin: np.ndarray, factor: int, acquisition: Acquisition) -> Tuple[np.ndarray, np.ndarray, Layout]:
    """Acquire a thin volume at ``factor``: (acquired slices, thin ground truth on the grid, layout)."""
    length = thin.shape[0]
    count = length // factor if Acquisition(acquisition) == Acquisition.THICK else (length - 1) // factor + 1
    layout = factor_layout(count, factor, acquisition)
    truth = thin[:layout.length]
    return observe(truth, layout), truth, layout


def thin_volume_geometry(volume: Volume, factor: int, acquisition: Acquisition) -> np.ndarray:
    """IJK→RAS of the thin grid of an acquired volume (see the module docstring)."""
    matrix = volume.ijk_to_ras.copy()
    step = matrix[:3, 2].copy()
    matrix[:3, 2] = step / factor
    if Acquisition(acquisition) == Acquisition.THICK:
        matrix[:3, 3] = volume.origin - step * (factor - 1) / (2.0 * factor)
    return matrix


def acquired_geometry(thin: Volume, factor: int, acquisition: Acquisition) -> np.ndarray:
    """IJK→RAS of the acquired slices simulated from a thin volume (inverse of the above)."""
    matrix = thin.ijk_to_ras.copy()
    step = matrix[:3, 2].copy()
    matrix[:3, 2] = step * factor
    if Acquisition(acquisition) == Acquisition.THICK:
        matrix[:3, 3] = thin.origin + step * (factor - 1) / 2.0
    return matrix


def consistent(thin: np.ndarray, observations: np.ndarray, layout: Layout) -> np.ndarray:
    """``thin`` made consistent with thick observations: each slab's thin slices shifted (voxel by
    voxel) so that their mean is the acquired slice again. This is the orthogonal projection onto
    the volumes the acquisition could have produced, so where the acquisition is a slab mean it
    never moves an estimate away from the truth (measured on MNI152 2 mm at 4×: cubic +0.7 dB,
    LSTM +0.6 dB). Slabs of one thin slice (sampled, gapped) are left alone: they are exact."""
    result = np.array(thin, dtype=np.float32, copy=True)
    for number, (start, stop) in enumerate(layout.slabs):
        if stop - start > 1:
            result[start:stop] += observations[number] - result[start:stop].mean(axis=0)
    return result
