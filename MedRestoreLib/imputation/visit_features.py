"""What the visit imputer reads at each visit of each score of each subject, computed from the
observed cells of the whole table (numpy only).

Values are standardised per score over the table. For every (subject, score):

- the subject's own trend: the least-squares line through its observed values (a constant with
  one value; the score's population trend with none) — the baseline, and what the network
  corrects (it predicts the residual from this line);
- the score's population trend: a quadratic in time through every subject's observed values;
- the other scores of the same visit: each score's deviation from its population trend
  predicts this score's deviation (a regression per pair of scores over the table's co-observed
  cells, averaged with weights r²), giving an estimate where other scores were observed;
- the other scores' own trends at the visit, likewise (scores share a disease course, so a
  subject's lines agree across scores): an estimate at every visit, missed ones too;
- how much to trust each: the number of observed values, the spread of the subject's residuals
  and the score's typical spread, whether the visit lies beyond the observed ones (a forecast).

Arrays are padded: ``times`` (S, V), ``values`` (S, V, M) with NaN where missing, ``valid`` (S, V)
False on padding.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Inputs per visit besides the reading and the acquired flag (see :func:`visit_features`).
FEATURES = 14

#: Slope shrinkage of the trend the network corrects, in squared typical intervals.
RIDGE = 0.1


@dataclass
class VisitFeatures:
    trend: np.ndarray  # (S, V, M) the subject's own line (standardised units)
    inputs: np.ndarray  # (S, V, M, FEATURES) float32
    observed: np.ndarray  # (S, V, M) bool
    population: np.ndarray  # (S, V, M) the score's population trend


def subject_lines(times: np.ndarray, values: np.ndarray, observed: np.ndarray, fallback: np.ndarray,
                  ridge: float = 0.0):
    """(line (S, V, M), slope (S, M), count (S, M)): the least-squares line per subject and score
    through the observed values; a constant with one observed value (or all at one time),
    ``fallback`` with none. ``ridge`` > 0 shrinks the slope towards 0 where the observed times
    are close together (Σ(t − t̄)² small against ``ridge``), so two visits a day apart do not
    extrapolate a steep line."""
    weight = observed.astype(float)
    y = np.where(observed, values, 0.0)
    t = times[:, :, None] * np.ones_like(weight)
    count = weight.sum(1)
    mean_t = (weight * t).sum(1) / np.maximum(count, 1)
    mean_y = (weight * y).sum(1) / np.maximum(count, 1)
    centred = (t - mean_t[:, None]) * weight
    spread = (centred * (t - mean_t[:, None])).sum(1)
    slope = np.where(spread > 1e-9, (centred * (y - mean_y[:, None])).sum(1) / np.maximum(spread + ridge, 1e-9), 0.0)
    line = mean_y[:, None] + slope[:, None] * (t - mean_t[:, None])
    return np.where(count[:, None] > 0, line, fallback), slope, count


def population_trend(times: np.ndarray, values: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(S, V, M) per score, a quadratic in (table-standardised) time through all observed values
    (a line or a constant when the times do not support more)."""
    known_times = times[np.broadcast_to(np.any(observed, 2), times.shape)]
    centre = float(np.mean(known_times)) if known_times.size else 0.0
    scale = float(np.std(known_times)) if known_times.size else 1.0
    x = (times - centre) / (scale or 1.0)
    trend = np.zeros(values.shape)
    for m in range(values.shape[2]):
        keep = observed[:, :, m]
        xs, ys = x[keep], values[:, :, m][keep]
        degree = min(2, len(np.unique(np.round(xs, 6))) - 1)
        coefficients = np.polyfit(xs, ys, degree) if degree >= 1 else [ys.mean() if ys.size else 0.0]
        trend[:, :, m] = np.polyval(coefficients, x)
    return trend


def pair_regressions(deviation: np.ndarray, usable: np.ndarray):
    """(beta, r²) (M, M): for each pair of scores (c, d), the regression of c's deviation on d's
    over the cells where both are usable (at least 10; else 0)."""
    count = deviation.shape[-1]
    flat, seen = deviation.reshape(-1, count), usable.reshape(-1, count)
    beta, weight = np.zeros((count, count)), np.zeros((count, count))
    for c in range(count):
        for d in range(count):
            both = seen[:, c] & seen[:, d]
            if c == d or both.sum() < 10:
                continue
            x, y = flat[both, d], flat[both, c]
            vx, vy = x.var(), y.var()
            if vx < 1e-12 or vy < 1e-12:
                continue
            covariance = np.mean((x - x.mean()) * (y - y.mean()))
            beta[c, d], weight[c, d] = covariance / vx, covariance ** 2 / (vx * vy)
    return beta, weight


