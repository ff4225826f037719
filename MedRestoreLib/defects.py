"""Defect simulator: realistic damage with a ground-truth mask, for training and evaluation.

A random sampler draws :class:`DefectSpec` records (``sample_defects``); a deterministic function
applies them (``apply_defects``) — TorchIO's ``RandomNoise`` → ``Noise`` split. Specs are plain
dataclasses, so ``json.dumps(dataclasses.asdict(spec))`` records exactly what was done, and
``DefectSpec.from_dict`` replays it. Arrays are in (k, j, i) order (slice, row, column).

Defects as they occur on scanners (DESIGN.md). With lo, hi = p0.5, p99.5 of the non-zero voxels,
r = hi − lo, and [min, max] the scan's whole range: dead pixels any value of [min, max] at least
0.2·(max − min) from the true value; hot pixels lo + U(0.85, 1.3)·r; line dropouts (full or
10–50 % partial, one voxel wide) lo + U(0, 0.1)·r + N(0, 0.02·r); attenuation multiplies by
U(0.1, 0.6); noise blobs (``noise-burst``) replace the region by values uniform over [min, max];
blobs lo + U(0, 0.15)·r (dark) or lo + U(0.85, 1.2)·r (bright) + N(0, 0.03·r); boxes
lo + U(0, 0.05)·r + N(0, 0.02·r); a missing slice lo + N(0, 0.01·r); signal voids (``void``)
set a box, ellipsoid, line, whole slice or slab of whole slices to exactly 0 or to the scan's
minimum. Every defect but whole slices is cut to the imaged object. Each works on 3-D volumes,
on volumes of a few slices and on single 2-D slices (shape (1, rows, columns)).

Example:
    >>> damaged, mask, specs = corrupt(read_volume("brain.nii.gz"), "blob", seed=3)
    >>> [dataclasses.asdict(s) for s in specs]      # the ground truth, JSON-ready
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .defect_shapes import (
    bounding_extent,
    box_mask,
    broad_slices,
    check_grey_dtype,
    ellipsoid_mask,
    foreground_mask,
    intensity_range,
    place_box,
    sample_line,
    slab_ellipsoid,
)
from .errors import InputError
from .volume import Volume, VolumeKind, cast_to_dtype

__all__ = ["DefectKind", "DefectSpec", "VoidShape", "sample_defects", "apply_defects", "corrupt", "foreground_mask"]


class DefectKind(str, Enum):
    """What damage to simulate; the value is the CLI's ``--kind``."""

    DEAD_PIXELS = "dead-pixels"
    HOT_PIXELS = "hot-pixels"
    LINE_DROPOUT = "line-dropout"
    PARTIAL_LINE = "partial-line"
    ATTENUATION = "attenuation"
    NOISE_BURST = "noise-burst"
    BLOB = "blob"
    BOX = "box"
    MISSING_SLICE = "missing-slice"
    VOID = "void"
    MIXED = "mixed"


class VoidShape(str, Enum):
    """The shapes a signal void takes (``void`` defects)."""

    BOX = "box"
    ELLIPSOID = "ellipsoid"
    LINE = "line"
    SLICE = "slice"  # one whole slice, background included
    SLAB = "slab"  # 2–4 whole consecutive slices


_PIXEL_KINDS = (DefectKind.DEAD_PIXELS, DefectKind.HOT_PIXELS)
_ELLIPSOID_KINDS = (DefectKind.ATTENUATION, DefectKind.NOISE_BURST, DefectKind.BLOB)
_WHOLE_SLICE_VOIDS = (VoidShape.SLICE.value, VoidShape.SLAB.value)


