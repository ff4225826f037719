"""Training batches of the recurrent slice imputer: thin blocks of real or synthetic images,
acquired at a random factor as thick (slab means) or sampled slices.

The images are Colin27 at the config's spacings and a pool of domain-randomised synthetic images
of the shared synthesis module (:mod:`.synthesis`; training atlases only: random contrasts,
0.5–5 mm and anisotropic voxels, noise, bias, ghosting, CT), renewed one image every
``refresh_every`` steps so a run sees many more recipes than the pool holds at once. Every image
is normalised with the evaluation protocol's window (p0.5/p99.5), as inference normalises.

A batch comes from one image (its in-plane crop fits that image: coarse synthetic images are
small), with the slice axis drawn from its three axes and random flips.
"""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Sequence

import numpy as np
import torch

from ..imputation.interpolation import interpolate
from ..imputation.layout import Acquisition, simulate
from ..intensity import intensity_window


def normalised(array: np.ndarray) -> np.ndarray:
    """Intensities scaled by the protocol's window, clipped to [0, 1.2] (as the networks see them)."""
    array = np.asarray(array, np.float32)
    low, high = intensity_window(array)
    if not high > low:
        low, high = float(array.min()), float(array.max()) + 1e-6
    return np.clip((array - low) / (high - low), 0, 1.2).astype(np.float32)


def synthetic_volume(label_maps: Sequence[np.ndarray], size: int, rng: np.random.Generator) -> np.ndarray:
    """One normalised synthetic 3-D image of at most ``size``³ voxels (the whole head when coarser)."""
    from .synthesis import draw_recipe, render

    labels = label_maps[rng.integers(len(label_maps))]
    recipe = replace(draw_recipe(rng), slices=0)
    extent = [int(n / s) for n, s in zip(labels.shape, recipe.spacing_mm)]  # atlases are 1 mm
    image, _ = render(labels, recipe, tuple(min(size, e) for e in extent))
    return normalised(image)


class SlicePool:
    """Colin27 volumes plus a renewed pool of synthetic volumes (see the module docstring)."""

    def __init__(self, colin: List[np.ndarray], label_maps: Sequence[np.ndarray], data: dict,
                 rng: np.random.Generator):
        self.colin, self.label_maps, self.data = colin, label_maps, data
        synthetic = data.get("synthetic", {})
        self.fraction = float(synthetic.get("fraction", 0.0)) if label_maps else 0.0
        self.size = int(synthetic.get("size", 96))
        self.refresh_every = int(synthetic.get("refresh_every", 50))
        count = int(synthetic.get("pool", 0)) if label_maps else 0
        self.synthetic = [synthetic_volume(label_maps, self.size, rng) for _ in range(count)]

    def refresh(self, step: int, rng: np.random.Generator) -> None:
        if self.synthetic and step % self.refresh_every == 0:
            self.synthetic[int(rng.integers(len(self.synthetic)))] = synthetic_volume(self.label_maps, self.size, rng)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        use_synthetic = self.synthetic and (not self.colin or rng.random() < self.fraction)
        source = self.synthetic if use_synthetic else self.colin
        return source[int(rng.integers(len(source)))]


def _factor(data: dict, rng: np.random.Generator) -> int:
    factors = list(data["factors"])
    weights = np.asarray(data.get("factor_weights", [1.0] * len(factors)), float)
    return int(factors[rng.choice(len(factors), p=weights / weights.sum())])


def sample_batch(pool: SlicePool, config: dict, rng: np.random.Generator, batch: Optional[int] = None):
    """(acquired (B, n, c, c), cubic base, truth (B, L, c, c), layout) of one factor and
    acquisition, from one image (retried until an image fits and holds the object)."""
    data = config["data"]
    batch = batch or config["train"]["batch"]
    factor = _factor(data, rng)
    acquisition = Acquisition(rng.choice(["thick", "sampled"]))
    for _ in range(200):
        volume = np.moveaxis(pool.draw(rng), int(rng.integers(3)), 0)
        crop = min(int(data["crop"]), min(volume.shape[1:]) // 4 * 4)
        count = int(data["acquired_slices"])
        length = count * factor if acquisition == Acquisition.THICK else (count - 1) * factor + 1
        if crop < 24 or volume.shape[0] < length:
            continue
        blocks = []
        for _ in range(4 * batch):
            start = [int(rng.integers(0, n - s + 1)) for n, s in zip(volume.shape, (length, crop, crop))]
            block = volume[start[0]:start[0] + length, start[1]:start[1] + crop, start[2]:start[2] + crop]
            if (block > 0.1).mean() >= 0.3:
                blocks.append(block)
            if len(blocks) == batch:
                break
        if len(blocks) == batch:
            break
    else:
        raise RuntimeError("no training image fits the slab: check the config's crop and factors")
    acquired, bases, truths = [], [], []
    for block in blocks:
        for axis in range(3):
            if rng.random() < 0.5:
                block = np.flip(block, axis)
        observations, truth, layout = simulate(np.ascontiguousarray(block), factor, acquisition)
        acquired.append(observations)
        bases.append(interpolate(observations, layout))
        truths.append(truth)
    return (torch.as_tensor(np.stack(acquired)), torch.as_tensor(np.stack(bases)),
            torch.as_tensor(np.stack(truths)), layout)
