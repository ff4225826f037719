"""DPD_D — distance-based defective-pixel detection — and the per-voxel features it feeds.

Every voxel gets a distance between its value and what its neighbourhood predicts, scaled by a
noise level:

    x      = (v − p0.5) / (p99.5 − p0.5)            intensities of the volume, non-zero voxels
    σ      = max(1.4826 · median_fg |x − med₃ₓ₃(x)|, 0.02)   robust noise over the object
    d_in   = (x − med₃ₓ₃(x)) / σ                     in-slice prediction (8 neighbours + itself)
    d_k    = (x − ½(x[k−1] + x[k+1])) / σ           prediction from the adjacent slices
    d_3d   = (x − med₃ₓ₃ₓ₃(x)) / σ                   prediction from the 26-neighbourhood
    DPD_D  = min(|d_in|, |d_k|, |d_3d|)              a defect is far from every prediction

σ is floored at 2 % of the intensity range so noise-free templates do not make every partial
volume edge an outlier. The minimum keeps anatomy quiet: an edge is predicted well by at least
one neighbourhood (in-slice across the edge, or the adjacent slices along it), a dead pixel by
none. The intensity channel given to the network is x centred per column (over j), as the
shipped weights were trained. ``void`` is 1 on signal voids (:mod:`.void_map`), which the
distances cannot see (a run at the void level looks like background to them).
Column covariance (``MedRestoreLib.covariance``) supplies the structure: a column (or row)
whose correlation with its neighbours collapses is where a line dropout lies, and slices that
depart from both neighbours are missing. All features are computed in torch (CPU or CUDA) in
chunks of slices to bound memory.
"""
from __future__ import annotations

import numpy as np

from ..intensity import nonzero_window
from .baselines import MAD_TO_SIGMA

NOISE_FLOOR = 0.02
FEATURE_NAMES = ("intensity", "d_in", "d_k", "d_3d", "dpd", "local_energy", "column_decorrelation",
                 "row_decorrelation", "slice_departure", "slab_ratio", "context", "void")
CHUNK = 16  # slices per chunk for the median filters (bounds memory to ~27 floats × chunk)


def normalise(array: np.ndarray) -> np.ndarray:
    """(v − p0.5)/(p99.5 − p0.5) over non-zero voxels, clipped only to [−1, 2] (hot pixels
    exceed 1). Unlike the evaluation protocol's normalisation it never fails: an empty or
    constant volume is scaled by its largest magnitude (or 1)."""
    values = np.asarray(array, dtype=np.float32)
    window = nonzero_window(values)  # of the float32 values, as the features were trained on
    if window is None:
        return np.zeros_like(values)
    low, high = window
    scale = float(high - low) if high > low else float(np.abs(values).max() or 1.0)
    return np.clip((values - low) / scale, -1.0, 2.0)


