"""``--method auto``: the input proves which fill works on it, region by region.

Before filling, copies of each defect region's shape are placed in intact tissue of the same
image ("probes"): their true values are known. Every candidate filler then fills the real
defects and the probes together, in one run each, and is scored on the probes against the
truth. Each real region takes the fill that scored best on its own probes — one candidate, or
the blend of the two best weighted by their inverse squared error when the blend scored better.

Regions are scored in groups that behave alike: dead or hot pixels (≤ 3 voxels) together, line
segments together, other small regions together, and every larger region on its own (up to
four copies, fewer for large ones). A region too large to copy into intact tissue takes the
choice pooled over every probe of the image. A candidate may leave regions it cannot afford
unfilled (NaN: 3-D biharmonic on very large regions); it is then not a choice for their groups.
The probes keep a margin from the real defects, so a real region's fill sees the context it
would see alone (up to the tiles' reach of the learned fillers).

    >>> filled, choices = auto_fill(array, mask, {"gan": gan, "biharmonic3d": biharmonic_3d, ...})
    >>> [(c.group, c.method, c.scores) for c in choices]      # what the report lists
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from scipy import ndimage

from ..progress import Steps

SMALL_REGION = 200  # voxels: regions up to this size are pooled; larger ones are scored alone
MAX_PIXEL_PROBES = 400  # single-voxel probes for dead/hot pixels
MAX_POOLED_PROBES = 40  # copies for the lines, and for the small regions
# Copies of one larger region: up to MAX_LARGE_COPIES while they add at most LARGE_COPY_VOXELS
# (a 16³ hole gets four, a 32³ hole one): one copy lands in one kind of tissue, and then says
# more about that tissue than about the method.
MAX_LARGE_COPIES = 4
LARGE_COPY_VOXELS = 20000
ATTEMPTS = 40  # random placements tried per probe
MARGIN = 3  # voxels kept between probes and real defects (and between probes)
MIN_INSIDE = 0.8  # share of a probe's voxels that must be known tissue
BLEND_LABEL = "+"
MAX_PSNR = 99.0  # dB: an exact fill (a constant region) scores this, not infinity


@dataclass
class RegionChoice:
    """How one group of defect regions was filled, and why."""

    group: str
    regions: int
    voxels: int
    method: str  # a candidate's name, or "a+b" for their blend
    probe_voxels: int
    scores: Dict[str, float] = field(default_factory=dict)  # PSNR (dB, normalised) on the probes


def _group_name(shape: Tuple[int, ...], size: int) -> str:
    extent = sorted(shape)
    if size <= 3:
        return "pixels"
    if extent[0] == 1 and extent[1] == 1:
        return "lines"
    if size <= SMALL_REGION:
        return "small regions"
    return ""


def _tissue(array: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Known voxels inside the imaged object, away from the defects."""
    known = array[~mask]
    low, high = np.percentile(known, [5, 99.5]) if known.size else (0.0, 1.0)
    inside = (array > low + 0.05 * (high - low)) & ~mask
    return inside & ~ndimage.binary_dilation(mask, iterations=MARGIN)


def _copy_region(region: np.ndarray, box, free: np.ndarray, rng: np.random.Generator):
    """A translated copy of ``region`` (the mask of ``box``) lying mostly on ``free`` voxels, as
    (target slices, copy mask), or None when no place fits in :data:`ATTEMPTS` tries."""
    size = int(region.sum())
    for _ in range(ATTEMPTS):
        start = [int(rng.integers(0, n - s + 1)) for n, s in zip(free.shape, region.shape)]
        target = tuple(slice(a, a + s) for a, s in zip(start, region.shape))
        if target == box:
            continue
        inside = free[target] & region
        if inside.sum() >= MIN_INSIDE * size:
            return target, inside
    return None


def _reserve(free: np.ndarray, target, copy: np.ndarray) -> None:
    """Keep later probes :data:`MARGIN` voxels away from this one (a local dilation)."""
    grown = tuple(slice(max(t.start - MARGIN, 0), t.stop + MARGIN) for t in target)
    local = np.zeros(free[grown].shape, bool)
    local[tuple(slice(t.start - g.start, t.start - g.start + (t.stop - t.start)) for t, g in zip(target, grown))] = copy
    free[grown] &= ~ndimage.binary_dilation(local, iterations=MARGIN)