@dataclass
class DefectSpec:
    """One defect, exactly: where it is and what it does. Fields a kind does not use keep defaults.

    Args:
        kind: the defect kind (never ``MIXED``).
        voxels: dead/hot pixels: the [k, j, i] indices of the voxels.
        values: dead/hot pixels: the value of each voxel, same order as ``voxels``.
        start: lines, boxes, missing slices: first [k, j, i] of the box the defect fills.
        stop: same, one past the last voxel (a line is a 1×1×L or 1×L×1 box).
        center: attenuation, noise burst, blob: ellipsoid centre [k, j, i] in voxels.
        radii: same, semi-axes [rk, rj, ri] in voxels.
        level: constant value filled in (lines, blobs, boxes, missing slices).
        factor: attenuation: v ← baseline + (v − baseline)·factor.
        baseline: attenuation: min(0, lo), so non-negative images are simply multiplied.
        noise_sigma: standard deviation of the Gaussian noise added to the region.
        seed: seed of that noise (``numpy.random.default_rng``), drawn in region voxel order;
            noise blobs draw their uniform values from it too.
        value_range: noise blobs: [low, high] of the uniform values.
        shape: voids: a :class:`VoidShape` value (ellipsoid voids use ``center``/``radii``,
            the others ``start``/``stop``).
        inside_foreground: cut the region to the imaged object (False for missing slices and
            whole-slice voids).
    """

    kind: DefectKind
    voxels: List[List[int]] = field(default_factory=list)
    values: List[float] = field(default_factory=list)
    start: List[int] = field(default_factory=list)
    stop: List[int] = field(default_factory=list)
    center: List[float] = field(default_factory=list)
    radii: List[float] = field(default_factory=list)
    level: float = 0.0
    factor: float = 1.0
    baseline: float = 0.0
    noise_sigma: float = 0.0
    seed: int = 0
    value_range: List[float] = field(default_factory=list)
    shape: str = ""
    inside_foreground: bool = True

    def __post_init__(self):
        self.kind = DefectKind(self.kind)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DefectSpec":
        """Rebuild a spec from ``dataclasses.asdict`` output (or its JSON)."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def _as_kind(kind: Union[str, DefectKind]) -> DefectKind:
    try:
        return DefectKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in DefectKind)
        raise InputError(f"unknown defect kind {kind!r}; choose one of: {choices}") from None


class _Sampler:
    """The shared state of one ``sample_defects`` call."""

    def __init__(self, array, foreground, rng, box_size):
        self.foreground, self.rng, self.box_size = foreground, rng, box_size
        self.array = array
        self.lo, hi = intensity_range(array)
        self.r = hi - self.lo
        finite = np.asarray(array, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        self.minimum, self.maximum = float(finite.min()), float(finite.max())
        self.extent = bounding_extent(foreground)
        # Region sizes are given for ~64+ voxel wide objects; shrink them on smaller ones.
        self.scale = min(1.0, float(min(self.extent[1:])) / 64.0)

    def radius_range(self, low: float, high: float) -> Tuple[float, float]:
        return max(1.0, low * self.scale), max(1.0, high * self.scale)

    def seed(self) -> int:
        return int(self.rng.integers(2 ** 31 - 1))

    def default_count(self, kind: DefectKind) -> int:
        if kind in _PIXEL_KINDS:
            return max(5, int(round(0.0005 * int(self.foreground.sum()))))
        if kind in (DefectKind.LINE_DROPOUT, DefectKind.PARTIAL_LINE):
            return int(self.rng.integers(2, 5))
        if kind is DefectKind.MISSING_SLICE:
            return 1
        if kind is DefectKind.VOID:
            return int(self.rng.integers(1, 3))
        return int(self.rng.integers(2, 4))

    def pixels(self, kind: DefectKind, count: int) -> List[DefectSpec]:
        inside = np.flatnonzero(self.foreground)
        chosen = np.sort(self.rng.choice(len(inside), size=min(count, len(inside)), replace=False))
        voxels = np.stack(np.unravel_index(inside[chosen], self.foreground.shape), axis=1)
        if kind is DefectKind.DEAD_PIXELS:
            truth = np.asarray(self.array, dtype=np.float64)[tuple(voxels.T)]
            values = self._far_values(truth)
        else:
            values = self.lo + self.rng.uniform(0.85, 1.3, size=len(chosen)) * self.r
        return [DefectSpec(kind, voxels=voxels.tolist(), values=[float(v) for v in values])]

    def _far_values(self, truth: np.ndarray) -> np.ndarray:
        """Values uniform over the scan's range, each ≥ 20 % of the range from its true value:
        drawn from the range with the excluded interval around the truth cut out."""
        span = self.maximum - self.minimum
        low = np.clip(truth - 0.2 * span, self.minimum, self.maximum)
        high = np.clip(truth + 0.2 * span, self.minimum, self.maximum)
        below, above = low - self.minimum, self.maximum - high  # lengths of the allowed parts
        draw = self.rng.uniform(0.0, 1.0, size=len(truth)) * (below + above)
        return np.where(draw < below, self.minimum + draw, high + (draw - below))

    def missing_slices(self, count: int) -> List[DefectSpec]:
        broad = broad_slices(self.foreground)
        others = np.setdiff1d(np.arange(self.foreground.shape[0]), broad)
        order = np.concatenate([self.rng.permutation(broad), self.rng.permutation(others)])
        _, rows, columns = self.foreground.shape
        return [DefectSpec(DefectKind.MISSING_SLICE, start=[int(k), 0, 0], stop=[int(k) + 1, rows, columns],
                           level=self.lo, noise_sigma=0.01 * self.r, seed=self.seed(), inside_foreground=False)
                for k in sorted(order[:count])]

    def one(self, kind: DefectKind) -> DefectSpec:
        rng, lo, r = self.rng, self.lo, self.r
        if kind in (DefectKind.LINE_DROPOUT, DefectKind.PARTIAL_LINE):
            start, stop = sample_line(self.foreground, kind is DefectKind.PARTIAL_LINE, rng)
            return DefectSpec(kind, start=start, stop=stop, level=float(lo + rng.uniform(0, 0.1) * r),
                              noise_sigma=float(0.02 * r), seed=self.seed())
        if kind in (DefectKind.ATTENUATION, DefectKind.NOISE_BURST):
            center, radii = slab_ellipsoid(self.foreground, int(rng.integers(1, 5)), self.radius_range(4, 12), rng)
            if kind is DefectKind.ATTENUATION:
                return DefectSpec(kind, center=center, radii=radii, factor=float(rng.uniform(0.1, 0.6)),
                                  baseline=min(0.0, lo))
            return DefectSpec(kind, center=center, radii=radii, seed=self.seed(),
                              value_range=[self.minimum, self.maximum])
        if kind is DefectKind.BLOB:
            radius_range = self.radius_range(3, 10)
            slices = max(2, int(round(2 * rng.uniform(*radius_range))))
            center, radii = slab_ellipsoid(self.foreground, slices, radius_range, rng)
            dark = bool(rng.integers(2))
            level = lo + (rng.uniform(0, 0.15) if dark else rng.uniform(0.85, 1.2)) * r
            return DefectSpec(kind, center=center, radii=radii, level=float(level),
                              noise_sigma=0.03 * r, seed=self.seed())
        if kind is DefectKind.BOX:
            if self.box_size is None:
                size = np.minimum(rng.integers(6, 33, size=3), self.extent)
            else:
                size = np.broadcast_to(np.asarray(self.box_size, dtype=int), (3,)).copy()
            if self.foreground.shape[0] >= 2:
                size[0] = max(size[0], 2)
            start, stop = place_box(self.foreground, size.tolist(), rng)
            return DefectSpec(kind, start=start, stop=stop, level=float(lo + rng.uniform(0, 0.05) * r),
                              noise_sigma=float(0.02 * r), seed=self.seed())
        if kind is DefectKind.VOID:
            return self.void()
        raise InputError(f"cannot sample a single {kind.value} defect")

    def void(self) -> DefectSpec:
        """A signal void: exactly 0 or the scan's minimum, in one of the :class:`VoidShape` shapes."""
        rng = self.rng
        level = 0.0 if self.minimum >= 0 or rng.random() < 0.5 else self.minimum
        if self.box_size is not None:
            shape = VoidShape.BOX
        else:
            shapes = [VoidShape.BOX, VoidShape.ELLIPSOID, VoidShape.LINE]
            if self.foreground.shape[0] >= 3:
                shapes += [VoidShape.SLICE, VoidShape.SLAB]
            weights = np.array([3.0, 3.0, 2.0, 1.0, 1.0][: len(shapes)])
            shape = shapes[rng.choice(len(shapes), p=weights / weights.sum())]
        spec = DefectSpec(DefectKind.VOID, level=float(level), shape=shape.value)
        if shape is VoidShape.ELLIPSOID:
            radius_range = self.radius_range(3, 14)
            slices = max(1, int(round(2 * rng.uniform(*radius_range))))
            spec.center, spec.radii = slab_ellipsoid(self.foreground, slices, radius_range, rng)
        elif shape is VoidShape.LINE:
            spec.start, spec.stop = sample_line(self.foreground, bool(rng.integers(2)), rng)
        elif shape in (VoidShape.SLICE, VoidShape.SLAB):
            count = 1 if shape is VoidShape.SLICE else int(rng.integers(2, 5))
            broad = broad_slices(self.foreground)
            k = int(np.clip(broad[rng.integers(len(broad))], 0, self.foreground.shape[0] - count))
            _, rows, columns = self.foreground.shape
            spec.start, spec.stop = [k, 0, 0], [k + count, rows, columns]
            spec.inside_foreground = False
        else:
            size = (np.minimum(rng.integers(4, 33, size=3), self.extent) if self.box_size is None
                    else np.broadcast_to(np.asarray(self.box_size, dtype=int), (3,)).copy())
            spec.start, spec.stop = place_box(self.foreground, size.tolist(), rng)
        return spec

    def kind(self, kind: DefectKind, count: int) -> List[DefectSpec]:
        if kind in _PIXEL_KINDS:
            return self.pixels(kind, count)
        if kind is DefectKind.MISSING_SLICE:
            return self.missing_slices(count)
        return [self.one(kind) for _ in range(count)]


