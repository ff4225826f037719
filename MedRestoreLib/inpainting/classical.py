"""Classical fillers, the baselines every learned filler is measured against.

Every filler takes ``(array, mask)`` — float array (k, j, i) and a boolean mask of the same
shape — and returns a new float64 array in which only masked voxels differ from ``array``.
Masked voxels' input values are never read (they are defects).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..progress import Steps


def _slices_with_defects(mask: np.ndarray):
    return np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))


def biharmonic_2d(array, mask, steps: Optional[Steps] = None) -> np.ndarray:
    """scikit-image's biharmonic inpainting, slice by slice (k)."""
    from skimage.restoration import inpaint_biharmonic

    result = np.array(array, dtype=np.float64)
    todo = _slices_with_defects(mask)
    for n, k in enumerate(todo):
        if mask[k].all():
            continue  # nothing known in the slice: a 2-D method has no information; left for fallback
        result[k] = inpaint_biharmonic(result[k], mask[k], split_into_regions=True)
        if steps is not None:
            steps.report((n + 1) / len(todo), f"biharmonic 2-D, slice {k}")
    return _fill_remaining(result, mask & ~_reachable_2d(mask))


def biharmonic_3d(array, mask, steps: Optional[Steps] = None, max_region: Optional[int] = None,
                  max_regions: Optional[int] = None) -> np.ndarray:
    """scikit-image's biharmonic inpainting in 3-D, one connected defect region at a time.

    Each region is solved in its bounding box grown by a margin, which keeps the sparse systems
    small (the whole-volume system is what makes naive 3-D biharmonic take minutes).

    Args:
        max_region: regions (with the defects sharing their box) of more voxels are not solved
            and left NaN — a 32³ hole costs seconds on one core; ``auto`` gives it to others.
        max_regions: solve at most this many regions (the rest NaN): thousands of dead pixels
            cost a solve each.
    """
    from scipy import ndimage
    from skimage.restoration import inpaint_biharmonic

    result = np.array(array, dtype=np.float64)
    if mask.shape[0] == 1:
        return biharmonic_2d(array, mask, steps)
    labels, count = ndimage.label(mask, structure=np.ones((3, 3, 3), bool))
    margin = 3
    unsolved = np.zeros(mask.shape, bool)
    skipped = np.zeros(mask.shape, bool)
    solved_count = 0
    for n, box in enumerate(ndimage.find_objects(labels)):
        grown = tuple(slice(max(s.start - margin, 0), min(s.stop + margin, size))
                      for s, size in zip(box, mask.shape))
        region_mask = labels[grown] == n + 1
        if (mask[grown] & ~region_mask).any():
            # Other defects inside the box are unknown too; solve them together.
            region_mask = mask[grown]
        if (max_region is not None and region_mask.sum() > max_region) or \
                (max_regions is not None and solved_count >= max_regions):
            skipped[grown] |= labels[grown] == n + 1
            continue
        if region_mask.all():
            unsolved[grown] |= labels[grown] == n + 1  # no known voxel in reach of this region
            continue
        solved = inpaint_biharmonic(result[grown], region_mask)
        result[grown] = np.where(region_mask, solved, result[grown])
        solved_count += 1
        if steps is not None:
            steps.report((n + 1) / count, f"biharmonic 3-D, region {n + 1}/{count}")
    result = _fill_remaining(result, unsolved & ~skipped)
    result[skipped] = np.nan
    return result


