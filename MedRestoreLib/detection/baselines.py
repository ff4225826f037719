"""Classical detectors kept as baselines for the learned ones."""
from __future__ import annotations

import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution × this = its standard deviation


def median_mad_probability(array: np.ndarray, threshold: float = 5.0) -> np.ndarray:
    """Defect probability from the residual of an in-slice 3×3 median filter.

    ``z = |x − median3×3(x)| / (1.4826 · MAD)``, with MAD the median absolute deviation of the
    residual over the non-zero voxels of the whole volume (a robust noise level). A voxel is a
    defect when ``z > threshold``; the returned probability is ``clip(z / (2·threshold), 0, 1)``,
    so the decision threshold sits at 0.5.

    Args:
        array: intensities, shape (k, j, i).
        threshold: k of the rule, in robust standard deviations.

    Returns:
        float32 array (k, j, i) in [0, 1].
    """
    from scipy.ndimage import median_filter

    values = np.asarray(array, dtype=np.float32)
    residual = values - median_filter(values, size=(1, 3, 3), mode="nearest")
    support = residual[values != 0] if np.any(values != 0) else residual.ravel()
    mad = float(np.median(np.abs(support - np.median(support))))
    sigma = MAD_TO_SIGMA * mad
    if sigma <= 0:
        # More than half the voxels are exactly predicted (flat or synthetic images): fall back
        # to the residual's standard deviation; a constant volume has none and nothing is flagged.
        sigma = float(np.std(support))
    if sigma <= 0:
        return np.zeros(values.shape, dtype=np.float32)
    score = np.abs(residual) / (sigma * 2.0 * threshold)
    return np.clip(score, 0.0, 1.0).astype(np.float32)
