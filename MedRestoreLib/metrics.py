"""The evaluation protocol: every number the project reports goes through this module.

Protocol (DESIGN.md, "Evaluation protocol"):

- Intensities are normalised as ``clip((v - p0.5) / (p99.5 - p0.5), 0, 1)`` with the percentiles
  taken over the non-zero voxels of the *reference*; a test volume is normalised with the
  reference's percentiles, so both share one scale (:mod:`MedRestoreLib.intensity`).
- PSNR has data range 1; PSNR_mask is computed over the defect voxels only.
- SSIM is the full SSIM map (data range 1, Gaussian window sigma 1.5, population covariance, as
  scikit-image computes it); SSIM_mask is that map averaged over the defect voxels, as the BraTS
  2023/2024 inpainting challenge scores it.
- Detection is scored per voxel: precision, recall, F1 (= Dice) against the ground-truth mask.

Arrays are (k, j, i); a :class:`MedRestoreLib.volume.Volume` is accepted wherever an array is.

Example:
    >>> from MedRestoreLib.metrics import restoration_scores, mask_scores
    >>> restoration_scores(clean, restored, mask)   # psnr_mask, ssim_mask, psnr, ssim, mask_voxels
    >>> mask_scores(true_mask, predicted_mask)["f1"]
"""
from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np

from .errors import InputError
from .intensity import normalise_intensity, voxel_array

SSIM_SIGMA = 1.5
# scikit-image's 11-tap window for sigma 1.5 (radius int(3.5 * 1.5 + 0.5) = 5).
SSIM_WINDOW = 11

#: name -> (description, units) of every score this module returns.
SCORE_INFO: Dict[str, tuple] = {
    "psnr_mask": ("PSNR over the defect voxels, normalised intensities, data range 1", "dB"),
    "ssim_mask": ("mean of the full SSIM map over the defect voxels", "1"),
    "psnr": ("PSNR over the whole volume, normalised intensities, data range 1", "dB"),
    "ssim": ("mean of the full SSIM map over the whole volume", "1"),
    "mask_voxels": ("number of defect voxels", "voxels"),
    "precision": ("detected voxels that are true defects / detected voxels", "1"),
    "recall": ("true defect voxels that were detected / true defect voxels", "1"),
    "f1": ("harmonic mean of precision and recall (per voxel, equal to Dice)", "1"),
    "dice": ("2 TP / (2 TP + FP + FN)", "1"),
    "true_positives": ("defect voxels detected", "voxels"),
    "false_positives": ("intact voxels flagged as defects", "voxels"),
    "false_negatives": ("defect voxels missed", "voxels"),
}


def _check_same_shape(first: np.ndarray, second: np.ndarray, what: str = "volumes") -> None:
    if first.shape != second.shape:
        raise InputError(f"the {what} differ in shape: {first.shape} vs {second.shape}")


def _as_mask(mask, shape) -> np.ndarray:
    mask = voxel_array(mask) != 0
    if mask.shape != tuple(shape):
        raise InputError(f"the mask has shape {mask.shape}, the volume {tuple(shape)}")
    return mask


def psnr_normalised(ref: np.ndarray, test: np.ndarray, mask: Optional[np.ndarray]) -> float:
    difference = (ref - test) if mask is None else (ref[mask] - test[mask])
    if difference.size == 0:
        return math.nan
    mse = float(np.mean(np.square(difference)))
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def psnr(ref, test, mask=None) -> float:
    """PSNR in dB of ``test`` against ``ref``, both normalised by ``ref``, data range 1.

    Args:
        ref: clean reference volume (array or Volume).
        test: volume to score, same shape.
        mask: optional defect mask (non-zero = defect); then PSNR_mask over those voxels.

    Returns:
        ``10 log10(1 / MSE)``; ``inf`` when identical; ``nan`` when the mask is empty
        (no voxel to score — the caller decides whether that is an error).
    """
    ref, test = voxel_array(ref), voxel_array(test)
    _check_same_shape(ref, test)
    mask = None if mask is None else _as_mask(mask, ref.shape)
    return psnr_normalised(normalise_intensity(ref), normalise_intensity(test, ref), mask)


