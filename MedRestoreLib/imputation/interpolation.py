"""Linear and cubic interpolation along the slice axis: the baselines, and the base the
recurrent models add their residual to."""
from __future__ import annotations

import numpy as np

from .layout import Layout


def interpolate(observations: np.ndarray, layout: Layout, cubic: bool = True) -> np.ndarray:
    """Thin volume (length, j, i) through the observations placed at their centres.

    Cubic is a not-a-knot spline (scipy's ``CubicSpline``), linear with 2 observations.
    Beyond the first and last centre the nearest observation is repeated (no extrapolation).
    Exactly acquired slices come back bit-identical (as float32).
    """
    from scipy.interpolate import CubicSpline

    positions = layout.positions
    targets = np.clip(np.arange(layout.length, dtype=float), positions[0], positions[-1])
    values = observations.astype(np.float64)
    if cubic and len(positions) >= 3:
        result = CubicSpline(positions, values, axis=0)(targets)
    else:
        right = np.clip(np.searchsorted(positions, targets, side="right"), 1, len(positions) - 1)
        left = right - 1
        weight = ((targets - positions[left]) / (positions[right] - positions[left]))[:, None, None]
        result = (1 - weight) * values[left] + weight * values[right]
    result = result.astype(np.float32)
    exact = layout.exact >= 0
    result[layout.exact[exact]] = observations[exact]
    return result
