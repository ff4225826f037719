"""``--model auto`` for visits: measure each candidate on the user's own table and use the best
per score.

Observed cells are held out the way values go missing — random blank cells, and a whole interior
visit of some subjects — imputed by every candidate (LSTM, SRN, per-subject linear regression)
from the rest, and scored by their squared error. Each score (column) takes the candidate with
the smallest error over all folds; a recurrent model must beat linear regression by
``MARGIN`` to be chosen (what is measured on a few hundred cells is itself noisy), and a column
with fewer than ``MIN_CELLS`` held-out cells follows the table's overall choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from .visits import Subject, impute_cohort, pack, predict

CANDIDATES = ("lstm", "srn", "linear")
MARGIN = 0.01  # relative: a recurrent model is chosen when its error is ≤ 99 % of linear's
MIN_CELLS = 20
CELL_RATE, VISIT_RATE, FOLDS = 0.1, 0.15, 2


@dataclass
class VisitChoice:
    """What ``auto`` chose: per score the model, and every candidate's held-out RMSE (standardised
    units) per score and over the table."""

    models: List[str]
    rmse: Dict[str, List[float]] = field(default_factory=dict)
    overall: Dict[str, float] = field(default_factory=dict)
    cells: int = 0

    def summary(self, names: Sequence[str]) -> str:
        """One line: the choice per column and the held-out RMSE ratios to linear regression."""
        parts = []
        for n, name in enumerate(names):
            ratio = self.rmse[self.models[n]][n] / max(self.rmse["linear"][n], 1e-12)
            parts.append(f"{name}: {self.models[n]} ({ratio:.2f}× linear)")
        return f"auto chose per column on {self.cells} held-out cells — " + "; ".join(parts)

    def to_dict(self, names: Sequence[str]) -> Dict:
        return {"models": dict(zip(names, self.models)), "held_out_cells": self.cells,
                "held_out_rmse_standardised": {m: dict(zip(names, v)) for m, v in self.rmse.items()},
                "held_out_rmse_overall": self.overall}


def _hide(subjects: List[Subject], rng: np.random.Generator) -> List[Subject]:
    hidden = []
    for times, values in subjects:
        values = values.copy()
        observed = ~np.isnan(values)
        values[observed & (rng.random(values.shape) < CELL_RATE)] = np.nan
        if len(times) > 2 and rng.random() < VISIT_RATE:
            values[int(rng.integers(1, len(times) - 1))] = np.nan
        hidden.append((times, values))
    return hidden


def choose(subjects: List[Subject], networks: Optional[Dict[str, object]] = None, seed: int = 0,
           candidates: Sequence[str] = CANDIDATES) -> VisitChoice:
    """Per score, the candidate with the smallest held-out error (see the module docstring)."""
    networks = networks or {}
    rng = np.random.default_rng(seed)
    scores = subjects[0][1].shape[1]
    squared = {m: np.zeros(scores) for m in candidates}
    counts = np.zeros(scores)
    _, truth, _ = pack(subjects)
    for _ in range(FOLDS):
        hidden = _hide(subjects, rng)
        _, values, _ = pack(hidden)
        held = np.isnan(values) & ~np.isnan(truth)
        counts += held.sum((0, 1))
        for model in candidates:
            error = np.where(held, predict(hidden, model, networks.get(model)) - np.nan_to_num(truth), 0.0)
            squared[model] += (error ** 2).sum((0, 1))
    total = {m: float(np.sqrt(squared[m].sum() / max(counts.sum(), 1))) for m in candidates}
    overall = _best({m: float(squared[m].sum()) for m in candidates})
    models = []
    for n in range(scores):
        if counts[n] < MIN_CELLS:
            models.append(overall)
        else:
            models.append(_best({m: squared[m][n] for m in candidates}))
    rmse = {m: [float(np.sqrt(squared[m][n] / max(counts[n], 1))) for n in range(scores)] for m in candidates}
    return VisitChoice(models, rmse, total, int(counts.sum()))


def _best(errors: Dict[str, float]) -> str:
    best = min(errors, key=errors.get)
    if best != "linear" and "linear" in errors and errors[best] > (1 - MARGIN) ** 2 * errors["linear"]:
        return "linear"
    return best


def impute_auto(subjects: List[Subject], forecast: int = 0, networks: Optional[Dict[str, object]] = None,
                seed: int = 0):
    """(filled subjects as :func:`~.visits.impute_cohort` gives them, :class:`VisitChoice`)."""
    networks = networks or {}
    import importlib.util

    # Without torch (a fresh Slicer) the recurrent candidates cannot run: linear regression it is.
    candidates = CANDIDATES if importlib.util.find_spec("torch") is not None else ("linear",)
    choice = choose(subjects, networks, seed, candidates)
    results = {model: impute_cohort(subjects, model, forecast, networks.get(model)) for model in set(choice.models)}
    filled = []
    for n, (times, _) in enumerate(next(iter(results.values()))):
        columns = [results[model][n][1][:, m] for m, model in enumerate(choice.models)]
        filled.append((times, np.stack(columns, 1)))
    return filled, choice


def impute_any(subjects: List[Subject], model: str, forecast: int = 0,
               networks: Optional[Dict[str, object]] = None, seed: int = 0):
    """(filled subjects, :class:`VisitChoice` or None): ``auto`` or one model."""
    model = getattr(model, "value", model)
    if model == "auto":
        return impute_auto(subjects, forecast, networks, seed)
    return impute_cohort(subjects, model, forecast, (networks or {}).get(model)), None
