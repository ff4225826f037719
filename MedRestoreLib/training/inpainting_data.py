"""Training data of the GAN filler: damaged crops of Colin27 and of synthetic label-map images.

Only DESIGN.md's training data is read: Colin27 (``ch2``, ``ch2bet``; ``ch2better`` is held
out for validation) resampled to each configured spacing, and domain-randomised synthetic images
of the shared synthesis module (:mod:`.synthesis`: random contrasts, resolutions, noise, bias,
ghosting, CT and negative ranges), so the generator meets contrasts other than T1. Masks come
from the defect simulator's own shapes (``sample_defects`` +
``apply_defects``), one or two random kinds per crop.

A crop is a cube; a training tile is one of its slices along a random axis with the slices
either side (the 2.5-D slab the filler sees), windowed around a defect voxel.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
import torch

from ..defects import apply_defects, foreground_mask, sample_defects
from ..errors import InputError
from ..inpainting.smooth_fill import smooth_fill
from ..inpainting.training_tiles import DamagedCrop
from ..intensity import intensity_window
from ..volume import read_volume
from .colin import resample
from .synthesis import synthetic_crop


def normalised(array: np.ndarray) -> np.ndarray:
    """clip-free version of the protocol's normalisation: (v − p0.5)/(p99.5 − p0.5)."""
    low, high = intensity_window(array)
    return ((array.astype(np.float32) - low) / (high - low)).astype(np.float32)


def load_t1(cache: Path, names: List[str], spacings: List[float]) -> List[np.ndarray]:
    return [normalised(resample(read_volume(cache / name), spacing)) for name in names for spacing in spacings]


def t1_crop(volume: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A crop of ``size``³ centred near a random tissue voxel, randomly flipped, with a random
    gamma (contrast) change."""
    centre = [int(rng.integers(n // 4, max(3 * n // 4, n // 4 + 1))) for n in volume.shape]
    start = [int(np.clip(c - size // 2, 0, max(n - size, 0))) for c, n in zip(centre, volume.shape)]
    crop = volume[tuple(slice(a, a + size) for a in start)]
    crop = np.pad(crop, [(0, size - n) for n in crop.shape])
    for axis in range(3):
        if rng.integers(2):
            crop = np.flip(crop, axis)
    gamma = rng.uniform(0.7, 1.4)
    return (np.sign(crop) * np.abs(crop) ** gamma).astype(np.float32)


def defect_mask(image: np.ndarray, kinds: List[str], weights: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """The union of the simulator's masks for one or two random kinds on ``image``."""
    foreground = foreground_mask(image)
    mask = np.zeros(image.shape, bool)
    for _ in range(1 + int(rng.random() < 0.3)):
        kind = kinds[rng.choice(len(kinds), p=weights)]
        specs = sample_defects(image, kind, rng, foreground=foreground)
        mask |= apply_defects(image, specs, foreground=foreground)[1].astype(bool)
    return mask


def damaged_crop(t1_volumes, label_maps, data: dict, model: dict, rng: np.random.Generator) -> DamagedCrop:
    """One crop with a defect mask and its smooth initial fill (the ``model`` config's fill
    settings, as the filler uses them); retries crops with no object."""
    kinds = data["kinds"]
    weights = np.array([data["kind_weights"].get(k, 1.0) for k in kinds], float)
    weights /= weights.sum()
    while True:
        if label_maps and rng.random() < data["synthetic_fraction"]:
            image = synthetic_crop(label_maps[rng.integers(len(label_maps))], data["crop"], rng)
        else:
            image = t1_crop(t1_volumes[rng.integers(len(t1_volumes))], data["crop"], rng)
        if rng.random() < data.get("thin_fraction", 0.0):  # a 2-D image or a 2–4-slice volume
            first = int(rng.integers(0, image.shape[0] - 4))
            image = np.ascontiguousarray(image[first: first + int(rng.integers(1, 5))])
        try:
            mask = defect_mask(image, kinds, weights, rng)
        except InputError:
            continue  # a crop of background: no object to damage
        if mask.any() and not mask.all():
            break
    truth = torch.from_numpy(np.ascontiguousarray(image))
    filled = smooth_fill(truth, torch.from_numpy(~mask), int(model["smoothing_iterations"]),
                         model.get("smoothing_relaxation"))
    return DamagedCrop(image, filled.numpy(), mask)