def adjacent_slices(array, mask, steps: Optional[Steps] = None) -> np.ndarray:
    """Linear interpolation along k between the nearest known voxels above and below.

    With a defect in one slice this is the mean of the two adjacent slices; where only one side
    is known that side is copied; where neither is, the neighbour median fills in.
    """
    result = np.array(array, dtype=np.float64)
    # Only the (j, i) columns that hold a defect change: work on those alone (a 32³ hole in a 256³
    # volume took 3 s when every column was indexed).
    columns = mask.any(axis=0)
    defects = mask[:, columns]  # (k, columns)
    values = result[:, columns]
    depth = mask.shape[0]
    index = np.arange(depth).reshape(-1, 1)
    known = ~defects
    below = np.maximum.accumulate(np.where(known, index, -1), axis=0)
    above = np.flip(np.minimum.accumulate(np.flip(np.where(known, index, depth), axis=0), axis=0), axis=0)
    has_below = below >= 0
    has_above = above < depth
    column = np.arange(values.shape[1])
    value_below = values[np.clip(below, 0, depth - 1), column]
    value_above = values[np.clip(above, 0, depth - 1), column]
    weight = np.where(has_below & has_above,
                      (index - below) / np.maximum(above - below, 1), np.where(has_above, 1.0, 0.0))
    interpolated = (1 - weight) * value_below + weight * value_above
    filled = defects & (has_below | has_above)
    values[filled] = interpolated[filled]
    result[:, columns] = values
    fillable = np.zeros(mask.shape, bool)
    fillable[:, columns] = filled
    if steps is not None:
        steps.report(1.0, "mean of adjacent slices")
    return _fill_remaining(result, mask & ~fillable)


def neighbour_median(array, mask, steps: Optional[Steps] = None) -> np.ndarray:
    """Fill from the outside in: each pass sets masked voxels that touch known voxels (26-connected)
    to the median of those known neighbours, until no masked voxel is left."""
    return _fill_remaining(np.array(array, dtype=np.float64), mask, steps)


def _fill_remaining(result: np.ndarray, mask: np.ndarray, steps: Optional[Steps] = None) -> np.ndarray:
    """Neighbour-median onion peeling of ``mask`` in ``result`` (in place, also returned)."""
    mask = mask.copy()
    total = int(mask.sum())
    if total == 0:
        return result
    if total == mask.size:
        result[...] = 0.0  # nothing known anywhere: there is no information to fill from
        return result
    padded_shape = tuple(s + 2 for s in mask.shape)
    offsets = [(dk, dj, di) for dk in (-1, 0, 1) for dj in (-1, 0, 1) for di in (-1, 0, 1)
               if (dk, dj, di) != (0, 0, 0)]
    while mask.any():
        values = np.full(padded_shape, np.nan)
        values[1:-1, 1:-1, 1:-1] = np.where(mask, np.nan, result)
        k, j, i = np.nonzero(mask)
        neighbours = np.stack([values[k + 1 + a, j + 1 + b, i + 1 + c] for a, b, c in offsets])
        reachable = ~np.all(np.isnan(neighbours), axis=0)
        with np.errstate(all="ignore"):
            medians = np.nanmedian(neighbours[:, reachable], axis=0)
        result[k[reachable], j[reachable], i[reachable]] = medians
        mask[k[reachable], j[reachable], i[reachable]] = False
        if steps is not None:
            steps.report(1.0 - mask.sum() / total, "median of known neighbours")
    return result


def _reachable_2d(mask: np.ndarray) -> np.ndarray:
    """Masked voxels of slices that have at least one known voxel."""
    per_slice = ~mask.reshape(mask.shape[0], -1).all(axis=1)
    return mask & per_slice[:, None, None]


def opencv_inpaint(array, mask, steps: Optional[Steps] = None, method: str = "telea",
                   radius: int = 3) -> np.ndarray:
    """OpenCV's Telea or Navier–Stokes inpainting, slice by slice, on a 0–255 scale.

    OpenCV inpaints 8-bit images only, so each slice is mapped to 0–255 by the volume's known
    intensity range and back; the fill is therefore quantised to 1/255 of that range.
    """
    import cv2

    result = np.array(array, dtype=np.float64)
    known = result[~mask]
    low, high = (float(known.min()), float(known.max())) if known.size else (0.0, 1.0)
    scale = (high - low) or 1.0
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    todo = _slices_with_defects(mask)
    for n, k in enumerate(todo):
        if mask[k].all():
            continue
        image = np.clip(np.rint((result[k] - low) / scale * 255), 0, 255).astype(np.uint8)
        filled = cv2.inpaint(image, mask[k].astype(np.uint8), radius, flag)
        result[k] = np.where(mask[k], filled.astype(np.float64) / 255 * scale + low, result[k])
        if steps is not None:
            steps.report((n + 1) / len(todo), f"OpenCV {method}, slice {k}")
    return _fill_remaining(result, mask & ~_reachable_2d(mask))

