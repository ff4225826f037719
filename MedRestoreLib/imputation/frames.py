"""Missing frames of a 4-D series (and forecast frames) by imputing low-dimensional features.

Frames are flattened; the observed frames give a mean frame and principal components (SVD, at
most observed − 1 of them). The components' coefficients are the scores of one subject's visits,
imputed together by the visit models (:mod:`.visits`; standardised per component) and the
frames rebuilt from the coefficients.
Linear regression is done per voxel over the observed frames (the baseline). Observed frames are
returned unchanged. Blank frames (mean |value| below 2 % of the median frame) are missing for
``missing='auto'``.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import numpy as np

from ..errors import InputError
from ..progress import Steps
from ..volume import Volume, cast_to_dtype
from .missing import present_levels
from .time_series import SequenceModel, extend_times
from .visits_auto import impute_any


def frame_times(count: int, times: Optional[Sequence[float]] = None, forecast: int = 0):
    """(times of the ``count`` frames, their median step, the times of frames and forecasts).

    Frames without times are 0, 1, 2, ...; forecast frames follow the last one at the median
    step, so irregular visits (0, 1, 3, 7) forecast at 9, 11, ...

    Raises:
        InputError: not one finite time per frame.
    """
    times = np.arange(count, dtype=float) if times is None else np.asarray(times, float)
    if times.shape != (count,) or not np.all(np.isfinite(times)):
        raise InputError(f"give one finite time per frame ({count} frames), got {len(times)}")
    interval = float(np.median(np.diff(times))) if count > 1 else 1.0
    return times, interval, extend_times(times, forecast, interval)


def _magnitude(frames: Sequence[Volume]) -> float:
    """The largest |value| of the frames (1 when all are 0): values are divided by it before any
    sum or product, so that float64 cannot overflow near its limit (±1.8e308)."""
    largest = max(float(np.max(np.abs(f.array.astype(np.float64)))) if f.array.size else 0.0 for f in frames)
    return largest if largest > 0 and np.isfinite(largest) else 1.0


def blank_frames(frames: Sequence[Volume]) -> List[int]:
    """Frames that are blank (every frame counts, the first and last too)."""
    magnitude = _magnitude(frames)  # float64 and scaled: frames near 1e300 overflowed float32 here
    levels = np.array([np.abs(f.array.astype(np.float64) / magnitude).mean() for f in frames])
    return [int(n) for n in np.flatnonzero(~present_levels(levels))]


def impute_frames(frames: Sequence[Volume], model, missing: Union[str, Sequence[int]] = "auto",
                  forecast: int = 0, times: Optional[Sequence[float]] = None, network=None,
                  steps: Optional[Steps] = None) -> List[Volume]:
    """Frames with the missing ones imputed, followed by ``forecast`` predicted frames.

    Raises:
        InputError: a single frame (a 3-D volume), frames of different geometry, fewer than two
            observed frames, missing indices out of range.
    """
    steps = steps or Steps()
    if len(frames) < 2:
        raise InputError("impute-sequence needs a 4-D series (several frames); this is a single 3-D volume")
    first = frames[0]
    if not all(first.has_same_geometry(f) for f in frames[1:]):
        raise InputError("every frame of the series must have the same shape and geometry")
    missing = blank_frames(frames) if missing == "auto" else sorted(set(int(m) for m in missing))
    if any(not 0 <= m < len(frames) for m in missing):
        raise InputError(f"missing frame(s) outside 0…{len(frames) - 1}: {missing}")
    observed = [n for n in range(len(frames)) if n not in missing]
    if len(observed) < 2:
        raise InputError(f"only {len(observed)} frame(s) observed: at least 2 are needed")
    if forecast < 0:
        raise InputError(f"--forecast must be ≥ 0, got {forecast}")
    times, interval, all_times = frame_times(len(frames), times, forecast)
    magnitude = _magnitude(frames)
    data = np.stack([frames[n].array.reshape(-1).astype(np.float64) / magnitude for n in observed])
    steps.report(0.1, "imputing frames")
    model = SequenceModel(model)
    wanted = missing + list(range(len(frames), len(frames) + forecast))
    if model == SequenceModel.LINEAR:
        design = np.stack([times[observed], np.ones(len(observed))], 1)
        coefficients, *_ = np.linalg.lstsq(design, data, rcond=None)
        estimates = np.stack([all_times[wanted], np.ones(len(wanted))], 1) @ coefficients
    else:
        mean = data.mean(0)
        left, strengths, basis = np.linalg.svd(data - mean, full_matrices=False)
        keep = strengths > 1e-9 * max(strengths[0], 1e-30)
        scores = left[:, keep] * strengths[keep]
        spreads = scores.std(0)
        spreads[spreads == 0] = 1.0
        values = np.full((len(frames), scores.shape[1]), np.nan)
        values[observed] = scores / spreads
        if scores.shape[1]:
            networks = {model.value: network} if network is not None else None
            # auto weighs each component's error by its variance: the error in the image.
            (_, filled), = impute_any([(times, values)], model.value, forecast, networks,
                                      weights=spreads ** 2)[0]
            coefficients = filled * spreads
        else:
            coefficients = np.zeros((len(all_times), 0))
        estimates = mean + coefficients[wanted] @ basis[keep]
    with np.errstate(over="ignore"):
        estimates = estimates * magnitude
    if not np.all(np.isfinite(estimates)):
        raise InputError("the imputed frames exceed the range of 64-bit numbers (values near ±1.8e308)")
    steps.report(0.9, "writing frames")
    output = [f.copy() for f in frames] + [None] * forecast
    for row, n in enumerate(wanted):
        output[n] = first.with_array(cast_to_dtype(estimates[row].reshape(first.shape), first.array.dtype))
    return output


