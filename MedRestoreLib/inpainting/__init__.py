"""Fillers: each takes (array, mask, steps) and changes only the masked voxels."""
from __future__ import annotations

import functools
from typing import Optional

from ..options import FillMethod, FillOptions
from .classical import adjacent_slices, biharmonic_2d, biharmonic_3d, neighbour_median, opencv_inpaint


def filler_for(options: FillOptions, device: str = "cpu", batch_pixels: Optional[int] = None):
    """The fill function for ``options.method`` (a constant table, no registry to mutate);
    ``device`` is where learned fillers run ("cpu" or "cuda"), ``batch_pixels`` how much of the
    GAN's input one forward pass takes (None: its default; the out-of-memory fallback lowers it)."""
    from .gan_filler import MAX_BATCH_PIXELS, gan_fill  # imports torch only when called

    table = {
        FillMethod.GAN: functools.partial(gan_fill, device=device, adapt_seconds=options.adapt_seconds,
                                          batch_pixels=batch_pixels or MAX_BATCH_PIXELS),
        FillMethod.BIHARMONIC_3D: biharmonic_3d,
        FillMethod.BIHARMONIC_2D: biharmonic_2d,
        FillMethod.ADJACENT_SLICES: adjacent_slices,
        FillMethod.NEIGHBOUR_MEDIAN: neighbour_median,
        FillMethod.TELEA: functools.partial(opencv_inpaint, method="telea", radius=options.telea_radius),
        FillMethod.NAVIER_STOKES: functools.partial(opencv_inpaint, method="navier-stokes",
                                                    radius=options.telea_radius),
    }
    return table[FillMethod(options.method)]


__all__ = ["filler_for", "adjacent_slices", "biharmonic_2d", "biharmonic_3d", "neighbour_median",
           "opencv_inpaint"]
