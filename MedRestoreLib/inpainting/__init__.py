"""Fillers: each takes (array, mask, steps) and changes only the masked voxels."""
from __future__ import annotations

import functools
from typing import Optional

from ..options import FillMethod, FillOptions
from .classical import adjacent_slices, biharmonic_2d, biharmonic_3d, neighbour_median, opencv_inpaint

# What 3-D biharmonic may cost inside ``auto``: a 16³ hole, a few hundred regions (the sparse
# solves take seconds per 32³ box on one core; larger regions are left to the other candidates).
AUTO_BIHARMONIC_3D_VOXELS = 5000
AUTO_BIHARMONIC_3D_REGIONS = 300


def filler_for(options: FillOptions, device: str = "cpu", batch_pixels: Optional[int] = None, seed: int = 0,
               models=None):
    """The fill function for ``options.method`` (a constant table, no registry to mutate);
    ``device`` is where learned fillers run ("cpu" or "cuda"), ``batch_pixels`` how much of the
    GAN's input one forward pass takes (None: its default; the out-of-memory fallback lowers it),
    ``seed`` where ``auto`` places its probe copies, ``models`` a
    :class:`~MedRestoreLib.models.loaded.LoadedModels` whose generators are reused (None: the
    learned fillers load theirs)."""
    from .gan_filler import MAX_BATCH_PIXELS, MODEL_ID, UNET_MODEL_ID, gan_fill  # imports torch only when called

    method = FillMethod(options.method)

    def loaded(model_id, used_by):  # only the generator the method runs is loaded
        return models.gan(device, model_id) if models is not None and method in used_by else None

    table = {
        FillMethod.GAN: functools.partial(gan_fill, model=loaded(MODEL_ID, (FillMethod.GAN, FillMethod.AUTO)),
                                          device=device, adapt_seconds=options.adapt_seconds,
                                          batch_pixels=batch_pixels or MAX_BATCH_PIXELS),
        FillMethod.UNET: functools.partial(gan_fill, model=loaded(UNET_MODEL_ID, (FillMethod.UNET,)), device=device,
                                           batch_pixels=batch_pixels or MAX_BATCH_PIXELS, model_id=UNET_MODEL_ID),
        FillMethod.BIHARMONIC_3D: biharmonic_3d,
        FillMethod.BIHARMONIC_2D: biharmonic_2d,
        FillMethod.ADJACENT_SLICES: adjacent_slices,
        FillMethod.NEIGHBOUR_MEDIAN: neighbour_median,
        FillMethod.TELEA: functools.partial(opencv_inpaint, method="telea", radius=options.telea_radius),
        FillMethod.NAVIER_STOKES: functools.partial(opencv_inpaint, method="navier-stokes",
                                                    radius=options.telea_radius),
    }
    if method == FillMethod.AUTO:
        return AutoFiller({FillMethod.GAN.value: table[FillMethod.GAN],
                           FillMethod.BIHARMONIC_3D.value: functools.partial(
                               biharmonic_3d, max_region=AUTO_BIHARMONIC_3D_VOXELS,
                               max_regions=AUTO_BIHARMONIC_3D_REGIONS),
                           FillMethod.BIHARMONIC_2D.value: biharmonic_2d,
                           FillMethod.ADJACENT_SLICES.value: adjacent_slices}, seed)
    return table[method]


class AutoFiller:
    """``--method auto`` as a filler: :func:`.self_validation.auto_fill` over the candidates;
    ``choices`` holds what the last call chose per group of regions (for the report)."""

    def __init__(self, candidates, seed: int = 0):
        self.candidates, self.seed, self.choices = candidates, seed, []

    def __call__(self, array, mask, steps=None):
        from .self_validation import auto_fill

        candidates = dict(self.candidates)
        if mask.shape[0] < 2:  # one slice: no neighbouring slices to average
            candidates.pop(FillMethod.ADJACENT_SLICES.value, None)
        filled, self.choices = auto_fill(array, mask, candidates, steps, self.seed)
        return filled


__all__ = ["filler_for", "AutoFiller", "adjacent_slices", "biharmonic_2d", "biharmonic_3d", "neighbour_median",
           "opencv_inpaint"]