def sample_defects(array: np.ndarray, kind: Union[str, DefectKind], rng: np.random.Generator,
                   count: Optional[int] = None, foreground: Optional[np.ndarray] = None,
                   box_size: Union[int, Sequence[int], None] = None) -> List[DefectSpec]:
    """Draw defect specs for ``array``; nothing is changed (see :func:`apply_defects`).

    Args:
        array: the intact image, shape (k, j, i), integer or float dtype.
        kind: a :class:`DefectKind` or its value, e.g. ``"line-dropout"``.
        rng: the source of every random choice; the same state gives the same specs.
        count: how many defects: voxels for dead/hot pixels (default 0.05 % of the object, at
            least 5), lines (default 2–4), regions (default 2–3), missing slices (default 1). For
            ``MIXED`` it is the number of each line and region kind (default 1–2); pixels keep
            their default and there is one missing slice when the volume has ≥ 3 slices.
        foreground: the imaged object (bool, same shape); :func:`foreground_mask` by default.
        box_size: box side lengths (k, j, i) or one length for all; default U{6…32} per side,
            clipped to the object's bounding box, at least 2 slices when the volume has them.
            For ``void`` a given size makes every void a box of that size.

    Returns:
        The specs, in the order :func:`apply_defects` applies them.

    Raises:
        InputError: unknown kind, bad count, non-grey-level dtype, or no imaged object.
    """
    kind = _as_kind(kind)
    array = np.asarray(array)
    check_grey_dtype(array)
    if count is not None and int(count) < 1:
        raise InputError(f"the defect count must be at least 1, got {count}")
    if box_size is not None and (np.size(box_size) not in (1, 3) or np.min(box_size) < 1):
        raise InputError(f"the box size must be one or three positive lengths (k, j, i), got {box_size}")
    if foreground is None:
        foreground = foreground_mask(array)
    foreground = np.asarray(foreground, dtype=bool)
    if foreground.shape != array.shape or not foreground.any():
        raise InputError("the foreground mask is empty or does not match the image shape")
    sampler = _Sampler(array, foreground, rng, box_size)
    if kind is not DefectKind.MIXED:
        return sampler.kind(kind, int(count) if count is not None else sampler.default_count(kind))
    specs: List[DefectSpec] = []
    for part in DefectKind:
        if part is DefectKind.MIXED or (part is DefectKind.MISSING_SLICE and array.shape[0] < 3):
            continue
        if part in _PIXEL_KINDS:
            number = sampler.default_count(part)
        elif part is DefectKind.MISSING_SLICE:
            number = 1
        else:
            number = int(count) if count is not None else int(rng.integers(1, 3))
        specs.extend(sampler.kind(part, number))
    return specs


