"""Domain-randomised synthetic images from atlas label maps: the one image generator every
trainer shares (the detector, the GAN filler, the slice imputer), and — with fixed, named
recipes on atlases no trainer sees — the benchmark's synthetic domains.

An image is made in five steps, each drawn from :class:`SynthesisRanges` (TorchIO's split: a
random draw of :class:`Recipe` parameters, then a deterministic :func:`render`):

1. anatomy: a label map (1 mm MNI space), randomly flipped and deformed by a smooth field;
   optionally a head around the brain (scalp and a skull shell), or the brain alone with the
   background exactly 0 (skull-stripped);
2. contrast: a random intensity per label (or a recipe's table: T1/T2/PD-like, CT in HU);
3. acquisition: partial-volume blur, resampling to a spacing per axis (0.5–5 mm, anisotropic),
   a multiplicative bias field, an N/2 ghost along a phase-encoding axis, Gaussian or Rician noise
   (none for noise-free templates);
4. value range: MR-like scales and offsets (negative ones too), or Hounsfield units with −1000
   air, soft tissue 0–80 and bone 400–1500; cast to uint8, int16 or float32;
5. extent: the whole volume, a few slices, or one 2-D slice.

Only DESIGN.md's label maps are read. Trainers draw from :data:`TRAINING_ATLASES`; the
benchmark's held-out domains use :data:`HELD_OUT_ATLASES` (other anatomy, never trained on).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy import ndimage

TRAINING_ATLASES = ("aal.nii.gz", "brodmann.nii.gz", "HarvardOxford-cort-maxprob-thr0-1mm.nii.gz",
                    "JHU-WhiteMatter-labels-1mm.nii.gz")
HELD_OUT_ATLASES = ("AICHAmc.nii.gz", "natbrainlab.nii.gz")
CONTRASTS = ("random", "t1", "t2", "pd", "ct")
DTYPES = ("uint8", "int16", "float32")


@dataclass
class Recipe:
    """Everything that decides one synthetic image (JSON-ready); :func:`render` is deterministic."""

    contrast: str = "random"  # one of CONTRASTS
    head: bool = False  # scalp and skull around the brain
    masked: bool = False  # everything outside the brain exactly 0 (skull-stripped images)
    spacing_mm: Tuple[float, float, float] = (1.0, 1.0, 1.0)  # (k, j, i)
    blur_mm: float = 0.5
    bias: float = 0.0  # amplitude of log bias field
    ghost: float = 0.0  # N/2 ghost amplitude (fraction of the image)
    noise: float = 0.02  # noise sigma as a fraction of the tissue range
    rician: bool = True
    scale: float = 1000.0  # MR: tissue maximum maps near this value
    offset: float = 0.0  # MR: added after scaling (negative ranges)
    dtype: str = "float32"
    slices: int = 0  # 0: all; else keep this many central slices (1: a 2-D image)
    deformation_mm: float = 3.0
    seed: int = 0  # the per-label contrast, deformation, bias, noise


@dataclass
class SynthesisRanges:
    """What training randomises over (every field a range or a probability)."""

    spacing_mm: Tuple[float, float] = (0.5, 5.0)
    anisotropic: float = 0.5  # probability that the slice axis gets its own spacing
    blur_mm: Tuple[float, float] = (0.0, 1.5)
    bias: Tuple[float, float] = (0.0, 0.4)
    ghost: Tuple[float, float] = (0.0, 0.15)
    ghost_probability: float = 0.3
    noise: Tuple[float, float] = (0.0, 0.10)
    noise_free: float = 0.1
    head: float = 0.5
    masked: float = 0.3  # skull-stripped: background exactly 0 (MR only)
    contrast_weights: Dict[str, float] = field(
        default_factory=lambda: {"random": 4.0, "t1": 1.0, "t2": 1.0, "pd": 1.0, "ct": 1.0})
    negative: float = 0.15  # probability of an MR range shifted below zero
    single_slice: float = 0.1
    thin: float = 0.1  # 2–5 slices


def draw_recipe(rng: np.random.Generator, ranges: Optional[SynthesisRanges] = None) -> Recipe:
    """A random :class:`Recipe` from ``ranges`` (the training distribution by default)."""
    ranges = ranges or SynthesisRanges()
    names = list(ranges.contrast_weights)
    weights = np.array([ranges.contrast_weights[n] for n in names], float)
    contrast = names[rng.choice(len(names), p=weights / weights.sum())]
    in_plane = float(np.exp(rng.uniform(*np.log(ranges.spacing_mm))))
    through = float(np.exp(rng.uniform(*np.log(ranges.spacing_mm)))) if rng.random() < ranges.anisotropic else in_plane
    single, thin = rng.random() < ranges.single_slice, rng.random() < ranges.thin
    return Recipe(
        contrast=contrast, head=bool(contrast == "ct" or rng.random() < ranges.head),
        masked=bool(contrast != "ct" and rng.random() < ranges.masked),
        spacing_mm=(through, in_plane, in_plane), blur_mm=float(rng.uniform(*ranges.blur_mm)),
        bias=float(rng.uniform(*ranges.bias)),
        ghost=float(rng.uniform(*ranges.ghost)) if rng.random() < ranges.ghost_probability else 0.0,
        noise=0.0 if rng.random() < ranges.noise_free else float(rng.uniform(*ranges.noise)),
        rician=bool(rng.random() < 0.5), scale=float(np.exp(rng.uniform(np.log(50), np.log(5000)))),
        offset=float(-rng.uniform(0.2, 1.0)) if contrast != "ct" and rng.random() < ranges.negative else 0.0,
        dtype=DTYPES[int(rng.integers(len(DTYPES)))] if contrast != "ct" else "int16",
        slices=1 if single else (int(rng.integers(2, 6)) if thin else 0),
        deformation_mm=float(rng.uniform(0.0, 4.0)), seed=int(rng.integers(2 ** 31 - 1)))


def load_label_maps(cache: Path, names=TRAINING_ATLASES) -> List[np.ndarray]:
    """The label maps (int32, (k, j, i)) from the data cache, resampled to 1 mm (AICHA is 2 mm)."""
    from ..volume import read_volume

    maps = []
    for name in names:
        volume = read_volume(Path(cache) / name)
        labels = np.asarray(volume.array).astype(np.int32)
        spacing = np.asarray(volume.spacing)[::-1]  # (k, j, i)
        if not np.allclose(spacing, 1.0):
            labels = ndimage.zoom(labels, spacing, order=0, mode="nearest")
        maps.append(labels)
    return maps


def _smooth_field(shape, rng, coarse: int = 4) -> np.ndarray:
    """A smooth random field in about [-1, 1]: coarse noise upsampled by cubic splines."""
    grid = rng.normal(0.0, 1.0, (coarse,) * 3)
    field_ = ndimage.zoom(grid, [n / coarse for n in shape], order=3, mode="nearest")
    return field_[: shape[0], : shape[1], : shape[2]]


def brain_mask(labels: np.ndarray) -> np.ndarray:
    """The brain the labels outline, unlabelled interior (white matter, ventricles) included:
    closed in 3-D, then holes filled slice by slice along each axis."""
    brain = ndimage.binary_closing(labels > 0, iterations=3)
    for axis in range(3):
        brain = np.moveaxis(brain, axis, 0)
        for k in range(brain.shape[0]):
            brain[k] = ndimage.binary_fill_holes(brain[k])
        brain = np.moveaxis(brain, 0, axis)
    return brain


def _region(labels: np.ndarray, recipe: Recipe, grid: int, size: Optional[Tuple[int, int, int]], rng) -> np.ndarray:
    """Labels on a ``grid`` mm grid, cut to what an output of ``size`` voxels covers (around a
    random point of the brain), randomly flipped."""
    labels = np.asarray(labels, np.int32)[::grid, ::grid, ::grid]
    if size is not None:
        extent = [min(n, int(np.ceil(s * mm / grid)) + 4) for s, mm, n in zip(size, recipe.spacing_mm, labels.shape)]
        inside = np.argwhere(labels > 0)
        centre = inside[rng.integers(len(inside))] if len(inside) else np.array(labels.shape) // 2
        start = [int(np.clip(c - e // 2, 0, n - e)) for c, e, n in zip(centre, extent, labels.shape)]
        labels = labels[tuple(slice(a, a + e) for a, e in zip(start, extent))]
    for axis in range(3):
        if rng.integers(2):
            labels = np.flip(labels, axis)
    return np.ascontiguousarray(labels)


def _anatomy(labels: np.ndarray, recipe: Recipe, grid: int, rng) -> Tuple[np.ndarray, np.ndarray, int, int]:
    """Deformed labels with, optionally, scalp (label max+2) and skull (max+1) around the brain;
    returns (labels, brain mask, skull label, scalp label); 0 stays outside."""
    if recipe.deformation_mm > 0:
        displacement = [recipe.deformation_mm / grid * _smooth_field(labels.shape, rng) for _ in range(3)]
        coordinates = np.indices(labels.shape, dtype=np.float32) + np.stack(displacement).astype(np.float32)
        labels = ndimage.map_coordinates(labels, coordinates, order=0, mode="nearest")
    top = int(labels.max())
    skull, scalp = top + 1, top + 2
    brain = brain_mask(labels)
    if recipe.head:
        distance = ndimage.distance_transform_edt(~brain) * grid
        thickness = rng.uniform(3.0, 7.0)
        labels = np.where(~brain & (distance <= thickness), skull, labels)
        labels = np.where(~brain & (distance > thickness) & (distance <= thickness + rng.uniform(2, 6)), scalp, labels)
    return labels, brain, skull, scalp


def _contrast(labels: np.ndarray, brain: np.ndarray, recipe: Recipe, skull: int, scalp: int, rng) -> np.ndarray:
    """Intensity per label in tissue units: MR recipes in [0, 1] (scaled later), CT in HU."""
    count = max(int(labels.max()), scalp) + 1
    interior = brain & (labels == 0)  # unlabelled brain: white matter and CSF
    if recipe.contrast == "ct":
        table = rng.uniform(20.0, 45.0, count)  # grey/white matter, HU
        table[0], table[skull], table[scalp] = -1000.0, rng.uniform(400, 1500), rng.uniform(-100, 60)
        interior_value = rng.uniform(0.0, 30.0)
    else:
        if recipe.contrast == "random":
            table = rng.uniform(0.05, 1.0, count)
            interior_value = rng.uniform(0.05, 1.0)
        else:  # (grey matter, white matter/CSF interior, skull, scalp) per named contrast
            grey, white, bone, fat = {"t1": (0.55, 0.85, 0.1, 0.95), "t2": (0.6, 0.95, 0.05, 0.7),
                                      "pd": (0.8, 0.7, 0.15, 0.85)}[recipe.contrast]
            table = grey + rng.normal(0.0, 0.05, count)
            interior_value = white
            table[skull], table[scalp] = bone, fat
        table[0] = 0.0
    image = table[labels]
    return np.where(interior, interior_value, image).astype(np.float32)


def _acquire(image: np.ndarray, recipe: Recipe, grid: int, background: float, rng,
             size: Optional[Tuple[int, int, int]] = None) -> np.ndarray:
    """Blur, resample from the ``grid`` mm grid to the recipe's spacing, bias, ghost and noise."""
    if recipe.blur_mm > 0:
        image = ndimage.gaussian_filter(image, recipe.blur_mm / grid)
    spacing = np.asarray(recipe.spacing_mm, float) / grid  # in grid voxels
    smooth = np.maximum(spacing / 2.0 - 0.5, 0.0)  # anti-aliasing before going coarser
    if smooth.any():
        image = ndimage.gaussian_filter(image, smooth)
    image = ndimage.zoom(image, 1.0 / spacing, order=1, mode="nearest")
    if size is not None:
        image = image[: size[0], : size[1], : size[2]]
        image = np.pad(image, [(0, max(s - n, 0)) for s, n in zip(size, image.shape)], mode="edge")
    tissue = image - background
    span = float(np.percentile(np.abs(tissue), 99.5)) or 1.0
    if recipe.bias > 0:
        tissue = tissue * np.exp(recipe.bias * _smooth_field(image.shape, rng))
    if recipe.ghost > 0:
        axis = 1 + int(rng.integers(2))
        tissue = tissue + recipe.ghost * np.roll(tissue, image.shape[axis] // 2, axis=axis)
    if recipe.noise > 0:
        sigma = recipe.noise * span
        if recipe.rician and recipe.contrast != "ct":
            tissue = np.hypot(tissue + rng.normal(0, sigma, tissue.shape), rng.normal(0, sigma, tissue.shape))
        else:
            tissue = tissue + rng.normal(0, sigma, tissue.shape)
    return (tissue + background).astype(np.float32)


def _value_range(image: np.ndarray, recipe: Recipe) -> np.ndarray:
    """MR: scale so tissue reaches ``scale``, shift by ``offset``·scale; CT stays in HU."""
    if recipe.contrast != "ct":
        image = image / max(float(np.percentile(image, 99.9)), 1e-6) * recipe.scale + recipe.offset * recipe.scale
    if recipe.dtype == "float32":
        return image.astype(np.float32)
    info = np.iinfo(np.dtype(recipe.dtype))
    if recipe.dtype == "uint8":
        low = min(float(image.min()), 0.0)
        image = (image - low) / max(float(image.max()) - low, 1e-6) * 255.0  # uint8 has no room for offsets
    return np.clip(np.round(image), info.min, info.max).astype(recipe.dtype)


def render(labels: np.ndarray, recipe: Recipe,
           size: Optional[Tuple[int, int, int]] = None) -> Tuple[np.ndarray, Tuple[float, float, float]]:
    """The synthetic image of ``recipe`` on ``labels`` (1 mm grid).

    Args:
        labels: an atlas label map, (k, j, i), 1 mm.
        recipe: the image's settings.
        size: output size in voxels (k, j, i), a random region of the brain; None: the whole map.

    Returns:
        (array (k, j, i) of the recipe's dtype, spacing in mm (k, j, i)).
    """
    rng = np.random.default_rng(recipe.seed)
    # Work on a grid as coarse as the output allows: a 4 mm image needs no 1 mm deformation field.
    grid = int(np.clip(np.floor(min(recipe.spacing_mm)), 1, 3))
    labels = _region(labels, recipe, grid, size, rng)
    labels, brain, skull, scalp = _anatomy(labels, recipe, grid, rng)
    image = _contrast(labels, brain, recipe, skull, scalp, rng)
    background = -1000.0 if recipe.contrast == "ct" else 0.0
    image = _acquire(image, recipe, grid, background, rng, size)
    if recipe.masked:  # skull-stripped: the brain and a rim of CSF, the rest exactly the background
        spacing = np.asarray(recipe.spacing_mm, float) / grid
        rim = max(1, int(round(rng.uniform(1.0, 3.0) / grid)))
        grown = ndimage.binary_dilation(brain, iterations=rim)
        inside = ndimage.zoom(grown.astype(np.float32), 1.0 / spacing, order=1, mode="nearest")
        if size is not None:
            inside = inside[: size[0], : size[1], : size[2]]
            inside = np.pad(inside, [(0, max(a - n, 0)) for a, n in zip(size, inside.shape)], mode="edge")
        image = np.where(inside > 0.5, image, background).astype(np.float32)
    image = _value_range(image, recipe)
    if recipe.slices:
        middle = image.shape[0] // 2
        first = max(0, middle - recipe.slices // 2)
        image = image[first: first + recipe.slices]
    return np.ascontiguousarray(image), tuple(float(s) for s in recipe.spacing_mm)


def synthetic_crop(labels: np.ndarray, size: int, rng: np.random.Generator,
                   ranges: Optional[SynthesisRanges] = None) -> np.ndarray:
    """A ``size``³ crop (float32, normalised to the protocol's window) of a random synthetic
    image — what the GAN trainer mixes with Colin27 crops. Drawn at ≤ 2.5 mm so a crop holds
    anatomy, and always 3-D."""
    from ..intensity import intensity_window

    recipe = replace(draw_recipe(rng, ranges), slices=0)
    recipe.spacing_mm = tuple(min(s, 2.5) for s in recipe.spacing_mm)
    crop, _ = render(labels, recipe, (size, size, size))
    crop = crop.astype(np.float32)
    low, high = intensity_window(crop)
    return ((crop - low) / max(high - low, 1e-6)).astype(np.float32)
