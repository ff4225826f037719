"""One entry point for every detector: an intensity array in, (probability, mask) out."""
from __future__ import annotations

from dataclasses import asdict
from typing import Optional, Tuple

import numpy as np

from ..options import DetectOptions, DetectorMethod
from ..progress import Steps
from .baselines import median_mad_probability
from .calibration import calibrate_threshold
from .dpd import FEATURE_NAMES

MEDIAN_MAD_THRESHOLD = 5.0  # k of |x − median3×3| > k · 1.4826 · MAD
CERTAIN_DPD_FACTOR = 2.0  # DPD_D beyond this × its threshold is a defect whatever the LSTM says


def run_detector(array: np.ndarray, options: DetectOptions, device: str = "cpu",
                 steps: Optional[Steps] = None, localizer=None,
                 features=None, slab: Optional[int] = None,
                 diagnostics: Optional[dict] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Defect probability (float32 in [0, 1]) and mask (bool) of a volume (k, j, i).

    Args:
        array: intensities.
        options: which detector, and its threshold (None: the method's own).
        device: "cpu" or "cuda" for the torch detectors.
        steps: progress and cancel.
        localizer: a loaded :class:`~.localizer.Localizer`; loaded from the shipped model when
            needed and not given.
        features: ``compute_features(array)[0]`` when the caller already has them (the
            benchmark runs several detectors on one volume); computed here otherwise.
        slab: slices per inference slab of the LSTM (None: the localizer's default).
        diagnostics: a dict that receives the threshold calibration (LSTM), if given.
    """
    steps = steps or Steps()
    method = DetectorMethod(options.method)
    if method == DetectorMethod.MEDIAN_MAD:
        threshold = options.threshold or MEDIAN_MAD_THRESHOLD
        probability = median_mad_probability(array, threshold)
        return probability, probability >= 0.5
    from .dpd import compute_features
    from .localizer import load_localizer, predict_probability

    localizer = localizer or load_localizer(device=device)
    if features is None:
        steps.report(0.05, "DPD_D features")
        features, _ = compute_features(array, device=device)
    distance = np.expm1(features[4].cpu().numpy())  # the DPD_D channel, log1p-compressed
    if method == DetectorMethod.DPD:
        threshold = options.threshold or localizer.dpd_threshold
        probability = np.clip(distance / (2.0 * threshold), 0.0, 1.0).astype(np.float32)
        return probability, distance > threshold
    probability = predict_probability(localizer.model, localizer.select(features), localizer.gate,
                                      steps.sub(0.3, 1.0), **({} if slab is None else {"slab": slab}))
    void = features[FEATURE_NAMES.index("void")].cpu().numpy() > 0.5
    if options.threshold is not None:
        threshold = options.threshold
    elif options.calibrate:
        calibration = calibrate_threshold(probability, localizer.threshold, exclude=void)
        threshold = calibration.threshold
        if diagnostics is not None:
            diagnostics.update(asdict(calibration))
    else:
        threshold = localizer.threshold
    # Values far outside anything seen in training (a 4000 in a 0–1300 image) can leave the
    # LSTM unsure, yet DPD_D is then beyond doubt: twice its own threshold overrides.
    certain = (distance > CERTAIN_DPD_FACTOR * localizer.dpd_threshold) | void
    probability = np.where(certain, np.maximum(probability, threshold), probability)
    # "| certain" is needed: raised to the threshold in float32 (0.7 → 0.69999999), a certain
    # voxel's probability can compare below the float64 threshold.
    return probability.astype(np.float32), (probability >= threshold) | certain