def _median_filter(x, size3d: bool):
    """Median over 3×3 (in-slice) or 3×3×3 neighbourhoods with edge replication, chunked."""
    import torch
    import torch.nn.functional as F

    depth = x.shape[0]
    out = torch.empty_like(x)
    for start in range(0, depth, CHUNK):
        stop = min(start + CHUNK, depth)
        if size3d:
            low, high = max(start - 1, 0), min(stop + 1, depth)
            block = x[low:high]
            block = F.pad(block[None, None], (1, 1, 1, 1, 1 if low == start else 0,
                                              1 if high == stop else 0), mode="replicate")[0, 0]
            patches = block.unfold(0, 3, 1).unfold(1, 3, 1).unfold(2, 3, 1)
            out[start:stop] = patches.reshape(*patches.shape[:3], 27).median(dim=-1).values
        else:
            block = F.pad(x[start:stop][:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
            patches = block.unfold(1, 3, 1).unfold(2, 3, 1)
            out[start:stop] = patches.reshape(*patches.shape[:3], 9).median(dim=-1).values
    return out


def _adjacent_mean(x):
    """½(x[k−1] + x[k+1]); at the first and last slice the one neighbour; a single slice itself."""
    if x.shape[0] == 1:
        return x.clone()
    previous = _shifted(x, 1)
    following = _shifted(x, -1)
    return 0.5 * (previous + following)


def _shifted(x, shift: int):
    """x shifted along k by ``shift`` with the edge slice repeated (replicate padding)."""
    import torch

    if shift > 0:
        return torch.cat([x[1:2], x[:-1]]) if x.shape[0] > 1 else x
    return torch.cat([x[1:], x[-2:-1]]) if x.shape[0] > 1 else x


def _neighbour_decorrelation(x, axis_columns: bool):
    """1 − mean correlation of each column (or row) with its two neighbours, per slice."""
    import torch

    from ..covariance import column_correlation

    slices = x if axis_columns else x.transpose(1, 2)
    if slices.shape[1] < 2:  # one value per column: no variance and no correlation to measure
        return torch.zeros_like(x)
    correlation = column_correlation(slices.contiguous(), device=str(x.device))  # (K, I, I)
    correlation = torch.as_tensor(correlation, device=x.device, dtype=x.dtype)
    count = correlation.shape[-1]
    if count < 2:
        return torch.zeros_like(x)
    index = torch.arange(count, device=x.device)
    left = correlation[:, index, torch.clamp(index - 1, min=0)]
    right = correlation[:, index, torch.clamp(index + 1, max=count - 1)]
    left = torch.where(index == 0, right, left)
    right = torch.where(index == count - 1, left, right)
    decorrelation = 1.0 - 0.5 * (left + right)  # (K, I)
    variance = slices.var(dim=1)  # flat columns (background) carry no information
    decorrelation = torch.where(variance > 1e-6, decorrelation, torch.zeros_like(decorrelation))
    field = decorrelation[:, None, :].expand_as(slices)
    return field if axis_columns else field.transpose(1, 2)


def _smooth_in_plane(x, radius: int = 2):
    import torch.nn.functional as F

    size = 2 * radius + 1
    return F.avg_pool2d(F.pad(x[:, None], (radius,) * 4, mode="replicate"), size, stride=1)[:, 0]


def compute_features(array: np.ndarray, device: str = "cpu"):
    """DPD_D and companion features of a volume.

    Args:
        array: intensities (k, j, i).
        device: torch device for the computation.

    Returns:
        (features, sigma): float32 torch tensor (C, k, j, i) in the order of ``FEATURE_NAMES``,
        signed distances compressed by sign·log1p(|d|); and the noise level σ used.
    """
    import torch

    x = torch.as_tensor(normalise(array), dtype=torch.float64, device=device)
    # Each channel is computed in float64 and stored at once into one float32 block, and the
    # temporaries are dropped as soon as they are used: peak memory stays near the output plus
    # a few float64 volumes (stacking eleven float64 channels, then copying, took 9 GB at 256³).
    features = torch.empty((len(FEATURE_NAMES),) + tuple(x.shape), dtype=torch.float32, device=device)

    def store(index, values, compress=False):
        features[index] = torch.sign(values) * torch.log1p(values.abs()) if compress else values

    raw_in = x - _median_filter(x, size3d=False)
    foreground = x > 0.1
    support = raw_in[foreground] if bool(foreground.any()) else raw_in.flatten()
    sigma = max(float(MAD_TO_SIGMA * support.abs().median()), NOISE_FLOOR)
    del foreground, support
    d_in = raw_in / sigma
    del raw_in
    store(1, d_in, compress=True)
    store(5, torch.sqrt(torch.nn.functional.avg_pool3d(torch.nn.functional.pad(
        (d_in ** 2)[None, None], (1,) * 6, mode="replicate"), 3, stride=1)[0, 0]), compress=True)
    if x.shape[0] == 1:
        # A 2-D image: no adjacent slice predicts the voxel (x − x = 0 would make DPD_D, the
        # minimum, 0 everywhere and hide every defect); fall back to the in-slice distance.
        d_k = d_in.clone()
    else:
        d_k = (x - _adjacent_mean(x)) / sigma
    store(2, d_k, compress=True)
    # Slice departure: how far a whole slice lies from its neighbours (none for a 2-D image).
    departure = d_k.abs().mean(dim=(1, 2)) if x.shape[0] > 1 else x.new_zeros(1)
    store(8, torch.log1p(departure)[:, None, None].expand_as(x))
    dpd = torch.minimum(d_in.abs(), d_k.abs())
    del d_in, d_k
    d_3d = (x - _median_filter(x, size3d=True)) / sigma
    store(3, d_3d, compress=True)
    store(4, torch.minimum(dpd, d_3d.abs()), compress=True)
    del dpd, d_3d
    smooth = _smooth_in_plane(x)
    slab = _slab_median(smooth, radius=3)
    store(9, (smooth - slab) / (slab.abs() + 0.1))
    store(10, smooth)
    del smooth, slab
    store(6, _neighbour_decorrelation(x, axis_columns=True))
    # The shipped model was trained with the intensity channel and the row decorrelation taken
    # from x centred per column (mean over j): column_correlation used to centre its float64
    # input in place, and x was float64 under NumPy 2. Kept, explicitly, so the features match
    # the weights whatever NumPy's casting rules (NumPy 1 gave float32 and no centring).
    x -= x.mean(dim=1, keepdim=True)
    store(0, x)
    store(7, _neighbour_decorrelation(x, axis_columns=False))
    del x
    from .void_map import void_map

    store(11, torch.as_tensor(void_map(np.asarray(array)), dtype=torch.float32, device=device))
    return features, sigma


def _slab_median(smooth, radius: int):
    """Median along k over 2·radius+1 slices (replicated at the ends): the anatomy expected
    at this (j, i) from the slices around, robust to a few damaged ones."""
    import torch
    import torch.nn.functional as F

    depth = smooth.shape[0]
    rows, columns = smooth.shape[1:]
    along_k = smooth.permute(1, 2, 0).reshape(1, rows * columns, depth)
    padded = F.pad(along_k, (radius, radius), mode="replicate")[0].reshape(rows, columns, -1)
    windows = padded.unfold(2, 2 * radius + 1, 1)  # (j, i, k, window)
    result = torch.empty_like(smooth)
    for start in range(0, depth, CHUNK * 4):
        stop = min(start + CHUNK * 4, depth)
        result[start:stop] = windows[:, :, start:stop].median(dim=-1).values.permute(2, 0, 1)
    return result
