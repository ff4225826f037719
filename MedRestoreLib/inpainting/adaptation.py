"""Test-time adaptation (TTA) of the GAN filler: fine-tune a copy of the generator on the
input's own intact voxels, for a fixed budget, before it fills the real defects.

Why: the generator was trained on Colin27 and synthetic label-map images; an input's own
contrast, resolution and texture are known from its intact voxels, so a few hundred
reconstruction steps on them may fit the correction to this image. Whether that helps is the
benchmark's call (see the model card): the filler runs without it unless asked.

How, each step: take a random cube of the normalised defect region (the array that
:func:`.gan_filler.gan_fill` has already pre-filled), hide a *translated copy of the real defect
mask* in it — the input's own defect shapes: dead pixels stay scattered pixels, lines stay
lines, a 32³ box stays a 32³ box — make the smooth initial fill of the hidden voxels exactly as
inference does (:func:`.smooth_fill.smooth_fill` with the model's settings), take 2.5-D tiles
around them (:func:`.training_tiles.tiles_from_crop`) and take one Adam
step on the training's reconstruction loss (L1 + gradient L1 over the hidden voxels).

The real defects' voxels are never targets: the cube's values there are the inference's own
smooth fill (computed from intact voxels only), and hidden voxels keep one voxel away from them.
The shipped model is not modified; the adapted copy is returned.

Deterministic for a seed and a step count (``max_steps``); a time budget alone stops after
however many steps fit, which depends on the machine's speed and load.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace
from typing import List, Optional

import numpy as np

from ..progress import Steps

LEARNING_RATE = 1e-4  # a tenth of the training's peak rate: adapt, do not retrain
BATCH = 16  # tiles per step, as in training
CUBE = 48  # side of the cubes the hidden masks are drawn in (training: 52)


@dataclass
class Adaptation:
    """What :func:`adapt_gan` did: the adapted model, steps taken, seconds spent, and the mean
    reconstruction loss of the first and last quarter of the steps."""

    model: object  # a GanModel whose generator is the adapted copy
    steps: int
    seconds: float
    losses: List[float]


def _hidden_mask(mask: np.ndarray, keep_out: np.ndarray, corner, size: int, rng) -> np.ndarray:
    """The real mask translated so that a random one of its voxels lands at a random place of
    the cube at ``corner`` (wrapping around the region), minus ``keep_out``."""
    voxels = np.argwhere(mask)
    source = voxels[rng.integers(len(voxels))] - rng.integers(0, size, 3)
    index = [(np.arange(size) + s) % n for s, n in zip(source, mask.shape)]
    cube = tuple(slice(c, c + size) for c in corner)
    return mask[np.ix_(*index)] & ~keep_out[cube]


def adapt_gan(model, filled: np.ndarray, mask: np.ndarray, seconds: float = 20.0,
              max_steps: Optional[int] = None, seed: int = 0, steps: Optional[Steps] = None,
              learning_rate: float = LEARNING_RATE) -> Adaptation:
    """Fine-tune a copy of ``model``'s generator on the intact voxels of ``filled``.

    Args:
        model: a loaded :class:`.gan_filler.GanModel`; left unchanged.
        filled: the normalised defect region with its defects smoothly pre-filled (float32,
            (k, j, i)), as :func:`.gan_filler.gan_fill` makes it.
        mask: bool, same shape, True = real defect.
        seconds: wall-clock budget of the fine-tuning.
        max_steps: stop after this many steps even if time is left (None: time alone).
        seed: seeds the numpy and torch generators used here.
        steps: progress/cancel (raises :class:`MedRestoreLib.errors.Cancelled`).

    Returns:
        An :class:`Adaptation`; with no usable cube (a region under 2·half_slab + 1 voxels
        or no defect), its model is ``model`` itself and ``steps`` is 0.
    """
    import torch
    from scipy import ndimage

    from ..errors import InputError
    from .gan_losses import reconstruction_loss
    from .smooth_fill import smooth_fill
    from .training_tiles import DamagedCrop, generate, tiles_from_crop

    started = time.perf_counter()
    settings, config = model.config["model"], model.config
    half = int(settings["half_slab"])
    size = min(CUBE, *filled.shape)
    tiles = [int(t) for t in config.get("data", {}).get("tiles", [16, 32, 48]) if int(t) <= size]
    if size < 2 * half + 1 + 2 or not tiles or not mask.any():
        return Adaptation(model, 0, time.perf_counter() - started, [])
    rng = np.random.default_rng(seed)
    keep_out = ndimage.binary_dilation(mask, np.ones((3, 3, 3), bool))
    adapted = copy.deepcopy(model.generator).train()
    optimiser = torch.optim.Adam(adapted.parameters(), lr=learning_rate, betas=(0.5, 0.999))
    gradient_weight = float(config.get("train", {}).get("gradient_weight", 0.5))
    losses: List[float] = []
    step = misses = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # nothing here draws from torch today; kept so it stays seeded
        while time.perf_counter() - started < seconds and (max_steps is None or step < max_steps) \
                and misses < 1000:
            if steps is not None:
                steps.check_cancel()
            corner = [int(rng.integers(0, n - size + 1)) for n in filled.shape]
            cube = tuple(slice(c, c + size) for c in corner)
            hidden = _hidden_mask(mask, keep_out, corner, size, rng)
            misses += 1
            if not hidden.any():
                continue
            truth = np.ascontiguousarray(filled[cube])
            pre_filled = smooth_fill(torch.from_numpy(truth), torch.from_numpy(~hidden),
                                     int(settings["smoothing_iterations"]),
                                     settings.get("smoothing_relaxation")).numpy()
            try:
                slabs, target = tiles_from_crop(DamagedCrop(truth, pre_filled, hidden), BATCH,
                                                tiles[rng.integers(len(tiles))], half, rng)
            except InputError:
                continue  # the hidden voxels all lie within half a slab of the cube's faces
            slabs, target = slabs.to(model.device), target.to(model.device)
            fake, hole = generate(adapted, slabs, half)
            loss = reconstruction_loss(fake, target, hole, gradient_weight)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(adapted.parameters(), 1.0)
            optimiser.step()
            losses.append(float(loss.detach()))
            step, misses = step + 1, 0
            if steps is not None:
                done = (time.perf_counter() - started) / seconds if seconds > 0 else 1.0
                if max_steps:
                    done = max(done, step / max_steps)
                steps.report(done, f"adapting the GAN filler, step {step}")
    quarter = max(1, len(losses) // 4)
    summary = [float(np.mean(losses[:quarter])), float(np.mean(losses[-quarter:]))] if losses else []
    return Adaptation(replace(model, generator=adapted.eval()), step, time.perf_counter() - started, summary)
