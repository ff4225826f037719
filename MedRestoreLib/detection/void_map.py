"""Signal voids: runs of voxels at exactly one value (0, or the scan's minimum) inside the object.

In any noisy acquisition two neighbouring tissue voxels almost never hold the same value, let
alone the scan's minimum; a block of them is a dropout. The same value outside the object is
background, and must stay untouched. The two are told apart by where the run lies:

1. *plateau*: voxels equal to a void level (0 when 0 lies in the scan's range, and the minimum)
   that have at least two equal 6-neighbours (a lone zero is left to the outlier detectors);
2. *background*: the plateau connected to the volume's border (through plateau voxels) —
   except where the object closes around it: a plateau voxel with object on both sides along
   at least two axes within ``reach`` voxels (a box or ellipsoid cut into the object's edge),
   or along one axis within ``thin`` voxels (a dropped slice or line), belongs to the object;
3. *void*: enclosed runs whose faces are tissue (not clipped dark background), small border
   runs that cut into tissue (a dropout at the field of view's edge), and the enclosed pieces of
   the background that cut into tissue, grown into their less enclosed outer part.

Images whose dark tissue is clipped to the void level (8-bit data with zeros scattered inside
the object) would otherwise light up: a plateau component counts only when it is solid (few
isolated level voxels around it) — see :func:`void_map`.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np
from scipy import ndimage

REACH = 34  # voxels: how far object must lie on both sides for a border run to be enclosed
THIN = 3  # voxels: a run at most this thick between object voxels is a dropped slice or line
SMALL_FRACTION = 0.05  # a border run below this share of the volume may be a dropout, not background
FACE_LEVEL = 0.3  # normalised intensity of tissue along a dropout's faces (p0.5–p99.5 window)
FALLOFF = 0.85  # faces at least this share of the layer behind them: no partial-volume edge
THIN_STACK = 5  # slices: along an axis this short, the volume's faces are not its outside
GROW = 4  # voxels an accepted cut may grow along the plateau into its less enclosed outer part
MIN_INTERIOR = 4  # voxels: an enclosed run of the void level at least this large is a void
MIN_INTERIOR_CLIPPED = 64  # ... in an image where the level also occurs scattered by chance
DARK = 0.02  # of the intensity window: voxels this close to the level are dark
CLIPPED_SHARE = 0.1  # the level being between this share and 1 − it of the dark voxels: clipping


def void_levels(array: np.ndarray) -> List[float]:
    """The values a void takes: the minimum, and 0 when 0 lies within the scan's range."""
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    if finite.size == 0:
        return []
    low, high = float(finite.min()), float(finite.max())
    levels = [low]
    if low < 0.0 <= high:
        levels.append(0.0)
    return levels


def _plateau(array: np.ndarray, level: float) -> np.ndarray:
    """Voxels at ``level`` with at least two 6-neighbours at the same level."""
    equal = array == level
    neighbours = np.zeros(array.shape, np.uint8)
    for axis in range(3):
        if array.shape[axis] < 2:
            continue
        shifted = np.zeros_like(equal)
        source = [slice(None)] * 3
        target = [slice(None)] * 3
        source[axis], target[axis] = slice(1, None), slice(None, -1)
        shifted[tuple(target)] = equal[tuple(source)]
        neighbours += shifted
        shifted[...] = False
        shifted[tuple(source)] = equal[tuple(target)]
        neighbours += shifted
    return equal & (neighbours >= 2)


def _enclosure(inside: np.ndarray, axis: int) -> Tuple[np.ndarray, np.ndarray]:
    """For every voxel, the distance (in voxels) to the nearest ``inside`` voxel before and
    after it along ``axis`` (a large number where there is none)."""
    moved = np.moveaxis(inside, axis, -1)
    length = moved.shape[-1]
    index = np.arange(length)
    big = np.int32(10 * length + 10)
    before_pos = np.where(moved, index, -big)
    before_pos = np.maximum.accumulate(before_pos, axis=-1)
    after_pos = np.where(moved, index, big + length)
    after_pos = np.minimum.accumulate(after_pos[..., ::-1], axis=-1)[..., ::-1]
    before = np.moveaxis(index - before_pos, -1, axis)
    after = np.moveaxis(after_pos - index, -1, axis)
    return before, after


