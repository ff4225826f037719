"""The restore pipeline: detect defects (unless a mask is given), fill them, keep everything else.

Example:
    >>> from MedRestoreLib import read_volume, restore, RestoreOptions
    >>> result = restore(read_volume("damaged.nrrd"), RestoreOptions())
    >>> result.volume      # repaired, same geometry and dtype; voxels outside result.mask untouched
    >>> result.report.as_dict()
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .detection.detector import run_detector
from .detection.localizer import SLAB
from .devices import resolve_device
from .errors import InputError
from .inpainting import filler_for
from .inpainting.gan_filler import MAX_BATCH_PIXELS as FILL_BATCH_PIXELS
from .models.loaded import LoadedModels
from .oom_fallback import Attempt, run_with_oom_fallback
from .options import DetectOptions, DetectorMethod, RestoreOptions
from .progress import CancelCallback, ProgressCallback, Steps
from .volume import Volume, VolumeKind, cast_to_dtype, float32_safe_scale


@dataclass
class Measurement:
    """One reported number, with what it means and its units (shown in Slicer's report table)."""

    name: str
    value: object
    units: str
    description: str


@dataclass
class RestoreReport:
    """What a restore did: methods, counts and times."""

    detector: str
    filler: str
    device: str
    seed: int
    mask_given: bool
    voxels: int
    voxels_changed: int
    defect_regions: int
    seconds_detect: float
    seconds_fill: float
    detection_threshold: Optional[float] = None  # the threshold this volume calibrated (LSTM)
    fill_choices: List[dict] = field(default_factory=list)  # auto: method per group of regions

    def measurements(self) -> List[Measurement]:
        return [
            Measurement("detector", self.detector, "", "how defects were found ('given' = known mask)"),
            Measurement("filler", self.filler, "", "how defect voxels were filled"),
            Measurement("device", self.device, "", "where the computation ran"),
            Measurement("voxels changed", self.voxels_changed, "voxels", "voxels inside the defect mask"),
            Measurement("fraction changed", round(100.0 * self.voxels_changed / max(self.voxels, 1), 4),
                        "%", "share of the volume inside the defect mask"),
            Measurement("defect regions", self.defect_regions, "regions",
                        "connected components (26-neighbourhood) of the defect mask"),
            Measurement("detection time", round(self.seconds_detect, 3), "s", "wall time of detection"),
            Measurement("fill time", round(self.seconds_fill, 3), "s", "wall time of filling"),
        ] + ([Measurement("detection threshold", round(self.detection_threshold, 4), "",
                          "probability threshold this volume calibrated from its own score tail")]
             if self.detection_threshold is not None else []) + [
            Measurement(f"fill: {choice['group']}", choice["method"], "",
                        f"{choice['voxels']} voxels in {choice['regions']} regions; probe PSNR (dB) "
                        + ", ".join(f"{name} {score}" for name, score in choice["scores"].items()))
            for choice in self.fill_choices]

    def as_dict(self) -> Dict[str, object]:
        return asdict(self)


@dataclass
class RestoreResult:
    """Output of :func:`restore`.

    Attributes:
        volume: the repaired volume (input geometry and dtype).
        mask: label volume, uint8 0/1, the voxels that were replaced.
        probability: float32 defect probability in [0, 1], or None when the mask was given.
        report: what was done, with counts and times.
    """

    volume: Volume
    mask: Volume
    probability: Optional[Volume]
    report: RestoreReport = field(repr=False)


def check_intensity_volume(volume: Volume) -> None:
    """Raise :class:`InputError` for volumes no method can restore."""
    if volume.array.size < 2:
        raise InputError(f"the volume has {volume.array.size} voxel(s); at least 2 are needed")
    if volume.array.dtype == bool or not np.issubdtype(volume.array.dtype, np.number) \
            or np.iscomplexobj(volume.array):
        raise InputError(f"voxel type {volume.array.dtype} is not a real scalar type")
    if np.issubdtype(volume.array.dtype, np.floating) and not np.all(np.isfinite(volume.array)):
        bad = int(np.count_nonzero(~np.isfinite(volume.array)))
        raise InputError(f"the volume has {bad} NaN or infinite voxel(s); replace them first "
                         "(e.g. give them as a known mask after setting them to 0)")


def _check_mask(volume: Volume, mask: Volume) -> np.ndarray:
    if not volume.has_same_geometry(mask):
        raise InputError(f"the mask's shape {mask.shape} or geometry differs from the image's "
                         f"{volume.shape}; resample it onto the image first")
    return np.asarray(mask.array) != 0


def detect(volume: Volume, options: Optional[DetectOptions] = None,
           progress: Optional[ProgressCallback] = None,
           cancel: Optional[CancelCallback] = None, device: str = "auto",
           models: Optional[LoadedModels] = None) -> Tuple[Volume, Volume]:
    """Find defects.

    ``models`` holds networks loaded by an earlier call (a batch worker's); None loads them.

    Returns:
        (mask, probability): uint8 0/1 label volume (the detector's decision at its threshold)
        and float32 probability volume in [0, 1].
    """
    options = options or DetectOptions()
    options.validate()
    check_intensity_volume(volume)
    scale = float32_safe_scale(volume.array)
    mask, probability, _ = _detect(volume if scale == 1.0 else volume.with_array(volume.array / scale), options,
                                   Steps(progress, cancel), resolve_device(device),
                                   models=models)
    return mask, probability


def _detect(volume: Volume, options: DetectOptions, steps: Steps, device: str = "cpu",
            diagnostics: Optional[dict] = None,
            models: Optional[LoadedModels] = None) -> Tuple[Volume, Volume, Attempt]:
    """(mask, probability, the attempt that succeeded): on a CUDA out-of-memory error the
    detector runs again with smaller slabs, then on the CPU, and the message says so."""
    steps.report(0.0, "detecting defects")

    def localizer(on):  # only the learned detectors have one to load
        learned = models is not None and DetectorMethod(options.method) is not DetectorMethod.MEDIAN_MAD
        return models.localizer(on) if learned else None

    (probability, mask), attempt = run_with_oom_fallback(
        lambda on, slab: run_detector(volume.array, options, on, steps, localizer=localizer(on), slab=slab,
                                      diagnostics=diagnostics),
        device, SLAB,
        notify=lambda message: steps.report(0.0, message))
    steps.report(1.0, "defects detected")
    return (volume.with_array(mask.astype(np.uint8), VolumeKind.LABEL),
            volume.with_array(probability, VolumeKind.INTENSITY), attempt)


def restore(volume: Volume, options: Optional[RestoreOptions] = None,
            progress: Optional[ProgressCallback] = None, cancel: Optional[CancelCallback] = None,
            mask: Optional[Volume] = None, models: Optional[LoadedModels] = None) -> RestoreResult:
    """Detect defects (or take ``mask``) and fill them; the input is never modified.

    Args:
        volume: the damaged volume.
        options: detection, filling, device and seed (defaults: :class:`RestoreOptions`).
        progress: ``progress(fraction, message)``, called as work advances.
        cancel: ``cancel() -> bool``; when it returns True, :class:`Cancelled` is raised.
        mask: known defect mask (non-zero = defect) on the image's grid; detection is skipped.
        models: networks loaded by an earlier call, reused (a batch worker's); None loads them.

    Returns:
        :class:`RestoreResult`. Voxels outside the mask are bit-identical to the input; geometry
        and dtype are kept (filled values rounded and clipped to the dtype's range).

    Raises:
        InputError: bad volume, mask or options.
        Cancelled: ``cancel()`` returned True.
    """
    options = options or RestoreOptions()
    options.validate()
    check_intensity_volume(volume)
    device = resolve_device(options.device)
    steps = Steps(progress, cancel)

    started = time.perf_counter()
    diagnostics: dict = {}
    original = volume.array
    # Detectors and learned fills compute in float32 and are indifferent to a global scale.
    scale = float32_safe_scale(original)
    scaled = original.astype(np.float64) / scale
    if mask is not None:
        defects = _check_mask(volume, mask)
        probability = None
        detector = "given"
    else:
        mask_volume, probability, attempt = _detect(volume if scale == 1.0 else volume.with_array(scaled),
                                                    options.detect, steps.sub(0.0, 0.3), device,
                                                    diagnostics, models)
        device = attempt.device  # the fill too stays on the CPU after a CUDA out-of-memory error
        defects = mask_volume.array.astype(bool)
        detector = options.detect.method.value
    detected = time.perf_counter()

    fell_back = mask is None and attempt.fell_back
    if defects.any():
        fill_steps = steps.sub(0.3, 1.0)
        # A learned fill on CUDA retries with smaller batches, then on the CPU (classical fills
        # run on the CPU and never reach the retry).
        used = {}

        def fill(on, pixels):
            used["filler"] = filler_for(options.fill, on, pixels, options.seed, models)
            return used["filler"](scaled, defects, fill_steps)

        filled, fill_attempt = run_with_oom_fallback(
            fill, device, FILL_BATCH_PIXELS, notify=lambda message: fill_steps.report(0.0, message),
            min_tile=FILL_BATCH_PIXELS // 16)
        fill_choices = [asdict(choice) for choice in getattr(used["filler"], "choices", [])]
        device, fell_back = fill_attempt.device, fell_back or fill_attempt.fell_back
        repaired = original.copy()
        repaired[defects] = cast_to_dtype(filled[defects] * scale, original.dtype)
    else:
        repaired, fill_choices = original.copy(), []
    steps.report(1.0, "restore done")
    finished = time.perf_counter()

    from scipy import ndimage

    _, regions = ndimage.label(defects, structure=np.ones((3, 3, 3), bool))
    detection_threshold = diagnostics.get("threshold")
    report = RestoreReport(
        detector=detector, filler=options.fill.method.value, seed=options.seed,
        device=f"{device} (after CUDA ran out of memory)" if fell_back else device,
        mask_given=mask is not None, voxels=int(original.size), voxels_changed=int(defects.sum()),
        defect_regions=int(regions), seconds_detect=detected - started,
        seconds_fill=finished - detected, detection_threshold=detection_threshold, fill_choices=fill_choices)
    return RestoreResult(volume.with_array(repaired),
                         volume.with_array(defects.astype(np.uint8), VolumeKind.LABEL),
                         probability, report)
