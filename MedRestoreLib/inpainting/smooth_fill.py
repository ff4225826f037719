"""A fast smooth initial fill (pull-push, then harmonic smoothing) that the generator corrects.

Pull-push: average the known voxels over a pyramid of 2×2×2 cells until every cell holds some,
then come back down, each level taking its own average where it has known voxels and the
coarser estimate elsewhere, weighted by how much of the cell is known. Then Jacobi iterations
of the 6-neighbour mean on masked voxels only, which smooth the blocky pyramid towards the
harmonic fill. It is close to biharmonic for small holes and costs milliseconds where
scikit-image's 3-D biharmonic takes seconds per 32³ box — a learned correction on top has to
be fast to start from.

Training and inference call the same function, so the generator sees the same fills.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch.nn import functional as F


def pull_push(values: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Fill (D, H, W) ``values`` where ``known`` is False; known voxels are returned unchanged."""
    weight = known.to(values.dtype)[None, None]
    total = (values * weight.squeeze(0).squeeze(0))[None, None]
    weights, totals = [weight], [total]
    while weights[-1].min() == 0 and max(weights[-1].shape[-3:]) > 1:
        kernel = [2 if n > 1 else 1 for n in weights[-1].shape[-3:]]
        weights.append(F.avg_pool3d(weights[-1], kernel, ceil_mode=True))
        totals.append(F.avg_pool3d(totals[-1], kernel, ceil_mode=True))
    coarse_weight, coarse_total = weights[-1], totals[-1]
    overall = totals[0].sum() / weights[0].sum().clamp_min(1)
    estimate = torch.where(coarse_weight > 0, coarse_total / coarse_weight.clamp_min(1e-12), overall)
    for weight, total in zip(reversed(weights[:-1]), reversed(totals[:-1])):
        upsampled = F.interpolate(estimate, size=weight.shape[-3:], mode="trilinear", align_corners=False)
        own = total / weight.clamp_min(1e-12)
        share = weight.clamp(0, 1)
        estimate = share * own + (1 - share) * upsampled
    return torch.where(known, values, estimate[0, 0])


def _neighbour_indices(unknown: torch.Tensor, shape) -> torch.Tensor:
    """Flat indices (6, N) of the 6 neighbours of each unknown voxel, edges replicated."""
    strides = torch.tensor([shape[1] * shape[2], shape[2], 1])
    neighbours = []
    for axis in range(3):
        for step in (-1, 1):
            moved = unknown.clone()
            moved[:, axis] = (moved[:, axis] + step).clamp(0, int(shape[axis]) - 1)
            neighbours.append((moved * strides).sum(1))
    return torch.stack(neighbours)


def harmonic_smoothing(values: torch.Tensor, known: torch.Tensor, iterations: int,
                       relaxation: Optional[float] = None) -> torch.Tensor:
    """``iterations`` sweeps of the 6-neighbour mean on the unknown voxels (edges replicated).

    ``relaxation`` None: Jacobi sweeps (the first training phase's fill; 40 of them leave a
    32³ hole far from converged). A number ω: red-black successive over-relaxation, which
    converges in about as many sweeps as the hole is wide (Jacobi needs its square), so 150
    sweeps with ω = 1.85 reach the harmonic solution of a 32³ box — 4 dB closer to the truth
    than 40 Jacobi sweeps there, and no worse than 3-D biharmonic. Works on the unknown voxels'
    indices only: scattered defects in a 256³ volume cost a fraction of a second.
    """
    unknown = torch.nonzero(~known)
    if iterations <= 0 or unknown.numel() == 0:
        return values
    strides = torch.tensor([values.shape[1] * values.shape[2], values.shape[2], 1])
    flat = values.reshape(-1).clone()
    centre = (unknown * strides).sum(1)
    neighbours = _neighbour_indices(unknown, values.shape)
    if relaxation is None:
        for _ in range(iterations):
            flat[centre] = flat[neighbours].mean(0)
        return flat.reshape(values.shape)
    colours = [unknown.sum(1) % 2 == parity for parity in (0, 1)]
    groups = [(centre[c], neighbours[:, c]) for c in colours]
    for _ in range(iterations):
        for where, around in groups:
            flat[where] += relaxation * (flat[around].mean(0) - flat[where])
    return flat.reshape(values.shape)


def smooth_fill(values: torch.Tensor, known: torch.Tensor, iterations: int = 40,
                relaxation: Optional[float] = None) -> torch.Tensor:
    """Pull-push, then ``iterations`` harmonic sweeps (see :func:`harmonic_smoothing`);
    (D, H, W) float tensor and bool mask.

    Raises:
        ValueError: no voxel is known (there is nothing to fill from).
    """
    if not bool(known.any()):
        raise ValueError("no known voxel to fill from")
    return harmonic_smoothing(pull_push(values, known), known, iterations, relaxation)
