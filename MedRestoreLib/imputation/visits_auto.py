"""``--model auto`` for visits: measure each candidate on the user's own table and use the best
per score and per kind of gap.

Gaps come in three kinds, told apart from the table itself: a *cell* (a blank score at a visit
where other scores were measured), a *visit* (a whole interior visit blank) and a *forecast*
(after the subject's last measured visit, forecast rows included). Which model is best differs
between them — the other scores of the same visit help a blank cell, nothing helps a missed
visit but the subject's course. So observed values are held out the three ways — random cells,
a whole interior visit of some subjects, the last visit of some subjects — imputed by every
candidate (LSTM, SRN, per-subject linear regression) from the rest, and scored by their squared
error. Each kind first takes the candidate with the smallest error over all its scores, but a
recurrent model only when it beats linear regression clearly: by ``MARGIN`` in RMSE and by
``EVIDENCE`` standard errors of the paired difference of squared errors (what is measured on a
few hundred cells is itself noisy; without clear evidence the baseline stays). A score then
departs from its kind's choice only with the same clear evidence against that choice: errors
are heavy-tailed (one linear extrapolation of a sigmoid course can be far off), so a hundred
cells of one score rarely prove anything, and falling back to linear regression there (as a
per-score test against linear did) gave forecasts 0.98× linear's error where the networks reach
0.31×. A (kind, score) with fewer than ``MIN_CELLS`` held-out cells follows the kind's choice,
and a kind with none at all follows linear regression. Small cohorts (fewer than ``FEW_SUBJECTS`` subjects,
e.g. the single subject of an image series) hold out every interior visit in turn and the last
one, so the visit and forecast kinds are measured too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from .visits import Subject, impute_cohort, pack, predict

CANDIDATES = ("lstm", "srn", "linear")
KINDS = ("cell", "visit", "forecast")
MARGIN = 0.01  # relative: a recurrent model is chosen when its RMSE is ≤ 99 % of linear's
EVIDENCE = 1.5  # ... and its squared errors are lower by at least this many standard errors (2.0 kept
# linear forecasts at 0.98× where the networks reach 0.31× on the held-out mixed-shape cohort; 1.0 took a
# network for alzheimer.csv's missed visits, 1.035× linear)
MIN_CELLS = 20
CELL_RATE, VISIT_RATE, LAST_RATE, FOLDS = 0.1, 0.3, 0.2, 3
FEW_SUBJECTS = 10


@dataclass
class VisitChoice:
    """What ``auto`` chose: per kind of gap and score the model, and every candidate's held-out
    RMSE (standardised units) per kind and score, with the number of held-out cells."""

    models: Dict[str, List[str]]
    rmse: Dict[str, Dict[str, List[float]]] = field(default_factory=dict)
    cells: Dict[str, int] = field(default_factory=dict)

    def summary(self, names: Sequence[str]) -> str:
        """One line: the choice per kind of gap and column, with held-out RMSE ratios to linear."""
        parts = []
        for kind in KINDS:
            if not self.cells.get(kind):
                continue
            chosen = []
            for n, name in enumerate(names):
                model = self.models[kind][n]
                ratio = self.rmse[kind][model][n] / max(self.rmse[kind]["linear"][n], 1e-12)
                chosen.append(f"{name} {model} ({ratio:.2f}×)")
            parts.append(f"{kind}s [{self.cells[kind]} held out]: " + ", ".join(chosen))
        return "auto chose per gap kind and column (held-out RMSE / linear regression's) — " + "; ".join(parts)

    def to_dict(self, names: Sequence[str]) -> Dict:
        return {"models": {kind: dict(zip(names, models)) for kind, models in self.models.items()},
                "held_out_cells": self.cells,
                "held_out_rmse_standardised": {kind: {m: dict(zip(names, v)) for m, v in per_model.items()}
                                               for kind, per_model in self.rmse.items()}}


def gap_kinds(subjects: List[Subject]) -> np.ndarray:
    """Padded (S, V, M) codes of every missing cell: 1 cell, 2 visit, 3 forecast (0 observed)."""
    _, values, valid = pack(subjects)
    missing = np.isnan(values) & valid[:, :, None]
    measured = ~np.isnan(values).all(2) & valid  # visits with any score
    last = np.array([np.flatnonzero(row).max() if row.any() else -1 for row in measured])
    after = np.arange(values.shape[1])[None] > last[:, None]
    kinds = np.where(measured[:, :, None], 1, np.where(after[:, :, None], 3, 2))
    return np.where(missing, kinds, 0)


def _hide(subjects: List[Subject], rng: np.random.Generator) -> List[Subject]:
    hidden = []
    for times, values in subjects:
        values = values.copy()
        observed = ~np.isnan(values)
        values[observed & (rng.random(values.shape) < CELL_RATE)] = np.nan
        if len(times) > 2 and rng.random() < VISIT_RATE:
            values[int(rng.integers(1, len(times) - 1))] = np.nan
        if len(times) > 2 and rng.random() < LAST_RATE:
            values[-1] = np.nan
        hidden.append((times, values))
    return hidden


def _folds(subjects: List[Subject], rng: np.random.Generator):
    """The held-out versions of ``subjects``: random folds, or for small cohorts each interior
    visit in turn, the last visit, and random cells."""
    if len(subjects) >= FEW_SUBJECTS:
        return [_hide(subjects, rng) for _ in range(FOLDS)]
    folds = []
    for visit in range(1, max(len(t) for t, _ in subjects)):
        fold = []
        for times, values in subjects:
            values = values.copy()
            if visit < len(times):
                values[visit] = np.nan
            fold.append((times, values))
        folds.append(fold)
    for _ in range(FOLDS):
        folds.append([(t, np.where(rng.random(v.shape) < CELL_RATE, np.nan, v)) for t, v in subjects])
    return folds


def choose(subjects: List[Subject], networks: Optional[Dict[str, object]] = None, seed: int = 0,
           candidates: Sequence[str] = CANDIDATES, weights: Optional[np.ndarray] = None) -> VisitChoice:
    """Per kind of gap and score, the candidate with the smallest held-out error (module docstring).
    ``weights`` (one per score) scale the squared errors where scores do not count alike: the
    principal components of an image series, weighted by their variance, so that the choice
    follows the error in the image rather than in its faintest components."""
    weight = np.ones(subjects[0][1].shape[1]) if weights is None else np.asarray(weights, np.float64)
    networks = networks or {}
    rng = np.random.default_rng(seed)
    scores = subjects[0][1].shape[1]
    squared = {k: {m: np.zeros(scores) for m in candidates} for k in KINDS}
    pairs = [(a, b) for n, a in enumerate(candidates) for b in candidates[n + 1:]]
    spread = {k: {pair: np.zeros(scores) for pair in pairs} for k in KINDS}  # Σ (e_a² − e_b²)²
    counts = {k: np.zeros(scores) for k in KINDS}
    _, truth, _ = pack(subjects)
    for hidden in _folds(subjects, rng):
        kinds = np.where(~np.isnan(truth), gap_kinds(hidden), 0)
        errors = {m: weight * (predict(hidden, m, networks.get(m)) - np.nan_to_num(truth)) ** 2 for m in candidates}
        for code, kind in enumerate(KINDS, start=1):
            held = kinds == code
            counts[kind] += held.sum((0, 1))
            for model in candidates:
                squared[kind][model] += np.where(held, errors[model], 0.0).sum((0, 1))
            for a, b in pairs:
                spread[kind][(a, b)] += (np.where(held, errors[a] - errors[b], 0.0) ** 2).sum((0, 1))
    models, rmse = {}, {}
    for kind in KINDS:
        pooled = _Measured({m: squared[kind][m].sum() for m in candidates},
                           {pair: value.sum() for pair, value in spread[kind].items()}, counts[kind].sum())
        baseline = "linear" if "linear" in candidates else candidates[0]
        overall = pooled.pick(baseline) if pooled.count else baseline
        models[kind] = [_Measured({m: squared[kind][m][n] for m in candidates},
                                  {pair: value[n] for pair, value in spread[kind].items()},
                                  counts[kind][n]).pick(overall) if counts[kind][n] >= MIN_CELLS else overall
                        for n in range(scores)]
        rmse[kind] = {m: [float(np.sqrt(squared[kind][m][n] / max(counts[kind][n], 1))) for n in range(scores)]
                      for m in candidates}
    return VisitChoice(models, rmse, {k: int(counts[k].sum()) for k in KINDS})


@dataclass
class _Measured:
    """Held-out errors of the candidates on one set of cells: Σ e² per candidate, Σ (e_a² − e_b²)²
    per pair, and the number of cells."""

    squared: Dict[str, float]
    spread: Dict[tuple, float]
    count: float

    def pick(self, default: str) -> str:
        """The candidate with the least error, if it beats ``default`` clearly; else ``default``."""
        best = min(self.squared, key=self.squared.get)
        return best if best == default or self._clearly_better(best, default) else default

    def _clearly_better(self, model: str, other: str) -> bool:
        count = max(self.count, 1)
        mean = (self.squared[other] - self.squared[model]) / count
        spread = self.spread.get((model, other), self.spread.get((other, model), 0.0))
        standard_error = np.sqrt(max(spread / count - mean ** 2, 0.0) / max(count - 1, 1))
        return self.squared[model] <= (1 - MARGIN) ** 2 * self.squared[other] and mean >= EVIDENCE * standard_error


def impute_auto(subjects: List[Subject], forecast: int = 0, networks: Optional[Dict[str, object]] = None,
                seed: int = 0, weights: Optional[np.ndarray] = None):
    """(filled subjects as :func:`~.visits.impute_cohort` gives them, :class:`VisitChoice`)."""
    import importlib.util

    networks = networks or {}
    # Without torch (a fresh Slicer) the recurrent candidates cannot run: linear regression it is.
    candidates = CANDIDATES if importlib.util.find_spec("torch") is not None else ("linear",)
    choice = choose(subjects, networks, seed, candidates, weights)
    needed = {model for models in choice.models.values() for model in models}
    results = {model: impute_cohort(subjects, model, forecast, networks.get(model)) for model in needed}
    extended = [(t, np.full(v.shape, np.nan)) for t, v in next(iter(results.values()))]
    for (t, v), (_, original) in zip(extended, subjects):
        v[:len(original)] = original
    kinds = gap_kinds(extended)
    filled = []
    for n, (times, values) in enumerate(extended):
        values = values.copy()
        for code, kind in enumerate(KINDS, start=1):
            for m, model in enumerate(choice.models[kind]):
                here = kinds[n, :len(times), m] == code
                values[here, m] = results[model][n][1][here, m]
        filled.append((times, values))
    return filled, choice


def impute_any(subjects: List[Subject], model: str, forecast: int = 0,
               networks: Optional[Dict[str, object]] = None, seed: int = 0, weights: Optional[np.ndarray] = None):
    """(filled subjects, :class:`VisitChoice` or None): ``auto`` (``weights``: see :func:`choose`)
    or one model."""
    model = getattr(model, "value", model)
    if model == "auto":
        return impute_auto(subjects, forecast, networks, seed, weights)
    return impute_cohort(subjects, model, forecast, (networks or {}).get(model)), None
