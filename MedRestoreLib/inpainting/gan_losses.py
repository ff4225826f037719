"""Losses of the GAN filler's training: reconstruction, adversarial (non-saturating) with an R1
penalty, and covariance consistency.

Every function takes (B, 1, H, W) slices and a mask of the same shape (1 = defect).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F


def masked_mean(values, mask):
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def reconstruction_loss(fake, real, mask, gradient_weight: float):
    """L1 over the hole, plus L1 of the in-plane finite differences that touch it (keeps edges
    and texture, which a plain L1 would average away)."""
    loss = masked_mean((fake - real).abs(), mask)
    if gradient_weight:
        for dim in (-1, -2):
            near = torch.maximum(mask.narrow(dim, 1, mask.shape[dim] - 1), mask.narrow(dim, 0, mask.shape[dim] - 1))
            difference = fake.diff(dim=dim) - real.diff(dim=dim)
            loss = loss + gradient_weight * masked_mean(difference.abs(), near)
    return loss


def column_covariance(slices):
    """Column covariance of each slice, (B, W, W): rows are observations, as
    :func:`MedRestoreLib.covariance.column_covariance` (``numpy.cov(rowvar=False, bias=True)``)
    computes it — here inside the autograd graph, which that no-grad numpy function is not."""
    x = slices[:, 0]
    centred = x - x.mean(dim=1, keepdim=True)
    return centred.transpose(1, 2) @ centred / x.shape[1]


def covariance_loss(fake, real, mask):
    """Column covariance of the filled slices pulled toward the real ones', both ways round
    (columns and rows), over the columns/rows that cross the hole; relative L1."""
    loss = fake.new_zeros(())
    for transpose in (False, True):
        f, r, m = (t.transpose(-1, -2) if transpose else t for t in (fake, real, mask))
        crossing = m[:, 0].amax(dim=1)  # (B, W): columns with a masked voxel
        pairs = crossing[:, :, None] * torch.ones_like(crossing)[:, None, :]
        pairs = torch.maximum(pairs, pairs.transpose(1, 2))  # entries involving those columns
        cf, cr = column_covariance(f), column_covariance(r)
        scale = (cr.abs() * pairs).sum() / pairs.sum().clamp_min(1.0) + 1e-4
        loss = loss + ((cf - cr).abs() * pairs).sum() / pairs.sum().clamp_min(1.0) / scale
    return loss / 2


def discriminator_loss(real_logits, fake_logits, weights):
    """Non-saturating GAN loss for the critic, over patches that overlap the hole."""
    return masked_mean(F.softplus(-real_logits), weights) + masked_mean(F.softplus(fake_logits), weights)


def generator_adversarial_loss(fake_logits, weights):
    return masked_mean(F.softplus(-fake_logits), weights)


def r1_penalty(real_logits, real_images, weights):
    """R1 (Mescheder et al. 2018): squared gradient norm of the critic on real slices — the
    penalty that keeps the critic smooth so its feedback to the generator stays useful.

    The critic's score of a slice is its mean logit over the scored patches; summing the
    patches instead (the first version) made the penalty ~100× larger and held the critic at
    a constant output (its loss stayed at 2·ln 2)."""
    per_slice = (real_logits * weights).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(1.0)
    gradient, = torch.autograd.grad(per_slice.sum(), real_images, create_graph=True)
    return gradient.pow(2).flatten(1).sum(1).mean()
