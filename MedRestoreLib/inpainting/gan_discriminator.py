"""The GAN filler's discriminator: a conditional patch critic on 2-D slices.

Input: (B, 2, H, W) — a slice (real, or with its hole filled by the generator) and its mask;
output: (B, 1, H/4, W/4) logits, one per ~22-voxel patch. Only patches that overlap the hole
are scored (:func:`patch_weights`), since elsewhere real and filled slices are identical.
Used only in training (:mod:`MedRestoreLib.training.train_inpainter`).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.layers = nn.Sequential(
            nn.Conv2d(2, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 3, padding=1))

    def forward(self, image, mask):
        return self.layers(torch.cat([image, mask], 1))


def patch_weights(mask, logits_shape):
    """1 for patches whose receptive field centre region holds a masked voxel, else 0."""
    return F.adaptive_max_pool2d(mask, logits_shape[-2:])
