"""Where the GAN filler runs its generator: 2.5-D tiles around the defects, grouped by shape.

Along each axis, every slice that holds defects is split into groups of nearby defect voxels
(2-D components of the mask dilated by ``margin // 3``: defects closer than that share a
tile; farther ones get tiles of their own, since one tile spanning scattered dead pixels would
mostly hold intact tissue); each group gets one tile: its bounding box
grown by ``margin`` on each side, at least ``min_tile`` wide and rounded up to a multiple of
``multiple`` (the U-Net halves the size twice). So a 32³ box costs 32 tiles of 56×56 per axis and
intact regions cost nothing. Small defects (dead/hot pixels: :func:`small_defects`) get one
16×16 tile along the slice axis only — a 5-slice slab already holds their whole 3-D
neighbourhood, and three 32×32 tiles each would make the thousands of dead pixels of a 256³
scan the bulk of the work. Tiles of the same shape
are batched together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

import numpy as np
from scipy import ndimage


@dataclass
class Tile:
    """One tile: slab centre ``index`` along ``axis``; in-plane window of ``shape`` starting at
    ``start`` (volume coordinates; may lie outside the volume by up to :func:`padding`);
    ``voxels`` the (row, column) defect voxels it fills, in volume coordinates."""

    axis: int
    index: int
    start: Tuple[int, int]
    shape: Tuple[int, int]
    voxels: Tuple[np.ndarray, np.ndarray]


def padding(margin: int, min_tile: int, multiple: int, half_slab: int) -> int:
    """Padding on every side of the volume so that every tile and slab lies inside it."""
    return max(max(margin, min_tile // 2) + multiple, half_slab) + 1


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def small_defects(mask: np.ndarray, extent: int) -> np.ndarray:
    """Defect voxels of 3-D components (26-connected) at most ``extent`` voxels long on every
    axis: dead/hot pixels and the like."""
    labels, _ = ndimage.label(mask, np.ones((3, 3, 3), bool))
    small = np.zeros(mask.shape, bool)
    for number, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is not None and all(b.stop - b.start <= extent for b in box):
            small[box] |= labels[box] == number
    return small


def plan_tiles(mask: np.ndarray, margin: int, min_tile: int, small_extent: int = 0, small_tile: int = 16,
               multiple: int = 4, axes=(0, 1, 2)) -> List[Tile]:
    """Tiles covering every defect voxel once per axis of ``axes``. A group at most
    ``small_extent`` voxels wide in its slice (a pixel, or where a line crosses the slice) gets
    a ``small_tile`` square with a proportionally smaller margin."""
    tiles = []
    structure = np.ones((3, 3), bool)
    for axis in axes:
        moved = np.moveaxis(mask, axis, 0)
        for index in np.flatnonzero(moved.reshape(moved.shape[0], -1).any(axis=1)):
            plane = moved[index]
            grouped = ndimage.binary_dilation(plane, structure, iterations=max(1, margin // 3))
            groups, _ = ndimage.label(grouped, structure)
            for number, box in enumerate(ndimage.find_objects(groups), start=1):
                member = (groups[box] == number) & plane[box]
                rows, columns = np.nonzero(member)
                if rows.size == 0:
                    continue
                rows, columns = rows + box[0].start, columns + box[1].start
                low = (int(rows.min()), int(columns.min()))
                extent = (int(rows.max()) - low[0] + 1, int(columns.max()) - low[1] + 1)
                if max(extent) <= small_extent:
                    shape = (small_tile, small_tile)
                else:
                    shape = tuple(_round_up(max(e + 2 * margin, min_tile), multiple) for e in extent)
                start = tuple(lo - (s - e) // 2 for lo, s, e in zip(low, shape, extent))
                tiles.append(Tile(axis, int(index), start, shape, (rows, columns)))
    return tiles


def batches(tiles: List[Tile], max_pixels: int) -> Iterator[List[Tile]]:
    """Tiles of one shape at a time, at most ``max_pixels`` tile pixels per batch."""
    by_shape: Dict[Tuple[int, int], List[Tile]] = {}
    for tile in tiles:
        by_shape.setdefault(tile.shape, []).append(tile)
    for shape, group in sorted(by_shape.items()):
        size = max(1, max_pixels // (shape[0] * shape[1]))
        for first in range(0, len(group), size):
            yield group[first: first + size]
