"""Validation of the GAN filler during training: held-out Colin27 (``ch2better``) crops.

For each kind, damaged crops of the validation volume resampled to each validation spacing;
PSNR over the defect voxels (normalised intensities, clipped to [0, 1] as the protocol scores)
of the generator's fill and of the smooth initial fill it corrects.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict

import numpy as np
import torch

from ..inpainting.gan_filler import GanModel, correct_fill
from .inpainting_data import damaged_crop, load_t1


def _psnr(truth, test, mask) -> float:
    mse = float(np.mean((np.clip(truth[mask], 0, 1) - np.clip(test[mask], 0, 1)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def validate(generator, config: dict, cache: Path) -> Dict[str, Dict[str, float]]:
    settings = config["validation"]
    volumes = load_t1(cache, config["data"]["validation"], settings["spacings_mm"])
    model = GanModel(generator.eval(), config, "cpu")
    rng = np.random.default_rng(config["train"]["seed"] + 1)
    scores = {}
    for kind in settings["kinds"]:
        data = dict(config["data"], kinds=[kind], kind_weights={}, synthetic_fraction=0.0)
        gan, smooth = [], []
        for _ in range(settings["crops_per_kind"]):
            crop = damaged_crop(volumes, [], data, config["model"], rng)
            with torch.no_grad():
                fill = correct_fill(model, crop.filled, crop.mask)
            gan.append(_psnr(crop.truth, fill, crop.mask))
            smooth.append(_psnr(crop.truth, crop.filled, crop.mask))
        scores[kind] = {"psnr_mask_gan": float(np.mean(gan)), "psnr_mask_smooth_fill": float(np.mean(smooth))}
    return scores
