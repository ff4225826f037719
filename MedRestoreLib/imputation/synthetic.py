"""Synthetic longitudinal image series with ground truth, made from a development volume:
a smooth deformation whose amplitude changes non-linearly over time, a quadratic intensity
drift, and a lesion that grows or shrinks along a logistic curve."""
from __future__ import annotations

from typing import List

import numpy as np

from ..intensity import normalise_intensity


def synthetic_image_series(volume: np.ndarray, frames: int, seed: int) -> List[np.ndarray]:
    """``frames`` float32 volumes (normalised intensities, [0, 1]) of one synthetic subject."""
    from scipy.ndimage import map_coordinates, zoom

    rng = np.random.default_rng(seed)
    base = normalise_intensity(volume).astype(np.float32)
    shape = np.array(base.shape)
    field = np.stack([zoom(rng.normal(0, 1, (4, 4, 4)), shape / 4, order=3)[:shape[0], :shape[1], :shape[2]]
                      for _ in range(3)])
    field *= rng.uniform(1.0, 2.5) / max(np.abs(field).max(), 1e-6)
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij"))
    brain = np.argwhere(base > 0.3)
    centre = brain[rng.integers(len(brain))]
    distance = np.sqrt(((grid - centre[:, None, None, None]) ** 2).sum(0))
    radii = sorted(rng.uniform(1.5, 7.0, 2))
    if rng.random() < 0.5:
        radii = radii[::-1]
    onset, speed = rng.uniform(0.2, 0.8), rng.uniform(6, 14)
    frequency, drift, level = rng.uniform(0.5, 1.0), rng.uniform(-0.12, 0.12), rng.uniform(0.1, 0.9)
    series = []
    for t in range(frames):
        x = t / max(frames - 1, 1)
        warped = map_coordinates(base, grid + np.sin(np.pi * frequency * x) * field, order=1, mode="nearest")
        radius = radii[0] + (radii[1] - radii[0]) / (1 + np.exp(-speed * (x - onset)))
        inside = np.clip(radius + 0.5 - distance, 0, 1) * (warped > 0.05)
        frame = (warped * (1 - inside) + level * inside) * (1 + drift * x * x)
        series.append(frame.astype(np.float32))
    return series