def _face_values(array: np.ndarray, obj: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Intensities of the object voxels 6-adjacent to ``region``."""
    return array[obj & ndimage.binary_dilation(region) & ~region]


def _cuts_into_tissue(array: np.ndarray, obj: np.ndarray, candidates: np.ndarray, background: np.ndarray,
                      whole: bool = False, level: float = None, falloff: bool = False) -> np.ndarray:
    """The pieces of ``candidates`` (enclosed parts of border plateaus) whose faces cut through
    tissue: the object voxels along a piece are brighter than the object's own edge against the
    rest of the background (its 90th percentile), as a dropout cuts through tissue while a
    skull-stripped brain's edge fades into the background."""
    result = np.zeros(array.shape, bool)
    if not candidates.any():
        return result
    values = array[obj].astype(np.float64)
    low, high = np.percentile(values, [0.5, 99.5])
    scale = max(high - low, 1e-12)
    edge = (_face_values(array, obj, background & ~candidates).astype(np.float64) - low) / scale
    floor = FACE_LEVEL if level is None else level
    edge_level = max(float(np.percentile(edge, 90)) if edge.size else 0.0, floor)
    pieces, count = ndimage.label(candidates, np.ones((3, 3, 3), bool) if whole else None)
    for number, piece in enumerate(ndimage.find_objects(pieces), start=1):
        grown = tuple(slice(max(s.start - 2, 0), s.stop + 2) for s in piece)
        region = pieces[grown] == number
        first = obj[grown] & ndimage.binary_dilation(region) & ~region
        second = obj[grown] & ndimage.binary_dilation(region, iterations=2) & ~region & ~first
        faces = (array[grown][first].astype(np.float64) - low) / scale
        behind = (array[grown][second].astype(np.float64) - low) / scale
        if not faces.size:
            continue
        face, inner = float(np.median(faces)), float(np.median(behind)) if behind.size else float(np.median(faces))
        # A cut through tissue keeps the tissue's brightness up to the void; an object's own
        # edge fades into the background over a voxel or two (partial volume).
        if face > edge_level or (falloff and face > floor / 2 and face >= FALLOFF * inner):
            result[grown] |= region
    return result


def _blank_slices(array: np.ndarray, level: float) -> np.ndarray:
    """Whole slices (along k) at exactly ``level`` between slices that hold object: a dropped
    slice or slab, background included."""
    blank = np.all(array == level, axis=(1, 2))
    holds = ~blank
    result = np.zeros(array.shape, bool)
    if blank.all() or not blank.any() or array.shape[0] < 2:
        return result
    labels, count = ndimage.label(blank)
    for number in range(1, count + 1):
        run = np.flatnonzero(labels == number)
        before = run[0] > 0 and holds[run[0] - 1]
        after = run[-1] < len(blank) - 1 and holds[run[-1] + 1]
        if before and after:  # blank end slices are indistinguishable from a field of view's margin
            result[run] = True
    return result


def void_map(array: np.ndarray, reach: int = REACH, thin: int = THIN) -> np.ndarray:
    """Boolean map of voxels that are signal voids (see the module docstring).

    Args:
        array: intensities (k, j, i), any real dtype.
        reach, thin: enclosure distances in voxels (see :data:`REACH`, :data:`THIN`).

    Returns:
        bool array of the same shape; True on void voxels. Background stays False.
    """
    array = np.asarray(array)
    result = np.zeros(array.shape, bool)
    for level in void_levels(array):
        result |= _blank_slices(array, level)
        plateau = _plateau(array, level)
        if not plateau.any():
            continue
        obj = array != level
        # Enclosure is measured against solid object, not against stray noise voxels of the
        # background: an opening removes specks before the distances are taken.
        solid = ndimage.binary_opening(obj, iterations=1) if min(array.shape) >= 3 else obj
        if not solid.any():
            continue
        axes_reach = np.zeros(array.shape, np.uint8)
        thin_enclosed = np.zeros(array.shape, bool)
        for axis in range(3):
            if array.shape[axis] < 3:
                continue
            before, after = _enclosure(solid, axis)
            axes_reach += (before <= reach) & (after <= reach)
            thin_enclosed |= (before + after - 1 <= thin) & (before <= thin) & (after <= thin)
        enclosed = (axes_reach >= 2) | thin_enclosed
        labels, count = ndimage.label(plateau)
        if count == 0:
            continue
        border = np.zeros(count + 1, bool)
        for axis in range(3):
            if array.shape[axis] <= THIN_STACK:
                continue  # a few-slice stack: its first and last slices are not the outside
            for index in (0, -1):
                border[np.unique(np.take(labels, index, axis=axis))] = True
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        # A run that touches the border but is small beside the object is a dropout at the
        # image's edge (a head filling the field of view) when it cuts into tissue; a large one
        # is the background, of which only the enclosed pieces that cut into tissue are voids.
        small = border & (sizes <= SMALL_FRACTION * array.size)
        # Where the level is only part of the dark voxels (noise clipped at 0, dark 8-bit tissue)
        # it turns up by chance, and a small run of it proves nothing: only solid runs of some
        # size count. A masked background is the level throughout, an unclipped one never.
        values = array[obj]
        low, high = np.percentile(values, [0.5, 99.5]) if values.size else (level, level + 1.0)
        dark = int(np.count_nonzero(array <= level + DARK * (high - low)))
        share = np.count_nonzero(array == level) / max(dark, 1)
        clipped = CLIPPED_SHARE < share < 1 - CLIPPED_SHARE
        inside = ~border & (sizes >= (MIN_INTERIOR_CLIPPED if clipped else MIN_INTERIOR))
        inside[0] = small[0] = False
        result |= inside[labels]
        if clipped:
            continue  # runs touching clipped background are told from it by nothing reliable
        result |= _cuts_into_tissue(array, obj, small[labels], np.zeros(array.shape, bool), whole=True, falloff=True)
        large = border & ~small
        cuts = _cuts_into_tissue(array, obj, plateau & large[labels] & enclosed, plateau & large[labels])
        # A cut into a curved edge is enclosed on two axes only in its depth; its outer part still
        # lies between object voxels along one axis: grow the accepted cut into it.
        if cuts.any():
            allowed = plateau & large[labels] & (axes_reach >= 1)
            cuts = ndimage.binary_dilation(cuts, iterations=GROW, mask=allowed)
        result |= cuts
    return result
