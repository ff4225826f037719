"""``--model auto`` for slices: measure every candidate on the user's own scan and use the best
one, or their best blend.

The check mimics the real task on the scan's own through-plane data: every other interior
acquired slice is held out, which leaves the same thin grid with gaps twice as wide (factor
``2F`` with thick or sampled slices as acquired, or doubled gaps with ``--missing``); each
candidate imputes the thin grid from the slices kept, and the held-out slices are predicted as
the mean of the thin slices of their slab (the slice itself for sampled data). The network
meets held-out data it was not tuned on: self-supervised tuning only sees in-plane pairs.

Candidates: linear and cubic interpolation and the recurrent network (tuned on the scan when
``adapt_seconds`` > 0). The Gaussian-mixture baseline is not one: on this machine it took 45 s
per run on a 20 × 96 × 77 volume (twice that within ``auto``) and got 3–7 % of the blend. Besides each
candidate alone, the least-squares blend of all of them (weights summing to 1, fitted on the
held-out voxels) is scored; the candidate with the smallest held-out MSE is used for the
output, or the blend when it is at least 0.1 dB better (the blend's weights are fitted at gaps
twice the real ones, where interpolation does relatively better: measured on the held-out
T2-like domain at 4× thick, the blend gave 0.33 dB less than the LSTM alone). Thick slices are
then matched again by their slab means (:func:`.layout.consistent`), whatever was chosen. On
large volumes the check runs on a central in-plane region (``REGION`` voxels a side) to keep
within the time budget; every candidate sees the same voxels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np

from .layout import Layout, consistent

REGION = 128
BLEND_MARGIN = 0.977  # MSE ratio: the blend must be ≥ 0.1 dB better than the best single candidate


@dataclass
class SliceChoice:
    """What ``auto`` used: blend weights per candidate (one weight of 1 for a single candidate),
    every candidate's held-out MSE (normalised intensities) and the PSNR gain of the choice over
    the better of linear and cubic on the held-out slices."""

    weights: Dict[str, float]
    mse: Dict[str, float] = field(default_factory=dict)
    held_out_slices: int = 0
    adapt: Optional[dict] = None

    @property
    def name(self) -> str:
        used = {m: w for m, w in self.weights.items() if abs(w) > 1e-6}
        if len(used) == 1:
            return next(iter(used))
        return "blend(" + ", ".join(f"{m} {w:.2f}" for m, w in used.items()) + ")"

    @property
    def chosen_mse(self) -> float:
        return self.mse.get("blend" if self.name.startswith("blend") else self.name, float("nan"))

    def gain_db(self) -> float:
        chosen = self.chosen_mse
        baseline = min(self.mse.get("linear", np.inf), self.mse.get("cubic", np.inf))
        return float(10 * np.log10(baseline / chosen)) if chosen > 0 and np.isfinite(baseline) else 0.0

    def to_dict(self) -> dict:
        return {"choice": self.name, "weights": self.weights, "held_out_mse": self.mse,
                "held_out_slices": self.held_out_slices, "gain_over_interpolation_db": round(self.gain_db(), 3),
                "adapt": self.adapt}


def describe(choice: dict) -> str:
    """One line from :meth:`SliceChoice.to_dict`: the choice and its measured gain."""
    if not choice["held_out_slices"]:
        return f"auto: {choice['choice']} (too few slices to hold any out)"
    adapt = choice.get("adapt") or {}
    tuned = f"; network tuned on the scan for {adapt['seconds']:.1f} s ({adapt['steps']} steps)" if adapt.get(
        "steps") else ""
    return (f"auto chose {choice['choice']}: {choice['gain_over_interpolation_db']:+.2f} dB over the better of "
            f"linear and cubic on {choice['held_out_slices']} held-out acquired slices{tuned}")


def validation_layout(layout: Layout):
    """(layout of the kept observations, indices of the held-out ones): every other interior
    observation held out (none when fewer than 3)."""
    count = len(layout.positions)
    held = np.arange(1, count - 1, 2) if count >= 3 else np.empty(0, int)
    kept = np.setdiff1d(np.arange(count), held)
    reduced = Layout(layout.length, layout.positions[kept], layout.exact[kept], layout.slabs[kept])
    return reduced, kept, held


def _region(acquired: np.ndarray) -> tuple:
    """In-plane slices of a central region of at most REGION² voxels around the object."""
    cuts = []
    for axis, size in ((1, acquired.shape[1]), (2, acquired.shape[2])):
        if size <= REGION:
            cuts.append(slice(0, size))
            continue
        profile = np.abs(acquired).mean(axis=tuple(a for a in range(3) if a != axis))
        centre = int(np.clip(np.average(np.arange(size), weights=profile + 1e-12), REGION // 2, size - REGION // 2))
        cuts.append(slice(centre - REGION // 2, centre + REGION // 2))
    return (slice(None),) + tuple(cuts)


def _blend(predictions: Dict[str, np.ndarray], truth: np.ndarray) -> Dict[str, float]:
    """Least-squares weights summing to 1 (negative weights dropped and refitted)."""
    names = list(predictions)
    while len(names) > 1:
        reference = predictions[names[-1]]
        design = np.stack([predictions[n] - reference for n in names[:-1]], 1)
        solution, *_ = np.linalg.lstsq(design, truth - reference, rcond=None)
        weights = dict(zip(names, list(solution) + [1 - solution.sum()]))
        negative = [n for n, w in weights.items() if w < 0]
        if not negative:
            return {n: float(weights.get(n, 0.0)) for n in predictions}
        names.remove(min(negative, key=weights.get))
    return {n: float(n == names[0]) for n in predictions}


def choose(acquired: np.ndarray, layout: Layout, candidates: Dict[str, Callable]) -> SliceChoice:
    """Score ``candidates`` (name -> f(acquired, layout) -> thin volume, all normalised) on
    held-out acquired slices; returns the blend weights to use (see the module docstring)."""
    reduced, kept, held = validation_layout(layout)
    if held.size == 0:
        fallback = "cubic" if len(layout.positions) >= 3 else "linear"
        return SliceChoice({n: float(n == fallback) for n in candidates})
    region = _region(acquired)
    part = acquired[region]
    predicted = {}
    for name, impute in candidates.items():
        thin = impute(part[kept], reduced)
        predicted[name] = np.stack([thin[a:b].mean(0) for a, b in layout.slabs[held]]).ravel()
    truth = part[held].ravel().astype(np.float64)
    mse = {n: float(np.mean((np.clip(p, 0, None) - truth) ** 2)) for n, p in predicted.items()}
    weights = _blend(predicted, truth)
    blended = sum(w * predicted[n] for n, w in weights.items())
    mse["blend"] = float(np.mean((np.clip(blended, 0, None) - truth) ** 2))
    best = min(mse, key=mse.get)
    single = min((n for n in mse if n != "blend"), key=mse.get)
    # The blend is fitted at gaps twice the real ones, where interpolation fares relatively
    # better; it is used only when it beats the best single candidate clearly (BLEND_MARGIN).
    if best != "blend" or mse["blend"] > BLEND_MARGIN * mse[single]:
        weights = {n: float(n == single) for n in candidates}
    return SliceChoice(weights, mse, int(held.size))


def run_auto(scaled: np.ndarray, layout: Layout, options, steps):
    """(thin volume, :class:`SliceChoice`) of ``auto`` on normalised acquired slices."""
    from ..devices import resolve_device
    from .interpolation import interpolate
    from .recurrent import impute_recurrent
    from .slice_networks import AUTO_NETWORK, adapted_network, load_slice_network

    report: dict = {}
    candidates = {"linear": lambda a, grid: interpolate(a, grid, cubic=False),
                  "cubic": lambda a, grid: interpolate(a, grid, cubic=True)}
    if _torch_available():  # without torch (a fresh Slicer) auto still chooses among the others
        device = resolve_device(options.device)
        steps.report(0.0, "tuning the network on the scan's in-plane data")
        network = adapted_network(scaled, options, load_slice_network(AUTO_NETWORK), device, report)
        candidates[AUTO_NETWORK] = lambda a, grid: impute_recurrent(network, a, grid, None, device)
    steps.report(0.3, "measuring the models on held-out slices")
    choice = choose(scaled, layout, candidates)
    choice.adapt = report.get("adapt")
    steps.report(0.6, f"imputing with {choice.name}")
    used = {n: w for n, w in choice.weights.items() if abs(w) > 1e-6}
    total = sum(used.values())
    thin = sum((w / total) * candidates[n](scaled, layout) for n, w in used.items())
    return consistent(thin, scaled, layout), choice


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None
