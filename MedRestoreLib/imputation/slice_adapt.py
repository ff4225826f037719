"""Self-supervised fine-tuning of the recurrent slice imputer on the scan itself (the principle
of SMORE, Zhao et al. 2021, and ECLARE): thick-slice scans keep their full resolution in-plane,
so degrading an in-plane axis by the slice factor — slab means for thick slices, decimation for
sampled ones, as ``--acquisition`` says — gives (low-resolution, high-resolution) pairs made of
the scan's own anatomy, contrast and noise.

Each step cuts blocks of the acquired volume whose slice axis is j or i (the images are then
(k, i) or (k, j) planes), acquires them along that axis at the factor ``F`` — or at ``2F``, the
factor ``auto``'s self-validation runs the network at — and takes one Adam step on the MSE of
the thin slices that were not acquired, starting from the pretrained weights, for ``STEPS``
steps — a count, so that the same scan gives the same result on any machine and under any
load (a batch worker and a single run agree) — or until the time budget, a ceiling for slow
machines, is spent. The shipped network is never changed: a copy is tuned.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from .interpolation import interpolate
from .layout import Acquisition, simulate

LEARNING_RATE = 3e-4
BATCH = 4
CROP = 48
STEPS = 40  # blocks are at most CROP² in-plane: 0.2 s a step on a 256×256×64 volume, so ~8 s
MIN_CROP = 16  # images smaller than this (few slices, tiny planes) teach nothing: no tuning


@dataclass
class AdaptReport:
    steps: int
    seconds: float
    first_loss: float
    last_loss: float

    def to_dict(self):
        return {"steps": self.steps, "seconds": round(self.seconds, 2), "first_loss": self.first_loss,
                "last_loss": self.last_loss}


def _blocks(acquired: np.ndarray, factor: int, acquisition: Acquisition, rng: np.random.Generator):
    """A batch (acquired, base, truth, layout) along a random in-plane axis, or None when the
    scan is too small for one."""
    axis = 1 + int(rng.integers(2))
    volume = np.moveaxis(acquired, axis, 0)  # (along, k, other)
    count = int(np.clip(volume.shape[0] // factor // 2, 3, 5))
    length = count * factor if acquisition == Acquisition.THICK else (count - 1) * factor + 1
    crop_k = min(CROP, volume.shape[1] // 4 * 4)
    crop_i = min(CROP, volume.shape[2] // 4 * 4)
    if volume.shape[0] < length or min(crop_k, crop_i) < MIN_CROP:
        return None
    observations, bases, truths = [], [], []
    for _ in range(BATCH):
        for _ in range(10):  # prefer blocks holding the object
            start = [int(rng.integers(0, n - s + 1)) for n, s in zip(volume.shape, (length, crop_k, crop_i))]
            block = volume[start[0]:start[0] + length, start[1]:start[1] + crop_k, start[2]:start[2] + crop_i]
            if (block > 0.1).mean() >= 0.3:
                break
        block = np.ascontiguousarray(block[::-1] if rng.random() < 0.5 else block)
        seen, truth, layout = simulate(block, factor, acquisition)
        observations.append(seen)
        bases.append(interpolate(seen, layout))
        truths.append(truth)
    return np.stack(observations), np.stack(bases), np.stack(truths), layout


class _Adam:
    """Adam (Kingma & Ba 2015) written out: constructing ``torch.optim.Adam`` the first time in a
    process imports torch's compiler stack, 5 s on this machine — the whole tuning budget."""

    def __init__(self, parameters, rate: float = LEARNING_RATE, betas=(0.9, 0.999), epsilon: float = 1e-8):
        import torch

        self.parameters, self.rate, self.betas, self.epsilon, self.count = parameters, rate, betas, epsilon, 0
        self.first = [torch.zeros_like(p) for p in parameters]
        self.second = [torch.zeros_like(p) for p in parameters]

    def step(self) -> None:
        import torch

        self.count += 1
        (beta1, beta2), count = self.betas, self.count
        with torch.no_grad():
            for parameter, first, second in zip(self.parameters, self.first, self.second):
                if parameter.grad is None:
                    continue
                first.mul_(beta1).add_(parameter.grad, alpha=1 - beta1)
                second.mul_(beta2).addcmul_(parameter.grad, parameter.grad, value=1 - beta2)
                denominator = (second / (1 - beta2 ** count)).sqrt_().add_(self.epsilon)
                parameter.addcdiv_(first, denominator, value=-self.rate / (1 - beta1 ** count))


def adapt(network, acquired: np.ndarray, factor: int, acquisition, seconds: float, seed: int = 0,
          device: str = "cpu", steps_wanted: int = STEPS):
    """(a tuned copy of ``network``, :class:`AdaptReport`) from the normalised acquired slices
    (n, j, i); the network itself when nothing could be tuned (budget 0, scan too small)."""
    import torch

    from .slice_net import neighbour_indices

    acquisition = Acquisition(acquisition)
    rng = np.random.default_rng(seed)
    factors = [factor, 2 * factor]
    if seconds <= 0 or _blocks(acquired, factor, acquisition, rng) is None:
        return network, AdaptReport(0, 0.0, float("nan"), float("nan"))
    tuned = copy.deepcopy(network).to(device).train()
    optimiser = _Adam(list(tuned.parameters()))
    started, steps, losses = time.perf_counter(), 0, []
    torch.manual_seed(seed)
    while steps < steps_wanted and time.perf_counter() - started < seconds:
        batch = _blocks(acquired, factors[steps % 2], acquisition, rng)
        if batch is None:
            batch = _blocks(acquired, factor, acquisition, rng)
        observations, bases, truths, layout = batch
        previous, following = neighbour_indices(layout.positions, layout.length)
        predicted = tuned(torch.as_tensor(observations, device=device), torch.as_tensor(bases, device=device),
                          layout.anchor, previous, following)
        missing = torch.as_tensor(~layout.observed, device=device)
        truth = torch.as_tensor(truths, device=device)
        loss = torch.mean((predicted[:, missing] - truth[:, missing]) ** 2)
        tuned.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tuned.parameters(), 1.0)
        optimiser.step()
        losses.append(float(loss.detach()))
        steps += 1
    if not losses:
        return network, AdaptReport(0, time.perf_counter() - started, float("nan"), float("nan"))
    return tuned.eval(), AdaptReport(steps, time.perf_counter() - started, losses[0], float(np.mean(losses[-5:])))
