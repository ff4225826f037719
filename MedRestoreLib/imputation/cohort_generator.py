"""Synthetic longitudinal cohorts with ground truth: many scores per subject driven by a shared
disease course, for training the visit imputer on varied data and for the benchmark's held-out
cohorts.

A cohort is drawn in two steps (as :mod:`MedRestoreLib.training.synthesis` does for images): a
:class:`CohortRecipe` (every setting of one cohort) drawn from :class:`CohortRanges`, then the
subjects of that recipe. Each subject has a disease onset and a pace (as in leaspy's logistic
model, Schiratti et al. 2017), so its scores move together; each score follows one shape of its
own — a logistic progression, a straight line, a plateau (saturating curve) or a curved drift
(quadratic) — in the subject's disease time, with a subject offset per score, and is observed with
Gaussian noise, clipped to [0, 1]. Visits are regular (with jitter) or irregular, start at an age
(55–85) or at 0, and are sometimes duplicated (two visits at the same time).

Training draws recipes from :class:`CohortRanges`; the benchmark's held-out cohorts
(:data:`HELD_OUT_COHORTS`) use settings the ranges never produce (10 scores; 17–18 visits;
a 0.45-year schedule), as its held-out image domains do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

SHAPES = ("logistic", "linear", "plateau", "quadratic")
Subject = Tuple[np.ndarray, np.ndarray]  # times (V,), values (V, M)


@dataclass
class CohortRecipe:
    subjects: int = 200
    scores: int = 7
    visits: Tuple[int, int] = (3, 12)  # inclusive range of visits per subject
    interval: float = 0.5  # years between scheduled visits
    jitter: float = 0.1  # fraction of the interval
    irregular: bool = False  # exponential gaps instead of a schedule
    duplicates: float = 0.0  # probability that a visit repeats the previous visit's time
    start_age: bool = True  # times are ages (55–85) rather than years from 0
    shapes: Dict[str, float] = field(default_factory=lambda: {"logistic": 1.0})
    noise: Tuple[float, float] = (0.02, 0.08)  # per-score noise sigma range
    onset_spread: float = 6.0  # years, SD of the subjects' onsets
    pace_spread: float = 0.6  # SD of the log pace
    offset_spread: float = 0.4  # SD of the subjects' per-score offsets (logit units)
    seed: int = 0


@dataclass
class CohortRanges:
    """What training draws cohorts from (held-out settings lie outside these)."""

    scores: Tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 12)
    max_visits: Tuple[int, int] = (4, 16)
    intervals: Tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    irregular: float = 0.3
    duplicates: float = 0.2  # probability that a cohort has duplicated visit times
    noise: Tuple[float, float] = (0.0, 0.12)


def draw_recipe(rng: np.random.Generator, ranges: CohortRanges = CohortRanges()) -> CohortRecipe:
    """A random training cohort recipe."""
    top = int(rng.integers(ranges.max_visits[0], ranges.max_visits[1] + 1))
    weights = rng.dirichlet(np.ones(len(SHAPES)) * 0.7)
    low = float(rng.uniform(*ranges.noise))
    return CohortRecipe(
        subjects=int(rng.integers(40, 160)), scores=int(rng.choice(ranges.scores)),
        visits=(int(rng.integers(2, min(4, top) + 1)), top), interval=float(rng.choice(ranges.intervals)),
        jitter=float(rng.uniform(0, 0.3)), irregular=bool(rng.random() < ranges.irregular),
        duplicates=float(rng.uniform(0.02, 0.1)) if rng.random() < ranges.duplicates else 0.0,
        start_age=bool(rng.random() < 0.6), shapes=dict(zip(SHAPES, weights.tolist())),
        noise=(low, float(min(low + rng.uniform(0, 0.05), ranges.noise[1]))),
        onset_spread=float(rng.uniform(2, 10)), pace_spread=float(rng.uniform(0.1, 0.9)),
        offset_spread=float(rng.uniform(0.0, 0.8)), seed=int(rng.integers(2 ** 31 - 1)))


def _times(rng, recipe: CohortRecipe) -> np.ndarray:
    count = int(rng.integers(recipe.visits[0], recipe.visits[1] + 1))
    if recipe.irregular:
        gaps = rng.exponential(recipe.interval, count - 1)
    else:
        gaps = recipe.interval * (1 + rng.uniform(-recipe.jitter, recipe.jitter, count - 1))
    gaps = np.where(rng.random(count - 1) < recipe.duplicates, 0.0, gaps)
    start = rng.uniform(55, 85) if recipe.start_age else 0.0
    return start + np.concatenate([[0.0], np.cumsum(gaps)])


def _score_curve(rng, shape: str):
    """A function of disease time (years from onset, scaled by pace) → value in about [0, 1]."""
    if shape == "logistic":
        rate, level = rng.uniform(0.15, 0.8), rng.uniform(-2.5, 1.5)
        return lambda x: 1 / (1 + np.exp(-(rate * x + level)))
    if shape == "linear":
        slope, level = rng.uniform(0.01, 0.06) * rng.choice([-1, 1]), rng.uniform(0.2, 0.8)
        return lambda x: level + slope * x
    if shape == "plateau":
        span, top, level = rng.uniform(2, 12), rng.uniform(0.3, 0.8), rng.uniform(0.05, 0.3)
        return lambda x: level + top * (1 - np.exp(-np.maximum(x + span / 2, 0) / span))
    curvature, slope, level = rng.uniform(-0.004, 0.004), rng.uniform(-0.04, 0.04), rng.uniform(0.3, 0.7)
    return lambda x: level + slope * x + curvature * x * x


def make_cohort(recipe: CohortRecipe, noise_free: bool = False) -> List[Subject]:
    """The subjects (times (V,), values (V, M) in [0, 1]) of ``recipe``; complete ground truth.
    ``noise_free``: the same subjects without the measurement noise (what no imputation can
    recover — the benchmark's noise floor)."""
    rng = np.random.default_rng(recipe.seed)
    names = list(recipe.shapes)
    weights = np.asarray([recipe.shapes[n] for n in names], float)
    shapes = [names[rng.choice(len(names), p=weights / weights.sum())] for _ in range(recipe.scores)]
    curves = [_score_curve(rng, shape) for shape in shapes]
    noise = rng.uniform(*recipe.noise, recipe.scores)
    cohort = []
    for _ in range(recipe.subjects):
        times = _times(rng, recipe)
        reference = times[len(times) // 2] + rng.normal(0, recipe.onset_spread)  # subject's onset
        pace = np.exp(rng.normal(0, recipe.pace_spread))
        disease = pace * (times - reference)
        values = np.stack([curve(disease) for curve in curves], 1)
        offsets = rng.normal(0, recipe.offset_spread, recipe.scores) * 0.25
        measured = rng.normal(0, 1, values.shape) * noise  # drawn either way: the same subjects
        values = values + offsets + (0 if noise_free else measured)
        cohort.append((times, np.clip(values, 0, 1)))
    return cohort


HELD_OUT_COHORTS: Dict[str, CohortRecipe] = {
    "held-out logistic (10 scores, 3–18 visits)": CohortRecipe(
        subjects=200, scores=10, visits=(3, 18), interval=0.45, jitter=0.15, noise=(0.03, 0.07),
        shapes={"logistic": 1.0}, onset_spread=7.0, pace_spread=0.5, offset_spread=0.5, seed=9101),
    "held-out mixed shapes (10 scores, irregular, duplicates)": CohortRecipe(
        subjects=200, scores=10, visits=(3, 18), interval=0.45, irregular=True, duplicates=0.05,
        start_age=False, shapes={"logistic": 0.4, "plateau": 0.3, "linear": 0.15, "quadratic": 0.15},
        noise=(0.01, 0.1), onset_spread=5.0, pace_spread=0.7, offset_spread=0.3, seed=9202),
}
