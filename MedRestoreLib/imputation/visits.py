"""Missing visits of a cohort — several scores per subject at irregular times — by per-subject
linear regression (the baseline) or the recurrent visit imputer (SRN/LSTM), with forecasts.

A subject is ``(times (V,), values (V, M))``: its visits in time order and its M scores,
standardised per score by the caller (one network serves every table), NaN where missing.

Example:
    >>> filled = impute_cohort([(np.array([0, 1, 2.]), np.array([[0.1, 1.], [np.nan, 1.2], [0.5, np.nan]]))],
    ...                        SequenceModel.LSTM, forecast=1)
    >>> filled[0]   # (times with one more visit, values (4, 2) without NaN)
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

Subject = Tuple[np.ndarray, np.ndarray]


def typical_interval(times: List[np.ndarray]) -> float:
    """Median positive time between consecutive visits over all subjects (1.0 if none)."""
    gaps = np.concatenate([np.diff(np.asarray(t, float)) for t in times] + [np.empty(0)])
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 1.0


def extend_times(times: np.ndarray, forecast: int, interval: float) -> np.ndarray:
    """Times with ``forecast`` visits appended, ``interval`` apart after the last one."""
    times = np.asarray(times, float)
    return np.concatenate([times, times[-1] + interval * np.arange(1, forecast + 1)]) if forecast else times


def pack(subjects: List[Subject]):
    """Padded (times (S, V), values (S, V, M), valid (S, V)); padding repeats the last time."""
    longest = max(len(t) for t, _ in subjects)
    scores = subjects[0][1].shape[1]
    times = np.zeros((len(subjects), longest))
    values = np.full((len(subjects), longest, scores), np.nan)
    valid = np.zeros((len(subjects), longest), bool)
    for n, (t, v) in enumerate(subjects):
        times[n, :len(t)], times[n, len(t):] = t, t[-1]
        values[n, :len(t)] = v
        valid[n, :len(t)] = True
    return times, values, valid


def predict(subjects: List[Subject], model: str, network=None, interval: Optional[float] = None) -> np.ndarray:
    """Padded predictions (S, V, M) at every visit (observed ones too) by ``model``."""
    from .visit_features import visit_features

    times, values, valid = pack(subjects)
    interval = interval or typical_interval([t for t, _ in subjects])
    features = visit_features(times, values, valid, interval)
    if model == "linear":  # the baseline: plain least squares per subject and score
        from .visit_features import subject_lines

        observed = features.observed
        return subject_lines(times, np.where(observed, values, 0.0), observed, features.population)[0]
    import torch

    if network is None:
        network = load_sequence_network(model)
    count, length, scores = values.shape
    observed = features.observed
    residual = np.where(observed, np.nan_to_num(values) - features.trend, 0.0)

    def per_sequence(array):  # (S, V, M, ...) -> (S·M, V, ...)
        return torch.as_tensor(np.moveaxis(array, 2, 1).reshape((count * scores, length) + array.shape[3:]),
                               dtype=torch.float32)

    from ..devices import idle_cpu_threads

    flags = np.broadcast_to(valid[:, :, None], values.shape)
    with torch.no_grad(), idle_cpu_threads():
        correction = network(per_sequence(residual), per_sequence(observed.astype(np.float32)),
                             per_sequence(features.inputs), per_sequence(flags.astype(np.float32))).numpy()
    return features.trend + np.moveaxis(correction.reshape(count, scores, length), 1, 2)


def impute_cohort(subjects: List[Subject], model, forecast: int = 0, network=None,
                  interval: Optional[float] = None) -> List[Subject]:
    """Fill the NaN values of every subject and append ``forecast`` predicted visits.

    Args:
        subjects: [(times (V,) ascending, standardised values (V, M) with NaN where missing)].
        model: 'linear', 'lstm' or 'srn' (:class:`~.time_series.SequenceModel`, not 'auto').
        forecast: visits to predict after each subject's last one, a typical interval apart.
        network: a loaded recurrent network (the shipped one when None).

    Returns:
        [(times (V + forecast,), values (V + forecast, M) without NaN)]; observed values unchanged.
    """
    model = getattr(model, "value", model)
    interval = interval or typical_interval([t for t, _ in subjects])
    scores = subjects[0][1].shape[1]
    extended = [(extend_times(t, forecast, interval),
                 np.concatenate([np.asarray(v, float).reshape(len(t), scores), np.full((forecast, scores), np.nan)]))
                for t, v in subjects]
    predicted = predict(extended, model, network, interval)
    return [(t, np.where(np.isnan(v), predicted[n, :len(t)], v)) for n, (t, v) in enumerate(extended)]


def load_sequence_network(cell: str):
    from .sequence_net import build
    from .weights import load_model, shipped_folder

    return load_model(shipped_folder("sequence", cell), build)[0]
