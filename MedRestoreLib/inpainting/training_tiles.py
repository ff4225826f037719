"""Damaged crops as the GAN filler's generator is trained on them: 2.5-D slabs (the slices
either side of a defect slice, plus its mask) with the true centre slice, and the composite the
generator makes of them.

Shared by the trainer (:mod:`MedRestoreLib.training.train_inpainter`) and by test-time
adaptation (:mod:`.adaptation`), which fine-tunes on the input's own intact voxels the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError


@dataclass
class DamagedCrop:
    truth: np.ndarray  # (S, S, S), or (t, S, S) for a thin stack: float32, normalised intensities
    filled: np.ndarray  # truth with masked voxels replaced by the smooth initial fill
    mask: np.ndarray  # same shape, bool, True = defect

    @property
    def thin(self) -> bool:
        """Fewer slices than a slab: filled like a 2-D image or a few-slice volume (axis 0 only,
        slab slices beyond the stack repeat its edge slice, as the filler's padding does)."""
        return self.mask.shape[0] < min(self.mask.shape[1:])


def tiles_from_crop(crop: DamagedCrop, count: int, tile: int, half_slab: int, rng: np.random.Generator):
    """``count`` (slab, mask slab, truth slice) triples of in-plane size ``tile``, each centred
    slice holding a defect; axes drawn at random (axis 0 only for a thin stack)."""
    slabs, truths = [], []
    for _ in range(count):
        for _attempt in range(20):
            axis = 0 if crop.thin else int(rng.integers(3))
            mask = np.moveaxis(crop.mask, axis, 0)
            depth = mask.shape[0]
            low, high = (0, depth) if crop.thin else (half_slab, depth - half_slab)
            usable = np.flatnonzero(mask[low:high].any(axis=(1, 2))) + low
            if len(usable):
                break
        else:
            raise InputError("no defect away from the crop's edge")
        s = int(usable[rng.integers(len(usable))])
        points = np.argwhere(mask[s])
        j, i = points[rng.integers(len(points))]
        rows, columns = mask.shape[1:]
        tile = min(tile, rows, columns)
        j0 = int(np.clip(j - rng.integers(tile // 4, 3 * tile // 4 + 1), 0, rows - tile))
        i0 = int(np.clip(i - rng.integers(tile // 4, 3 * tile // 4 + 1), 0, columns - tile))
        slab = np.clip(np.arange(s - half_slab, s + half_slab + 1), 0, depth - 1)  # edge slices repeat
        window = (slab, slice(j0, j0 + tile), slice(i0, i0 + tile))
        filled = np.moveaxis(crop.filled, axis, 0)[window]
        slabs.append(np.concatenate([filled, mask[window].astype(np.float32)]))
        truths.append(np.moveaxis(crop.truth, axis, 0)[s, window[1], window[2]][None])
    return torch.from_numpy(np.stack(slabs)), torch.from_numpy(np.stack(truths))


def generate(generator, slabs, half_slab):
    """The generator's composite centre slice: initial fill + correction on masked voxels."""
    centre = slabs[:, half_slab: half_slab + 1]
    mask = slabs[:, 3 * half_slab + 1: 3 * half_slab + 2]
    return centre + mask * generator(slabs), mask
