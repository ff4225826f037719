"""Whole-volume inference of the recurrent slice imputer (SRN or LSTM) on normalised arrays."""
from __future__ import annotations

import numpy as np

from ..progress import Steps
from .interpolation import interpolate
from .layout import Layout, consistent

CHUNK = 16  # thin slices decoded at a time (bounds memory at full resolution)


def impute_recurrent(model, acquired: np.ndarray, layout: Layout, steps: Steps = None,
                     device: str = "cpu") -> np.ndarray:
    """Thin volume (L, j, i) from acquired slices (n, j, i), both normalised to about [0, 1].

    The cubic interpolation is the base; the network adds its residual. Exactly acquired slices
    are returned unchanged; thick slices are matched again by their slab means (:func:`.layout.consistent`).
    """
    import torch

    from .slice_net import neighbour_indices, pad4

    steps = steps or Steps()
    base = interpolate(acquired, layout, cubic=True)
    previous, following = neighbour_indices(layout.positions, layout.length)
    model = model.to(device)
    result = np.empty_like(base)
    with torch.no_grad():
        acquired_t = torch.as_tensor(acquired, device=device)[None]
        base_t = torch.as_tensor(base, device=device)[None]
        steps.report(0.05, "recurrent model along the slices")
        low = model.recurrent_features(pad4(acquired_t), pad4(base_t), layout.anchor)[0]
        steps.report(0.5, "decoding thin slices")
        for start in range(0, layout.length, CHUNK):
            stop = min(start + CHUNK, layout.length)
            neighbours = torch.stack([acquired_t[0, previous[start:stop]], acquired_t[0, following[start:stop]]], 1)
            result[start:stop] = model.decode(low[start:stop], base_t[0, start:stop], neighbours).cpu().numpy()
            steps.report(0.5 + 0.5 * stop / layout.length, "decoding thin slices")
    exact = layout.exact >= 0
    result[layout.exact[exact]] = acquired[exact]
    return consistent(result, acquired, layout)
