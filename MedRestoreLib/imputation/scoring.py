"""Scores of visit imputation on cohorts with ground truth, shared by training validation and the
benchmark: RMSE and MAE (in the scores' own units) on what was hidden, in three scenarios —

- ``blank cells``: 15 % of all cells blank at random;
- ``missed visits``: one whole interior visit of 30 % of the subjects (subjects with ≥ 3 visits);
- ``forecast``: the last visit of every subject with ≥ 3 visits, asked for at its true time.

Each score is standardised over its observed cells (as tables are) and every model sees the
same hidden cells.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from .visits_auto import impute_any

SCENARIOS = ("blank cells", "missed visits", "forecast")


def hide(cohort: List, scenario: str, rng: np.random.Generator) -> List[np.ndarray]:
    """Per subject a (V, M) bool mask of the hidden cells of ``scenario``."""
    masks = []
    for times, values in cohort:
        mask = np.zeros(values.shape, bool)
        if scenario == "blank cells":
            mask = rng.random(values.shape) < 0.15
        elif scenario == "missed visits" and len(times) >= 3 and rng.random() < 0.3:
            mask[int(rng.integers(1, len(times) - 1))] = True
        elif scenario == "forecast" and len(times) >= 3:
            mask[-1] = True
        masks.append(mask & ~np.isnan(values))
    return masks


def _standardised(cohort, masks) -> Tuple[List, np.ndarray, np.ndarray]:
    known = np.concatenate([np.where(m, np.nan, v) for (_, v), m in zip(cohort, masks)])
    mean, scale = np.nanmean(known, 0), np.nanstd(known, 0)
    scale = np.where(scale > 0, scale, 1.0)
    subjects = [(t, (np.where(m, np.nan, v) - mean) / scale) for (t, v), m in zip(cohort, masks)]
    return subjects, mean, scale


def score_cohort(cohort: List, models: Dict[str, Tuple[str, Dict]], seed: int,
                 scenarios=SCENARIOS) -> Dict[str, Dict[str, Dict[str, float]]]:
    """scenario -> model name -> {rmse, mae, points}; ``models``: name -> (model, networks)."""
    cohort = [(np.asarray(t, float), np.asarray(v, float)) for t, v in cohort if len(t) >= 1]
    result = {}
    for number, scenario in enumerate(scenarios):
        masks = hide(cohort, scenario, np.random.default_rng([seed, number]))
        subjects, mean, scale = _standardised(cohort, masks)
        truth = np.concatenate([v[m] for (_, v), m in zip(cohort, masks)])
        result[scenario] = {}
        for name, (model, networks) in models.items():
            filled, _ = impute_any(subjects, model, 0, networks, seed)
            predicted = np.concatenate([(f * scale + mean)[m] for (_, f), m in zip(filled, masks)])
            error = predicted - truth
            result[scenario][name] = {"rmse": float(np.sqrt(np.mean(error ** 2))),
                                      "mae": float(np.mean(np.abs(error))), "points": int(error.size)}
    return result


def noise_floor(cohort: List, noise_free: List, seed: int, scenarios=SCENARIOS) -> Dict[str, float]:
    """scenario -> RMSE of the noise-free values against the measured ones on the cells
    :func:`score_cohort` hides (same seed): the error of a perfect imputation."""
    cohort = [(np.asarray(t, float), np.asarray(v, float)) for t, v in cohort if len(t) >= 1]
    result = {}
    for number, scenario in enumerate(scenarios):
        masks = hide(cohort, scenario, np.random.default_rng([seed, number]))
        error = np.concatenate([(c - v)[m] for (_, v), (_, c), m in zip(cohort, noise_free, masks)])
        result[scenario] = float(np.sqrt(np.mean(error ** 2)))
    return result
