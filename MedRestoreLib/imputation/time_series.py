"""The time-point models and univariate series: missing values of series of one measurement
(each series one subject) by :mod:`.visits`, with an optional forecast of the next visits.

A series is ``(times, values)`` with NaN where a visit's value is missing. Values must already be
standardised by the caller, because one network serves every measurement.

Example:
    >>> filled = impute_series([(np.array([0, 1, 2, 3.]), np.array([0.1, np.nan, 0.5, 0.6]))],
    ...                        SequenceModel.LSTM, forecast=1)
    >>> filled[0]   # (times with one more visit, values without NaN)
"""
from __future__ import annotations

from enum import Enum
from typing import List, Optional, Tuple

import numpy as np

from .visits import extend_times, typical_interval  # noqa: F401  (re-exported: frames, tables)

Series = Tuple[np.ndarray, np.ndarray]


class SequenceModel(str, Enum):
    AUTO = "auto"  # the best of the others, measured on held-out observed cells of the input itself
    LSTM = "lstm"
    SRN = "srn"
    LINEAR = "linear"  # least-squares line through the observed visits of each subject and measurement


# The model the CLI, the logic and the panel use unless told otherwise.
DEFAULT_SEQUENCE_MODEL = SequenceModel.AUTO


def impute_series(series: List[Series], model, forecast: int = 0, network=None,
                  interval: Optional[float] = None) -> List[Series]:
    """Fill NaN values and append ``forecast`` predicted visits to every series (one measurement,
    one series per subject).

    Args:
        series: [(times (V,), standardised values (V,) with NaN where missing)].
        model: :class:`SequenceModel`.
        network: a loaded recurrent network for ``model`` (the shipped one when None).

    Returns:
        [(times (V + forecast,), values without NaN)]; observed values are unchanged.
    """
    from .visits_auto import impute_any

    model = SequenceModel(model).value
    subjects = [(np.asarray(t, float), np.asarray(v, float)[:, None]) for t, v in series]
    networks = {model: network} if network is not None else None
    filled, _ = impute_any(subjects, model, forecast, networks)
    return [(t, v[:, 0]) for t, v in filled]