def ssim_map(ref, test) -> np.ndarray:
    """The full SSIM map of two volumes already on a [0, 1] scale (data range 1).

    scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, full=True)``: 3-D for volumes, 2-D for a
    one-slice volume (axes of length 1 are dropped, which gives the same map). Volumes smaller
    than the 11-voxel window along an axis are scored with the same Gaussian filter (reflected
    borders); only scikit-image's size check is relaxed by passing a smaller odd ``win_size``,
    which with Gaussian weights does not change the map (it only sets the border crop of
    scikit-image's own mean, which is not used here).

    Args:
        ref, test: arrays or Volumes of one shape, already normalised (see
            :func:`normalise_intensity`).

    Returns:
        float64 array of the input shape with per-voxel SSIM.
    """
    from skimage.metrics import structural_similarity

    ref, test = voxel_array(ref), voxel_array(test)
    _check_same_shape(ref, test)
    shape = ref.shape
    if ref.size == 0:
        raise InputError("cannot compute SSIM of an empty volume")
    kept = tuple(n for n in shape if n > 1) or (1,)
    if len(kept) == 1:
        kept = (1,) + kept  # scikit-image works on images of 2 or more dimensions
    ref = ref.reshape(kept).astype(np.float64, copy=False)
    test = test.reshape(kept).astype(np.float64, copy=False)
    smallest = min(kept)
    window = min(SSIM_WINDOW, smallest if smallest % 2 == 1 else smallest - 1)
    _, full = structural_similarity(
        ref, test, win_size=window, gaussian_weights=True, sigma=SSIM_SIGMA,
        use_sample_covariance=False, data_range=1.0, full=True)
    return full.reshape(shape)


def _mean_over(values: np.ndarray, mask: Optional[np.ndarray]) -> float:
    selected = values if mask is None else values[mask]
    return float(np.mean(selected, dtype=np.float64)) if selected.size else math.nan


def ssim(ref, test, mask=None) -> float:
    """SSIM of ``test`` against ``ref`` (both normalised by ``ref``): mean of the SSIM map.

    Args:
        ref, test: arrays or Volumes of one shape, raw intensities.
        mask: optional defect mask; then SSIM_mask, the map averaged over the defect voxels.

    Returns:
        The mean SSIM; 1.0 for identical volumes; ``nan`` when the mask is empty.
    """
    ref, test = voxel_array(ref), voxel_array(test)
    _check_same_shape(ref, test)
    mask = None if mask is None else _as_mask(mask, ref.shape)
    full = ssim_map(normalise_intensity(ref), normalise_intensity(test, ref))
    return _mean_over(full, mask)


def _ratio(numerator: int, denominator: int, both_empty: bool) -> float:
    # 0/0 scores 1.0 only when truth and prediction are both empty (nothing to find, nothing
    # claimed); otherwise an undefined ratio is a failure and scores 0.0.
    if denominator == 0:
        return 1.0 if both_empty else 0.0
    return numerator / denominator


def mask_scores(truth, predicted) -> Dict[str, float]:
    """Per-voxel detection scores of ``predicted`` against ``truth`` (non-zero = defect).

    Conventions for empty masks: both empty → every score 1.0. Otherwise a 0/0 ratio is 0.0:
    an empty prediction against a non-empty truth has precision 0, recall 0, F1 0, Dice 0, and
    a non-empty prediction against an empty truth has precision 0, recall 0, F1 0, Dice 0.
    With these conventions F1 always equals Dice.

    Returns:
        dict with ``precision``, ``recall``, ``f1``, ``dice`` (floats) and ``true_positives``,
        ``false_positives``, ``false_negatives`` (ints).
    """
    truth, predicted = voxel_array(truth) != 0, voxel_array(predicted) != 0
    _check_same_shape(truth, predicted, "masks")
    return scores_from_counts(int(np.count_nonzero(truth & predicted)),
                              int(np.count_nonzero(predicted & ~truth)),
                              int(np.count_nonzero(truth & ~predicted)))