def _region(spec: DefectSpec, shape: Tuple[int, ...], foreground: Optional[np.ndarray]) -> np.ndarray:
    if spec.kind in _PIXEL_KINDS:
        region = np.zeros(shape, dtype=bool)
        if spec.voxels:
            region[tuple(np.asarray(spec.voxels, dtype=int).T)] = True
        return region
    if spec.kind in _ELLIPSOID_KINDS or (spec.kind is DefectKind.VOID and spec.shape == VoidShape.ELLIPSOID.value):
        region = ellipsoid_mask(shape, spec.center, spec.radii)
    else:
        region = box_mask(shape, spec.start, spec.stop)
    return region & foreground if spec.inside_foreground else region


def apply_defects(array: np.ndarray, specs: Sequence[Union[DefectSpec, Mapping[str, Any]]],
                  foreground: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Apply defect specs, in order, to a copy of ``array``; deterministic, input unchanged.

    Args:
        array: the intact image, shape (k, j, i), integer or float dtype.
        specs: from :func:`sample_defects`, or their ``dataclasses.asdict`` dictionaries.
        foreground: the object that regions are cut to; :func:`foreground_mask` of ``array``
            by default (computed only when a spec needs it).

    Returns:
        (damaged, mask): ``damaged`` has the dtype of ``array`` (values rounded for integers and
        clipped to the dtype's range) and equals it bit for bit where ``mask`` is 0; ``mask`` is
        uint8 0/1 of the same shape, 1 on every voxel a defect touched.
    """
    array = np.asarray(array)
    check_grey_dtype(array)
    specs = [s if isinstance(s, DefectSpec) else DefectSpec.from_dict(s) for s in specs]
    if foreground is None and any(s.inside_foreground and s.kind not in _PIXEL_KINDS for s in specs):
        foreground = foreground_mask(array)
    values = array.astype(np.float64)
    mask = np.zeros(array.shape, dtype=bool)
    for spec in specs:
        region = _region(spec, array.shape, foreground)
        noise = np.random.default_rng(spec.seed).normal(0.0, spec.noise_sigma, int(region.sum()))
        if spec.kind in _PIXEL_KINDS:
            values[tuple(np.asarray(spec.voxels, dtype=int).T)] = spec.values
        elif spec.kind is DefectKind.ATTENUATION:
            values[region] = spec.baseline + (values[region] - spec.baseline) * spec.factor
        elif spec.kind is DefectKind.NOISE_BURST:
            low, high = spec.value_range if spec.value_range else (values.min(), values.max())
            values[region] = np.random.default_rng(spec.seed).uniform(low, high, int(region.sum()))
        else:
            values[region] = spec.level + noise
        mask |= region
    damaged = array.copy()
    damaged[mask] = cast_to_dtype(values[mask], array.dtype)
    return damaged, mask.astype(np.uint8)


def corrupt(volume: Volume, kind: Union[str, DefectKind], seed: int = 0, count: Optional[int] = None,
            box_size: Union[int, Sequence[int], None] = None) -> Tuple[Volume, Volume, List[DefectSpec]]:
    """Damage a volume with defects of one kind (``medrestore corrupt``).

    Args:
        volume: the intact volume; not modified.
        kind: a :class:`DefectKind` or its value.
        seed: seeds ``numpy.random.default_rng``; the same seed gives the same result.
        count, box_size: as in :func:`sample_defects`.

    Returns:
        (damaged, mask, specs): the damaged volume (same geometry and dtype), the ground-truth
        mask (uint8 0/1, kind LABEL) and the applied specs.

    Raises:
        InputError: unknown kind, all-zero or constant image, or no imaged object.
    """
    check_grey_dtype(volume.array)
    foreground = foreground_mask(volume.array)
    specs = sample_defects(volume.array, kind, np.random.default_rng(seed), count=count,
                           foreground=foreground, box_size=box_size)
    damaged, mask = apply_defects(volume.array, specs, foreground=foreground)
    return volume.with_array(damaged), volume.with_array(mask, kind=VolumeKind.LABEL), specs
