"""Scores of time-point imputation on cohorts with ground truth (RMSE and MAE on the hidden
visits, in the measurements' own units), shared by training validation and the benchmark."""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from .cohort import hide_visits
from .time_series import SequenceModel, impute_series


def score_cohort(cohort: List, models: Dict[str, object], seed: int, rate: float = 0.3,
                 forecast: int = 1) -> Dict[str, Dict[str, float]]:
    """Hide random visits (``rate``) and the last ``forecast`` visits of every subject, impute
    each measurement per subject, and score per model.

    Args:
        cohort: [(times (V,), values (V, M))], complete ground truth; subjects with fewer than
            ``forecast + 3`` visits or a blank value are left out.
        models: name -> (SequenceModel, network or None).

    Returns:
        name -> {rmse_missing, mae_missing, rmse_forecast, mae_forecast, missing_points, forecast_points}.
    """
    cohort = [(t, v) for t, v in cohort if len(t) >= forecast + 3 and not np.isnan(v).any()]
    rng = np.random.default_rng(seed)
    masks = [hide_visits(rng, len(t), rate, forecast) for t, _ in cohort]
    columns = cohort[0][1].shape[1]
    scores = {}
    for name, (model, network) in models.items():
        errors = {"missing": [], "forecast": []}
        for column in range(columns):
            known = np.concatenate([v[~(m | f), column] for (_, v), (m, f) in zip(cohort, masks)])
            mean, scale = known.mean(), known.std() or 1.0
            # Forecast visits are asked for at their true times (blank values after the last visit).
            series = [(t, np.where(m | f, np.nan, (v[:, column] - mean) / scale))
                      for (t, v), (m, f) in zip(cohort, masks)]
            filled = impute_series(series, SequenceModel(model), 0, network)
            for (t, v), (m, f), (_, predicted) in zip(cohort, masks, filled):
                predicted = predicted * scale + mean
                errors["missing"].append(predicted[m] - v[m, column])
                errors["forecast"].append(predicted[f] - v[f, column])
        row = {}
        for part, values in errors.items():
            values = np.concatenate(values)
            row[f"rmse_{part}"] = float(np.sqrt(np.mean(values ** 2))) if values.size else float("nan")
            row[f"mae_{part}"] = float(np.mean(np.abs(values))) if values.size else float("nan")
            row[f"{part}_points"] = int(values.size)
        scores[name] = row
    return scores