def from_others(deviation: np.ndarray, usable: np.ndarray, beta: np.ndarray, weight: np.ndarray):
    """(estimate, confidence) (S, V, M): each score's deviation predicted from the other scores
    usable at the same visit, the pair regressions averaged with weights r²."""
    count = deviation.shape[-1]
    flat, seen = deviation.reshape(-1, count), usable.reshape(-1, count)
    present = np.where(seen, np.nan_to_num(flat), 0.0)
    weights = seen @ weight.T  # (N, M): Σ_d r²_cd over the usable d
    estimate = (present @ (weight * beta).T) / np.maximum(weights, 1e-9)
    return np.where(weights > 0, estimate, 0.0).reshape(deviation.shape), weights.reshape(deviation.shape)


def visit_features(times: np.ndarray, values: np.ndarray, valid: np.ndarray, interval: float) -> VisitFeatures:
    """Every input of the network (see the module docstring); ``interval``: typical visit gap."""
    observed = ~np.isnan(values) & valid[:, :, None]
    values = np.where(observed, values, 0.0)
    population = population_trend(times, values, observed)
    # The network corrects a slightly shrunk line (RIDGE): the plain least-squares line — the
    # baseline — explodes beyond two visits that are close in time.
    trend, slope, count = subject_lines(times, values, observed, population, RIDGE * interval ** 2)
    residual = np.where(observed, values - trend, 0.0)
    spread = np.sqrt((residual ** 2).sum(1) / np.maximum(count - 2, 1))  # (S, M)
    spread = np.where(count > 2, spread, np.nan)
    with warnings.catch_warnings():  # all-NaN columns (no subject with 3 values) fall back below
        warnings.simplefilter("ignore", RuntimeWarning)
        typical = np.nan_to_num(np.nanmedian(spread, 0), nan=0.3)
    spread = np.where(np.isfinite(spread), spread, typical[None])
    cross, confidence = from_others(values - population, observed, *pair_regressions(values - population, observed))
    cross_residual = np.where(confidence > 0, population + cross - trend, 0.0)
    # The other scores' own trends at this visit (known at every visit, missed ones too).
    lines = np.broadcast_to(count[:, None] >= 2, values.shape)
    regressions = pair_regressions(trend - population, lines & observed)
    cross_line, line_confidence = from_others(trend - population, lines, *regressions)
    cross_line_residual = np.where(line_confidence > 0, population + cross_line - trend, 0.0)
    observed_times = np.where(observed, times[:, :, None], np.nan)
    with warnings.catch_warnings():  # a subject without values in a score: no range (unused below)
        warnings.simplefilter("ignore", RuntimeWarning)
        first, last = np.nanmin(observed_times, 1), np.nanmax(observed_times, 1)
    t = times[:, :, None]
    beyond = np.where(count[:, None] > 0, np.maximum(t - last[:, None], 0) + np.maximum(first[:, None] - t, 0), 0)
    gaps = np.concatenate([np.zeros((len(times), 1)), np.diff(times, axis=1)], 1) / interval
    following = np.concatenate([gaps[:, 1:], np.zeros((len(times), 1))], 1)
    shape = values.shape
    inputs = np.stack([
        trend, population - trend, cross_residual, np.minimum(confidence, 3.0),
        cross_line_residual, np.minimum(line_confidence, 3.0),
        np.broadcast_to(np.log1p(count)[:, None] / 3, shape), np.broadcast_to(slope[:, None] * interval, shape),
        np.broadcast_to(spread[:, None], shape), np.broadcast_to(typical[None, None], shape),
        np.minimum(np.nan_to_num(beyond) / interval, 6.0) / 3, np.broadcast_to(gaps[:, :, None], shape),
        np.broadcast_to(following[:, :, None], shape),
        np.broadcast_to((count[:, None] == 0).astype(float), shape)], -1)
    return VisitFeatures(trend, np.clip(inputs, -10, 10).astype(np.float32), observed, population)
