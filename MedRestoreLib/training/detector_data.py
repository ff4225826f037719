"""Training episodes of the defect detector: a damaged image, its features and crops of them.

An episode is one image — a domain-randomised synthetic image (:mod:`.synthesis`, a 3-D
region, a few slices or one 2-D slice) or a region of Colin27 with a new appearance
(:mod:`.colin`) — damaged by the simulator with one or two random kinds (or left clean), turned
into the detector's features, and cut into a batch of crops, half of them centred on defects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
import torch

from ..defects import DefectKind, apply_defects, foreground_mask, sample_defects
from ..errors import InputError
from . import colin
from .synthesis import draw_recipe, render


@dataclass
class Episode:
    damaged: np.ndarray  # (k, j, i), the image's dtype
    mask: np.ndarray  # (k, j, i) uint8, 1 = defect
    source: str  # "synthetic" or "colin27"


def _image(data: dict, colin_volumes: Sequence[np.ndarray], label_maps: Sequence[np.ndarray],
           rng: np.random.Generator):
    shape = tuple(data["region"])
    if label_maps and rng.random() < data["synthetic_fraction"]:
        recipe = draw_recipe(rng)
        size = ((recipe.slices or shape[0]),) + shape[1:]
        image, _ = render(label_maps[rng.integers(len(label_maps))], recipe, size)
        return image, "synthetic"
    volume = colin_volumes[rng.integers(len(colin_volumes))]
    slices = 1 if rng.random() < 0.1 else (int(rng.integers(2, 6)) if rng.random() < 0.1 else shape[0])
    return colin.new_appearance(colin.region(volume, (slices,) + shape[1:], rng), rng), "colin27"


def damage(image: np.ndarray, kinds: List[str], weights: np.ndarray, rng: np.random.Generator):
    """``image`` damaged by one or two random kinds ('clean': untouched); returns (damaged, mask)."""
    chosen = [kinds[rng.choice(len(kinds), p=weights)] for _ in range(1 + int(rng.random() < 0.3))]
    if "clean" in chosen:
        return image.copy(), np.zeros(image.shape, np.uint8)
    foreground = foreground_mask(image)
    specs = []
    for kind in chosen:
        if kind == DefectKind.MISSING_SLICE.value and image.shape[0] < 3:
            kind = DefectKind.VOID.value
        specs += sample_defects(image, kind, rng, foreground=foreground)
    return apply_defects(image, specs, foreground=foreground)


def episode(data: dict, colin_volumes, label_maps, rng: np.random.Generator) -> Episode:
    """One damaged image (retried while an image holds no object to damage)."""
    kinds = list(data["kinds"])
    weights = np.array([data.get("kind_weights", {}).get(k, 1.0) for k in kinds], float)
    weights /= weights.sum()
    for _ in range(20):
        image, source = _image(data, colin_volumes, label_maps, rng)
        try:
            damaged, mask = damage(image, kinds, weights, rng)
        except InputError:
            continue  # a region of background, or no contrast
        return Episode(damaged, mask, source)
    raise RuntimeError("no image with an object in 20 draws: check the training data")


def crops(features: torch.Tensor, mask: np.ndarray, size: Sequence[int], count: int, rng: np.random.Generator):
    """``count`` crops of ``size`` (clipped to the volume): half centred on defect voxels when
    there are any. Returns (features (B, C, k, j, i), masks (B, 1, k, j, i))."""
    shape = mask.shape
    size = [min(s, n) for s, n in zip(size, shape)]
    defects = np.argwhere(mask)
    batch_features, batch_masks = [], []
    for n in range(count):
        if len(defects) and n % 2 == 0:
            centre = defects[rng.integers(len(defects))]
        else:
            centre = [rng.integers(d) for d in shape]
        start = [int(np.clip(c - s // 2, 0, d - s)) for c, s, d in zip(centre, size, shape)]
        box = tuple(slice(a, a + s) for a, s in zip(start, size))
        batch_features.append(features[(slice(None),) + box])
        batch_masks.append(torch.as_tensor(mask[box], dtype=torch.float32)[None])
    return torch.stack(batch_features), torch.stack(batch_masks)
