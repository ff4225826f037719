"""The existing system: Gaussian-mixture imputation of 3-D patches with missing voxels
(Dalca et al., "Medical Image Imputation from Image Collections", IEEE TMI 2019).

Patches of ``window`` thin slices × ``size``² voxels are modelled by a Gaussian mixture. A patch
is never seen whole: it is *observed* through the acquired slices inside its window, ``y = A x``
(A selects a thin slice for sampled or gapped data, or averages a slab for thick slices). EM
handles the unobserved part inside each step: the E-step uses the conditional mean and
covariance of ``x`` given ``y`` under each component, and the M-step pools those expected
sufficient statistics. Windows start at every offset along the slice axis, so each offset sees
another pattern of acquired slices and the full covariance becomes identifiable (Dalca's
collection of differently sliced scans plays this role; here, as a documented simplification,
the mixture is fitted on patches of the input volume itself). Missing voxels are filled with
the mixture's conditional mean given the observed slices, and overlapping patches are averaged
(quilting; only windows with acquired data at both ends are quilted, the others would
extrapolate). numpy/scipy only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Optional, Tuple

import numpy as np

from ..progress import Steps
from .interpolation import interpolate
from .layout import Layout


@dataclass
class GmmOptions:
    """components: mixture size; size: in-plane patch edge; samples: training patches;
    iterations: EM steps; stride: in-plane stride of the quilted patches; seed."""

    components: int = 5
    size: int = 5
    samples: int = 3000
    iterations: int = 10
    stride: int = 3
    seed: int = 0
    regulariser: float = 1e-4


def _window(layout: Layout) -> int:
    """Thin slices per patch: three acquired slices (slabs) and the gaps between them."""
    widths = layout.slabs[:, 1] - layout.slabs[:, 0]
    if widths.max() > 1:  # thick slices: three slabs
        return int(min(3 * widths.max(), layout.length))
    gaps = np.diff(np.concatenate([[-1], layout.exact, [layout.length]])) - 1
    return int(min(2 * max(gaps.max(), 1) + 3, layout.length))


def _pattern(layout: Layout, start: int, window: int) -> Tuple[tuple, np.ndarray]:
    """(key, observation indices) of the acquired slices lying wholly inside a window."""
    inside = np.flatnonzero((layout.slabs[:, 0] >= start) & (layout.slabs[:, 1] <= start + window))
    return tuple((layout.slabs[i, 0] - start, layout.slabs[i, 1] - start) for i in inside), inside


def _observation_matrix(key, window: int, size: int) -> np.ndarray:
    rows = np.zeros((len(key), window))
    for n, (a, b) in enumerate(key):
        rows[n, a:b] = 1.0 / (b - a)
    return np.kron(rows, np.eye(size * size))


class PatchMixture:
    """A GMM over flattened patches (window, size, size) fitted from partial observations."""

    def __init__(self, options: GmmOptions, window: int):
        self.options, self.window = options, window
        self.dimension = window * options.size ** 2

    def _condition(self, matrix, observed, component):
        """Per component: log-likelihood of y, conditional mean and covariance of x."""
        mean, covariance = self.means[component], self.covariances[component]
        cross = covariance @ matrix.T  # D × m
        joint = matrix @ cross + self.options.regulariser * np.eye(matrix.shape[0])
        cholesky = np.linalg.cholesky(joint)
        residual = observed - matrix @ mean  # N × m
        solved = np.linalg.solve(cholesky, residual.T)  # m × N
        log_det = 2 * np.log(np.diag(cholesky)).sum()
        log_likelihood = -0.5 * (np.sum(solved ** 2, 0) + log_det + matrix.shape[0] * np.log(2 * np.pi))
        gain = np.linalg.solve(cholesky.T, np.linalg.solve(cholesky, cross.T)).T  # D × m
        return log_likelihood, mean + residual @ gain.T, covariance - gain @ cross.T

    def _posterior(self, groups, keep_covariance):
        """Responsibilities and conditional statistics per group of one observation pattern."""
        results = []
        for matrix, observed in groups:
            parts = [self._condition(matrix, observed, c) for c in range(len(self.means))]
            log_r = np.stack([p[0] for p in parts], 1) + np.log(self.weights)
            log_r -= log_r.max(1, keepdims=True)
            responsibility = np.exp(log_r)
            responsibility /= responsibility.sum(1, keepdims=True)
            results.append((responsibility, [p[1] for p in parts], [p[2] for p in parts] if keep_covariance else None))
        return results

    def fit(self, groups, initial: np.ndarray) -> "PatchMixture":
        """EM from partial observations ``groups`` [(A, y (N, m))]; ``initial`` (N, D) patches of
        the interpolated volume seed the components."""
        rng = np.random.default_rng(self.options.seed)
        count = self.options.components
        order = np.argsort(initial.mean(1))
        chunks = np.array_split(order, count)
        self.means = np.stack([initial[c].mean(0) for c in chunks])
        spread = np.cov(initial.T) + self.options.regulariser * np.eye(self.dimension)
        self.covariances = np.stack([spread] * count)
        self.weights = np.full(count, 1.0 / count)
        rng.random()
        for _ in range(self.options.iterations):
            totals = np.zeros(count)
            sums = np.zeros((count, self.dimension))
            squares = np.zeros((count, self.dimension, self.dimension))
            for (responsibility, means, covariances) in self._posterior(groups, True):
                for c in range(count):
                    r = responsibility[:, c]
                    totals[c] += r.sum()
                    sums[c] += r @ means[c]
                    squares[c] += (means[c] * r[:, None]).T @ means[c] + r.sum() * covariances[c]
            totals = np.maximum(totals, 1e-8)
            self.weights = totals / totals.sum()
            self.means = sums / totals[:, None]
            for c in range(count):
                second = squares[c] / totals[c] - np.outer(self.means[c], self.means[c])
                self.covariances[c] = 0.5 * (second + second.T) + self.options.regulariser * np.eye(self.dimension)
        return self

    def conditional_mean(self, matrix, observed) -> np.ndarray:
        responsibility, means, _ = self._posterior([(matrix, observed)], False)[0]
        return sum(responsibility[:, c:c + 1] * means[c] for c in range(len(means)))


def _patches(acquired, layout, start, key_rows, ys, xs, size):
    """Observed values (N, m) of patches at in-plane corners (ys, xs) in a window at ``start``."""
    offsets = np.arange(size)
    rows = (ys[:, None] + offsets)[:, :, None]
    cols = (xs[:, None] + offsets)[:, None, :]
    values = acquired[key_rows][:, rows, cols]  # (m_slices, N, size, size)
    return values.transpose(1, 0, 2, 3).reshape(len(ys), -1)


def impute_gmm(acquired: np.ndarray, layout: Layout, options: Optional[GmmOptions] = None,
               steps: Optional[Steps] = None) -> np.ndarray:
    """Thin volume (L, j, i) from acquired slices (n, j, i) (normalised), by the patch GMM.

    Exactly acquired slices are kept; voxels no patch covers keep the cubic interpolation.
    """
    options = options or GmmOptions()
    steps = steps or Steps()
    size = options.size
    rng = np.random.default_rng(options.seed)
    base = interpolate(acquired, layout, cubic=True)
    window = _window(layout)
    if window * size * size > 300:  # keeps EM tractable for the long windows of factors 5–6
        size = min(size, 3)
        options = replace(options, size=size)
    height, width = acquired.shape[1:]
    if height < size or width < size:
        return base
    patterns: Dict[tuple, np.ndarray] = {}
    starts = {}
    for start in range(layout.length - window + 1):
        key, rows = _pattern(layout, start, window)
        if len(key):
            starts.setdefault(key, []).append((start, rows))
    foreground = np.argwhere(acquired.max(0)[:height - size + 1, :width - size + 1] > 0.05)
    if len(foreground) == 0 or not starts:
        return base
    groups, initial = [], []
    per_key = max(1, options.samples // len(starts))
    for key, places in starts.items():
        patterns[key] = _observation_matrix(key, window, size)
        picks = rng.integers(len(places), size=per_key)
        corners = foreground[rng.integers(len(foreground), size=per_key)]
        observed = np.concatenate([_patches(acquired, layout, places[p][0], places[p][1], corners[n:n + 1, 0],
                                            corners[n:n + 1, 1], size) for n, p in enumerate(picks)])
        groups.append((patterns[key], observed))
        initial += [base[places[p][0]:places[p][0] + window, y:y + size, x:x + size].ravel()
                    for p, (y, x) in zip(picks, corners)]
    steps.report(0.05, "fitting the Gaussian mixture (EM)")
    mixture = PatchMixture(options, window).fit(groups, np.stack(initial))
    steps.report(0.4, "filling patches")
    total = np.zeros_like(base, dtype=np.float64)
    weight = np.zeros_like(base, dtype=np.float64)
    ys, xs = np.meshgrid(np.unique(np.r_[np.arange(0, height - size + 1, options.stride), height - size]),
                         np.unique(np.r_[np.arange(0, width - size + 1, options.stride), width - size]), indexing="ij")
    ys, xs = ys.ravel(), xs.ravel()
    # Quilt only windows bracketed by acquired data at both ends: a window whose first or last
    # rows are unobserved would extrapolate, and averaging it in degrades the bracketed estimates.
    chosen = sorted((s, key, rows) for key, places in starts.items() for s, rows in places
                    if key[0][0] == 0 and key[-1][1] == window)
    for number, (start, key, rows) in enumerate(chosen):
        observed = _patches(acquired, layout, start, rows, ys, xs, size)
        active = observed.max(1) > 0.02
        if active.any():
            filled = mixture.conditional_mean(patterns[key], observed[active]).reshape(-1, window, size, size)
            for (y, x), patch in zip(zip(ys[active], xs[active]), filled):
                total[start:start + window, y:y + size, x:x + size] += patch
                weight[start:start + window, y:y + size, x:x + size] += 1
        steps.report(0.4 + 0.6 * (number + 1) / len(chosen), "filling patches")
    result = np.where(weight > 0, total / np.maximum(weight, 1), base).astype(np.float32)
    exact = layout.exact >= 0
    result[layout.exact[exact]] = acquired[exact]
    return result