def scores_from_counts(tp: int, fp: int, fn: int) -> Dict[str, float]:
    """:func:`mask_scores` from voxel counts (to pool counts over many volumes)."""
    tp, fp, fn = int(tp), int(fp), int(fn)
    both_empty = tp + fp + fn == 0
    precision = _ratio(tp, tp + fp, both_empty)
    recall = _ratio(tp, tp + fn, both_empty)
    f1 = _ratio(2 * precision * recall, precision + recall, both_empty)
    dice = _ratio(2 * tp, 2 * tp + fp + fn, both_empty)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
            "dice": float(dice), "true_positives": tp, "false_positives": fp,
            "false_negatives": fn}


def restoration_scores(reference, restored, mask) -> Dict[str, float]:
    """PSNR and SSIM of a restored volume, inside the defect mask and over the whole volume.

    Both volumes are normalised once with the reference's percentiles and one SSIM map serves
    both SSIM numbers.

    Args:
        reference: clean volume (array or Volume).
        restored: the repaired volume, same shape.
        mask: defect mask, same shape (non-zero = defect).

    Returns:
        dict with ``psnr_mask``, ``ssim_mask`` (``nan`` for an empty mask), ``psnr``, ``ssim``
        and ``mask_voxels``. ``psnr`` values are ``inf`` where identical; note that
        ``json.dumps`` writes these as ``Infinity``/``NaN``. See :data:`SCORE_INFO` for units.
    """
    reference, restored = voxel_array(reference), voxel_array(restored)
    _check_same_shape(reference, restored)
    mask = _as_mask(mask, reference.shape)
    ref = normalise_intensity(reference)
    test = normalise_intensity(restored, reference)
    full = ssim_map(ref, test)
    return {
        "psnr_mask": psnr_normalised(ref, test, mask),
        "ssim_mask": _mean_over(full, mask),
        "psnr": psnr_normalised(ref, test, None),
        "ssim": _mean_over(full, None),
        "mask_voxels": int(np.count_nonzero(mask)),
    }


def _is_binary(array: np.ndarray) -> bool:
    if array.dtype == bool:
        return True
    return bool(np.all((array == 0) | (array == 1)))


def _describe(volume) -> str:
    spacing = [round(float(v), 4) for v in volume.spacing]
    origin = [round(float(v), 4) for v in volume.origin]
    return f"shape {tuple(volume.shape)}, spacing {spacing}, origin {origin}"


def evaluate_files(ref_path, test_path, mask_path) -> Dict[str, float]:
    """Score a test image file against a reference file inside a mask file.

    Reads all three with :func:`MedRestoreLib.volume.read_volume` and checks that the test and
    the mask have the reference's shape and geometry. Returns :func:`restoration_scores`; when
    the test volume is binary (only 0 and 1, i.e. a predicted defect mask), the
    :func:`mask_scores` of the test against the mask are added to the same flat dict.

    Raises:
        InputError: a file cannot be read, the geometries differ, or the reference has no
            intensity scale (one line, naming the files).
    """
    from .volume import VolumeKind, read_volume

    reference = read_volume(ref_path)
    test = read_volume(test_path)
    mask = read_volume(mask_path, kind=VolumeKind.LABEL)
    for path, volume in ((test_path, test), (mask_path, mask)):
        if not reference.has_same_geometry(volume):
            raise InputError(f"{path} does not match the geometry of {ref_path}: "
                             f"{_describe(volume)} vs {_describe(reference)}")
    try:
        scores = restoration_scores(reference, test, mask)
    except InputError as error:
        raise InputError(f"{ref_path}: {error}") from None
    if _is_binary(test.array):
        scores.update(mask_scores(mask, test))
    return scores