def place_probes(array: np.ndarray, mask: np.ndarray, rng: np.random.Generator):
    """Probe copies of the defect regions: (probe mask, {group: probe voxels}, {group: real voxels}).

    Pixels get up to :data:`MAX_PIXEL_PROBES` single-voxel probes, lines and small regions up to
    :data:`MAX_POOLED_PROBES` copies (shared among the group's regions), larger regions up to
    :data:`MAX_LARGE_COPIES` copies each (:data:`LARGE_COPY_VOXELS`) — enough to score, while the
    probes add a bounded amount to every candidate's work.
    """
    labels, _ = ndimage.label(mask, np.ones((3, 3, 3), bool))
    free = _tissue(array, mask)
    probes = np.zeros(mask.shape, bool)
    probe_groups: Dict[str, np.ndarray] = {}
    region_groups: Dict[str, np.ndarray] = {}
    boxes = ndimage.find_objects(labels)
    groups = []
    for number, box in enumerate(boxes, start=1):
        region = labels[box] == number
        groups.append(_group_name(region.shape, int(region.sum()))
                      or f"region {number} ({'×'.join(map(str, region.shape))})")
    members = Counter(groups)
    pooled_copies: Dict[str, int] = {}
    for number, (box, group) in enumerate(zip(boxes, groups), start=1):
        region = labels[box] == number
        region_groups.setdefault(group, np.zeros(mask.shape, bool))[box] |= region
        if group == "pixels":
            continue  # placed all at once below
        if group in ("lines", "small regions"):
            # The group's copies are shared among its regions: four lines had one copy each, 59 voxels
            # to score on; now ten each.
            copies = min(MAX_POOLED_PROBES - pooled_copies.get(group, 0), max(MAX_POOLED_PROBES // members[group], 1))
            pooled_copies[group] = pooled_copies.get(group, 0) + max(copies, 0)
        else:
            copies = int(np.clip(LARGE_COPY_VOXELS // int(region.sum()), 1, MAX_LARGE_COPIES))
        for _ in range(copies):
            placed = _copy_region(region, box, free, rng)
            if placed is None:
                break
            target, copy = placed
            probes[target] |= copy
            probe_groups.setdefault(group, np.zeros(mask.shape, bool))[target] |= copy
            _reserve(free, target, copy)
    if "pixels" in region_groups:
        candidates = np.flatnonzero(free & ~probes)
        count = min(int(region_groups["pixels"].sum()), MAX_PIXEL_PROBES, len(candidates))
        chosen = rng.choice(candidates, size=count, replace=False) if count else np.array([], int)
        pixels = np.zeros(mask.shape, bool)
        pixels.flat[chosen] = True
        probes |= pixels
        probe_groups["pixels"] = pixels
    return probes, probe_groups, region_groups


def _psnr(truth: np.ndarray, values: np.ndarray) -> float:
    error = float(np.mean((truth - values) ** 2)) if truth.size else float("nan")
    return min(10.0 * np.log10(1.0 / max(error, 1e-12)), MAX_PSNR)


def auto_fill(array, mask, candidates: Dict[str, Callable], steps: Optional[Steps] = None,
              seed: int = 0) -> Tuple[np.ndarray, List[RegionChoice]]:
    """Fill ``mask`` choosing, per group of regions, the candidate that fills its probes best.

    Args:
        array: float array (k, j, i); masked voxels are never read.
        mask: bool array, True = defect.
        candidates: name → filler ``(array, mask, steps) -> filled``; each runs once.
        steps: progress and cancel.
        seed: places the probes.

    Returns:
        (filled float64 array, equal to ``array`` outside ``mask``; the choice of every group).
    """
    steps = steps or Steps()
    array = np.asarray(array, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    result = array.copy()
    if not mask.any():
        return result, []
    probes, probe_groups, region_groups = place_probes(array, mask, np.random.default_rng(seed))
    known = array[~mask]
    low, high = np.percentile(known, [0.5, 99.5]) if known.size else (0.0, 1.0)
    scale = max(float(high - low), 1e-12)
    combined = mask | probes
    fills = {}
    for number, (name, filler) in enumerate(candidates.items()):
        fills[name] = filler(array, combined, steps.sub(number / len(candidates), (number + 1) / len(candidates)))
    pooled = probes if probes.any() else None
    choices = []
    for group, real in region_groups.items():
        probe = probe_groups.get(group, pooled)
        method, scores, probe_voxels = _choose(array, fills, probe, real, scale)
        result[real] = _values(fills, method, scores, real)
        choices.append(RegionChoice(group, int(ndimage.label(real, np.ones((3, 3, 3), bool))[1]), int(real.sum()),
                                    method, probe_voxels, scores))
    steps.report(1.0, "auto fill: each region filled by the method that scored best on its copies")
    return result, choices


def _choose(array, fills, probe, real, scale) -> Tuple[str, Dict[str, float], int]:
    """The best candidate (or blend of the two best) on ``probe``; with no probe, the first.
    Candidates that left any of the group's voxels unfilled (NaN) are not chosen."""
    names = [name for name, fill in fills.items()
             if not np.isnan(fill[real]).any() and (probe is None or not np.isnan(fill[probe]).any())]
    if probe is None or not probe.any():
        return names[0], {}, 0
    truth = array[probe] / scale
    scores = {name: _psnr(truth, fills[name][probe] / scale) for name in names}
    ranked = sorted(names, key=lambda n: -scores[n])
    if len(ranked) >= 2:
        blend = f"{ranked[0]}{BLEND_LABEL}{ranked[1]}"
        scores[blend] = _psnr(truth, _blend(fills, ranked[:2], scores, probe) / scale)
        ranked = sorted(scores, key=lambda n: -scores[n])
    return ranked[0], {name: round(value, 2) for name, value in scores.items()}, int(probe.sum())


def _blend(fills, names, scores, where) -> np.ndarray:
    """Inverse-MSE weighted mean of two fills at ``where`` (weights from their probe PSNR)."""
    weights = np.array([10 ** (scores[name] / 10.0) for name in names])  # 1 / MSE
    weights = weights / weights.sum()
    return sum(w * fills[name][where] for w, name in zip(weights, names))


def _values(fills, method, scores, where) -> np.ndarray:
    if BLEND_LABEL in method:
        return _blend(fills, method.split(BLEND_LABEL), scores, where)
    return fills[method][where]
