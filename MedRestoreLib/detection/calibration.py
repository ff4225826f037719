"""Each volume sets its own decision threshold from the tail of its own score distribution.

A fixed threshold cannot hold the false-alarm rate on every kind of scan: on a contrast, a
resolution or a noise level the model never met, healthy tissue can score higher than it did in
validation. The scores of one volume are mostly healthy voxels, and their tail tells how many
healthy voxels a threshold would flag:

1. take the scores (log-odds) of the volume's voxels (signal voids, decided otherwise, left out);
2. fit an exponential tail between their 90th and 99th percentiles — healthy tissue as long as
   real defects are under 1 % of the volume (the tail of classifier log-odds is close to
   exponential). When 1 % or more of the voxels already score above the validated threshold,
   the 99th percentile would lie among them — often real damage (a missing slice, a box, mixed
   defects: 1–4 % of a volume), and a fit through it pushed the threshold to 1.0, above the
   damage itself — so the fit is then made on the voxels below the validated threshold (the
   percentiles of those; unless they are under 90 % of the volume: then healthy tissue itself
   runs hot and every voxel counts);
3. extrapolate: the threshold above which the fitted tail expects at most ``target_rate`` of the
   volume's voxels.

The threshold used is the larger of that and the validated one, so calibration only ever makes
the detector more careful: on a volume like the validation data the tail is steep and nothing
changes; on a volume where healthy tissue runs hot the threshold rises with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TARGET_RATE = 1e-4  # at most 0.01 % of a volume's healthy voxels flagged (issue target)
LOW, HIGH = 0.90, 0.99  # quantiles between which the healthy tail is fitted
MIN_VOXELS = 2000  # below this many scores the tail cannot be fitted; the validated threshold holds


@dataclass
class Calibration:
    """The threshold a volume chose and why (reported with the restore)."""

    threshold: float  # on the probability
    validated: float  # the model's own threshold
    tail_threshold: float  # what the fitted tail alone asks for (NaN when not fitted)


def _logit(p):
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def calibrate_threshold(probability: np.ndarray, validated: float, exclude: np.ndarray = None,
                        target_rate: float = TARGET_RATE) -> Calibration:
    """The decision threshold for one volume's defect probabilities (see the module docstring).

    Args:
        probability: per-voxel defect probability, any shape.
        validated: the model's validated threshold (a probability).
        exclude: voxels decided otherwise (e.g. signal voids), left out of the tail.
        target_rate: the share of the volume's voxels the healthy tail may put above the threshold.
    """
    scores = probability if exclude is None else probability[~exclude]
    if scores.size < MIN_VOXELS:
        return Calibration(float(validated), float(validated), float("nan"))
    above = np.count_nonzero(scores >= validated) / scores.size
    if 1.0 - HIGH <= above <= 1.0 - LOW:  # see step 2
        scores = scores[scores < validated]
    low, high = np.quantile(scores, [LOW, HIGH])
    s_low, s_high = _logit(low), _logit(high)
    if not s_high > s_low:
        return Calibration(float(validated), float(validated), float("nan"))
    rate = np.log((1.0 - LOW) / (1.0 - HIGH)) / (s_high - s_low)  # survival ∝ exp(−rate · score)
    expected_above_high = (1.0 - HIGH) * scores.size
    allowed = target_rate * probability.size
    tail = s_high + np.log(max(expected_above_high / allowed, 1e-12)) / rate
    tail_probability = float(1.0 / (1.0 + np.exp(-tail)))
    return Calibration(max(float(validated), tail_probability), float(validated), tail_probability)
