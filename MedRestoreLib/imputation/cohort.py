"""Longitudinal measurements with ground truth: a synthetic cohort with known trajectories, and
the leaspy ``alzheimer.csv`` (generated ADNI-like scores) split by subject into training and
held-out subjects.

A series is ``(times, values)``: 1-D float arrays of one subject's visits for one measurement.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np

Series = Tuple[np.ndarray, np.ndarray]


def visit_times(rng: np.random.Generator, visits: int) -> np.ndarray:
    """Irregular visit times, about one unit apart, starting at 0."""
    return np.cumsum(np.concatenate([[0.0], rng.uniform(0.6, 1.4, visits - 1)]))


def synthetic_series(rng: np.random.Generator, times: np.ndarray) -> Series:
    """One known trajectory sampled at the visit ``times``, with noise.

    Trajectories: a logistic progression, a saturating curve, or a quadratic drift, with random
    onset, rate and amplitude — the shapes disease scores and image features follow.
    """
    visits = len(times)
    span = times[-1] + 1.0
    kind = rng.integers(3)
    if kind == 0:
        onset, rate = rng.uniform(-0.2, 1.2) * span, rng.uniform(0.5, 4.0) / span * 4
        curve = 1.0 / (1.0 + np.exp(-rate * (times - onset)))
    elif kind == 1:
        curve = 1.0 - np.exp(-times / (rng.uniform(0.2, 1.5) * span))
    else:
        x = times / span
        curve = x + rng.uniform(-1.5, 1.5) * x * (1 - x)
    amplitude = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)
    values = rng.normal(0, 0.5) + amplitude * curve + rng.normal(0, rng.uniform(0.0, 0.08), visits)
    return times, values


def synthetic_cohort(seed: int, subjects: int, measurements: int = 3, visits=(5, 12)):
    """Cohort as a list of subjects, each (times (V,), values (V, M)) with M measurements."""
    rng = np.random.default_rng(seed)
    cohort = []
    for _ in range(subjects):
        count = int(rng.integers(visits[0], visits[1] + 1))
        times = visit_times(rng, count)
        columns = [synthetic_series(rng, times)[1] for _ in range(measurements)]
        cohort.append((times, np.stack(columns, 1)))
    return cohort


def alzheimer_subjects(path: Path, held_out: bool) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Subjects of ``alzheimer.csv`` as (age (V,), scores (V, M)): every 5th subject (sorted by
    ID) is held out for evaluation, the others are for training."""
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if c not in ("ID", "TIME")]
    subjects = {}
    for row in rows:
        subjects.setdefault(row["ID"], []).append(row)
    chosen = []
    for number, name in enumerate(sorted(subjects)):
        if (number % 5 == 4) != held_out:
            continue
        visits = sorted(subjects[name], key=lambda r: float(r["TIME"]))
        values = np.array([[float(v[c]) if v[c] not in ("", None) else np.nan for c in columns]
                           for v in visits])
        chosen.append((np.array([float(v["TIME"]) for v in visits]), values))
    return chosen


def hide_visits(rng: np.random.Generator, visits: int, rate: float, forecast: int):
    """(missed (V,) bool, forecast (V,) bool): random missed visits among the first V - forecast
    (at least two kept, the first always kept), and the last ``forecast`` visits hidden."""
    known = visits - forecast
    missed = np.zeros(visits, bool)
    missed[1:known] = rng.random(known - 1) < rate
    if (~missed[:known]).sum() < 2:
        missed[known - 1] = False
    future = np.zeros(visits, bool)
    future[known:] = True
    return missed, future
