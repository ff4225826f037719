"""Missing time points of univariate series: linear regression (the baseline) or the recurrent
SRN/LSTM imputer, with an optional forecast of the next visits.

A series is ``(times, values)`` with NaN where a visit's value is missing. Values must already be
standardised by the caller (tables: per column; image series: per feature), because one network
serves every measurement.

Example:
    >>> filled = impute_series([(np.array([0, 1, 2, 3.]), np.array([0.1, np.nan, 0.5, 0.6]))],
    ...                        SequenceModel.LSTM, forecast=1)
    >>> filled[0]   # (times with one more visit, values without NaN)
"""
from __future__ import annotations

from enum import Enum
from typing import List, Optional, Tuple

import numpy as np

from ..errors import InputError

Series = Tuple[np.ndarray, np.ndarray]


class SequenceModel(str, Enum):
    LSTM = "lstm"
    SRN = "srn"
    LINEAR = "linear"  # least-squares line through the observed visits of each series


# The model the CLI, the logic and the panel use unless told otherwise.
DEFAULT_SEQUENCE_MODEL = SequenceModel.LSTM


def typical_interval(series: List[Series]) -> float:
    """Median positive time between consecutive visits over all series (1.0 if none)."""
    gaps = np.concatenate([np.diff(np.asarray(t, float)) for t, _ in series] + [np.empty(0)])
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 1.0


def extend_times(times: np.ndarray, forecast: int, interval: float) -> np.ndarray:
    """Times with ``forecast`` visits appended, ``interval`` apart after the last one."""
    times = np.asarray(times, float)
    return np.concatenate([times, times[-1] + interval * np.arange(1, forecast + 1)]) if forecast else times


def linear_fill(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Least-squares line through the observed values, evaluated at every time (a constant when
    only one value is observed)."""
    known = ~np.isnan(values)
    if known.sum() == 0:
        raise InputError("a series has no observed value")
    if known.sum() == 1 or np.ptp(times[known]) == 0:
        fitted = np.full(times.shape, values[known].mean())
    else:
        slope, intercept = np.polyfit(times[known], values[known], 1)
        fitted = slope * times + intercept
    return np.where(known, values, fitted)


def impute_series(series: List[Series], model, forecast: int = 0, network=None,
                  interval: Optional[float] = None) -> List[Series]:
    """Fill NaN values and append ``forecast`` predicted visits to every series.

    Args:
        series: [(times (V,), standardised values (V,) with NaN where missing)].
        model: :class:`SequenceModel`.
        forecast: visits to predict after each series' last one.
        network: a loaded recurrent network (loaded from the shipped folder when None).
        interval: typical time between visits (from the series when None).

    Returns:
        [(times (V + forecast,), values without NaN)]; observed values are unchanged.
    """
    model = SequenceModel(model)
    interval = interval or typical_interval(series)
    extended = [(extend_times(t, forecast, interval),
                 np.concatenate([np.asarray(v, float), np.full(forecast, np.nan)])) for t, v in series]
    if model == SequenceModel.LINEAR:
        return [(t, linear_fill(t, v)) for t, v in extended]
    if network is None:
        network = load_sequence_network(model.value)
    return _recurrent(extended, network, interval)


def load_sequence_network(cell: str):
    from .sequence_net import build
    from .weights import load_model, shipped_folder

    return load_model(shipped_folder("sequence", cell), build)[0]


def _recurrent(series: List[Series], network, interval: float) -> List[Series]:
    import torch

    from .sequence_net import interpolate_gaps

    results: List[Optional[Series]] = [None] * len(series)
    by_length = {}
    for number, (times, _) in enumerate(series):
        by_length.setdefault(len(times), []).append(number)
    for length, members in by_length.items():
        times = np.stack([series[n][0] for n in members])
        values = np.stack([series[n][1] for n in members])
        acquired = ~np.isnan(values)
        gaps = np.concatenate([np.zeros((len(members), 1)), np.diff(times, axis=1)], 1) / interval
        interpolated = interpolate_gaps(times, np.nan_to_num(values), acquired)
        with torch.no_grad():
            predicted = network(torch.as_tensor(np.nan_to_num(values), dtype=torch.float32),
                                torch.as_tensor(acquired, dtype=torch.float32),
                                torch.as_tensor(gaps, dtype=torch.float32),
                                torch.as_tensor(interpolated, dtype=torch.float32)).numpy()
        filled = np.where(acquired, values, predicted)
        for row, number in enumerate(members):
            results[number] = (times[row], filled[row])
    return results
