"""Colin27 (``ch2``, ``ch2bet``; ``ch2better`` held out) as trainers read it: resampled to a
spacing, and given other appearances — contrast, value range and dtype drawn as the synthesis
module draws them — so the one real training subject does not teach a single look."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np


def resample(volume, spacing) -> np.ndarray:
    """The volume resampled (linear, Gaussian anti-aliasing) to ``spacing`` mm — one number
    (isotropic) or (k, j, i) — as float32 (k, j, i)."""
    import SimpleITK as sitk

    from ..volume import sitk_from_volume, volume_from_sitk

    spacing_ijk = [float(s) for s in (np.broadcast_to(np.asarray(spacing, float), (3,))[::-1])]
    image = sitk.Cast(sitk_from_volume(volume), sitk.sitkFloat32)
    if max(spacing_ijk) > min(image.GetSpacing()):
        sigma = [0.4 * max(s, o) for s, o in zip(spacing_ijk, image.GetSpacing())]
        image = sitk.SmoothingRecursiveGaussian(image, sigma)
    size = [max(1, int(round(n * s / t))) for n, s, t in zip(image.GetSize(), image.GetSpacing(), spacing_ijk)]
    out = sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(),
                        spacing_ijk, image.GetDirection(), 0.0, sitk.sitkFloat32)
    return volume_from_sitk(out).array


def load_volumes(cache: Path, names: List[str], spacings: List[float]) -> List[np.ndarray]:
    """Each named volume of the cache at each isotropic spacing."""
    from ..volume import read_volume

    return [resample(read_volume(Path(cache) / name), spacing) for name in names for spacing in spacings]


def region(volume: np.ndarray, shape: Tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """A region of ``shape`` (clipped to the volume) around a random voxel of the object."""
    inside = np.argwhere(volume > np.percentile(volume, 60))
    centre = inside[rng.integers(len(inside))] if len(inside) else np.array(volume.shape) // 2
    shape = [min(s, n) for s, n in zip(shape, volume.shape)]
    start = [int(np.clip(c - s // 2, 0, n - s)) for c, s, n in zip(centre, shape, volume.shape)]
    return np.ascontiguousarray(volume[tuple(slice(a, a + s) for a, s in zip(start, shape))])


def new_appearance(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colin27 with another look: a random gamma, sometimes inverted inside the head (a
    T2-like contrast), noise, a random scale and offset, cast to a random dtype."""
    from .synthesis import DTYPES

    values = np.asarray(array, np.float32)
    top = max(float(values.max()), 1e-6)
    unit = np.clip(values / top, 0, None) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.25:
        head = unit > 0.05
        unit = np.where(head, 1.05 - unit, unit)
    if rng.random() < 0.5:
        unit = unit + rng.normal(0, rng.uniform(0, 0.05), unit.shape)
    scale = float(np.exp(rng.uniform(np.log(50), np.log(5000))))
    offset = -rng.uniform(0.1, 0.8) * scale if rng.random() < 0.15 else 0.0
    image = unit * scale + offset
    dtype = DTYPES[int(rng.integers(len(DTYPES)))]
    if dtype == "float32":
        return image.astype(np.float32)
    if dtype == "uint8":
        image = (image - image.min()) / max(float(image.max() - image.min()), 1e-6) * 255
    info = np.iinfo(np.dtype(dtype))
    return np.clip(np.round(image), info.min, info.max).astype(dtype)
