"""Missing and thick slices → a thin-slice volume on the full grid.

Example:
    >>> from MedRestoreLib.imputation.slices import SliceImputeOptions, impute_slices
    >>> result = impute_slices(read_volume("thick.nrrd"), SliceImputeOptions(factor=4))
    >>> result.volume.spacing        # slice spacing divided by 4, origin per layout.py
    >>> result.filled                # (L,) bool: thin slices that were computed

The slice axis is the volume's k axis (array axis 0). See :mod:`.layout` for the thin grid's
geometry of thick and sampled slices.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import List, Optional, Union

import numpy as np

from ..errors import InputError
from ..intensity import intensity_window
from ..progress import CancelCallback, ProgressCallback, Steps
from ..volume import Volume, cast_to_dtype, float32_safe_scale
from .layout import Acquisition, Layout, factor_layout, gap_layout, thin_volume_geometry
from .missing import find_missing_slices
from .slice_networks import AUTO_NETWORK, adapted_network, load_slice_network  # noqa: F401 (re-exported)


class SliceModel(str, Enum):
    AUTO = "auto"  # the best candidate or blend, measured on held-out acquired slices (slice_auto.py)
    LSTM = "lstm"
    SRN = "srn"
    LINEAR = "linear"
    CUBIC = "cubic"
    GMM = "gmm"  # Gaussian-mixture patch imputation (Dalca et al. 2019), the existing system


#: Model outputs below this (normalised) level are read as "at or below p0.5" (see _run_normalised).
FLAT_LEVEL = 0.05

#: The default: measured per input, so never (measurably) worse than interpolation (docs/imputation.md).
DEFAULT_SLICE_MODEL = SliceModel.AUTO



@dataclass
class SliceImputeOptions:
    """Args:
        model: :class:`SliceModel`.
        factor: thick or sampled slices every ``factor`` thin slices (exclusive with ``missing``).
        missing: 'auto' (blank or corrupted slices found) or a list of 0-based slice indices
            of a volume already on its thin grid.
        acquisition: how ``factor`` slices were made: 'thick' (slab averages) or 'sampled'.
        device: 'auto', 'cpu' or 'cuda' for the recurrent models.
        adapt_seconds: time ceiling of the self-supervised tuning of the recurrent network on the
            scan's own in-plane data (:mod:`.slice_adapt`; with ``factor`` only), which normally
            stops after a fixed number of steps (``slice_adapt.STEPS``); 0 switches it off.
    """

    model: SliceModel = DEFAULT_SLICE_MODEL
    factor: Optional[int] = None
    missing: Union[None, str, List[int]] = None
    acquisition: Acquisition = Acquisition.THICK
    device: str = "auto"
    adapt_seconds: float = 20.0

    def validate(self) -> None:
        try:
            self.model = SliceModel(self.model)
            self.acquisition = Acquisition(self.acquisition)
        except ValueError as error:
            raise InputError(str(error)) from None
        if (self.factor is None) == (self.missing is None):
            raise InputError("give either a factor or the missing slices (auto or a list)")
        if self.factor is not None and (int(self.factor) != self.factor or self.factor < 2):
            raise InputError(f"factor must be an integer ≥ 2, got {self.factor}")
        if not 0 <= float(self.adapt_seconds) <= 600:
            raise InputError(f"adapt seconds must be between 0 and 600, got {self.adapt_seconds}")
        if isinstance(self.missing, str) and self.missing != "auto":
            raise InputError(f"missing must be 'auto' or a list of slice indices, got '{self.missing}'")

    def to_dict(self):
        values = asdict(self)
        values.update(model=SliceModel(self.model).value, acquisition=Acquisition(self.acquisition).value)
        return values

    @classmethod
    def from_dict(cls, values) -> "SliceImputeOptions":
        """Options from a dict (JSON); missing keys keep their defaults; validated."""
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown option(s) {sorted(unknown)} for SliceImputeOptions")
        options = cls(**values)
        options.validate()
        return options


@dataclass
class SliceImputeResult:
    volume: Volume
    filled: np.ndarray  # (L,) bool, thin slices computed (not acquired exactly)
    layout: Layout
    report: dict = field(default_factory=dict)  # the model used; for auto its choice (slice_auto.py)

    def summary(self) -> str:
        """One line saying what ``auto`` chose ('' for the other models)."""
        if "auto" not in self.report:
            return ""
        from .slice_auto import describe

        return describe(self.report["auto"])

    def metadata(self) -> dict:
        """Header key/values for the output file (strings)."""
        import json

        values = {"MedRestore.model": str(self.report.get("model", ""))}
        if "auto" in self.report:
            values["MedRestore.auto"] = json.dumps(self.report["auto"], separators=(",", ":"))
        return values


def parse_missing(text: str) -> Union[str, List[int]]:
    """'auto' or a comma-separated list of indices and ranges ('3,7,10-12')."""
    if text.strip() == "auto":
        return "auto"
    indices = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            if "-" in part[1:]:
                first, last = part.split("-", 1)
                indices += list(range(int(first), int(last) + 1))
            else:
                indices.append(int(part))
    except ValueError:
        raise InputError(f"--missing must be 'auto' or indices like 3,7,10-12; got '{text}'") from None
    if not indices:
        raise InputError("--missing lists no slice")
    return indices


def impute_slices(volume: Volume, options: Optional[SliceImputeOptions] = None,
                  progress: Optional[ProgressCallback] = None,
                  cancel: Optional[CancelCallback] = None, models=None) -> SliceImputeResult:
    """Thin-slice volume from thick, sampled or gapped slices (see the module docstring).

    ``models`` (a :class:`~MedRestoreLib.models.loaded.LoadedModels`) holds networks loaded by an
    earlier call, reused (a batch worker's); None loads them.

    Raises:
        InputError: one slice, all slices missing, bad options, a label map.
    """
    options = options or SliceImputeOptions(factor=2)
    options.validate()
    steps = Steps(progress, cancel)
    array = volume.array
    if volume.kind.value != "intensity":
        raise InputError("slice imputation needs an intensity image, not a label map")
    if options.factor is not None:
        layout = factor_layout(array.shape[0], int(options.factor), options.acquisition)
        acquired, geometry = array, thin_volume_geometry(volume, int(options.factor), options.acquisition)
    else:
        missing = find_missing_slices(array) if options.missing == "auto" else options.missing
        layout = gap_layout(array.shape[0], missing)
        acquired, geometry = array[layout.exact], volume.ijk_to_ras
    if not np.all(np.isfinite(acquired)):
        raise InputError("the volume has NaN or infinite voxels")
    steps.report(0.0, f"imputing slices ({SliceModel(options.model).value})")
    filled = ~layout.observed
    report = {"model": SliceModel(options.model).value}
    if layout.length == array.shape[0] and not filled.any():
        return SliceImputeResult(volume.copy(), filled, layout, report)
    # The models compute in float32: values beyond its range are scaled into it and back.
    scale = float32_safe_scale(acquired)
    work = acquired if scale == 1.0 else acquired / scale
    if np.ptp(work) == 0:
        thin = np.full((layout.length,) + work.shape[1:], work.flat[0], np.float32)
    else:
        low, high = intensity_window(work) if np.any(work != 0) else (0.0, 1.0)
        if not high > low:
            low, high = float(work.min()), float(work.max())
        thin = _with_threads(options, lambda: _run_normalised(work, low, high, layout, options,
                                                              steps.sub(0.02, 0.98), report, models))
    output = cast_to_dtype(thin if scale == 1.0 else thin.astype(np.float64) * scale, array.dtype)
    exact = layout.exact >= 0
    output[layout.exact[exact]] = acquired[exact]  # acquired slices stay bit-identical
    steps.report(1.0, "slices imputed")
    return SliceImputeResult(Volume(output, geometry, volume.kind), filled, layout, report)


def _with_threads(options: SliceImputeOptions, work):
    """``work()``, on the idle CPU cores when torch may run (see :func:`~..devices.idle_cpu_threads`)."""
    if SliceModel(options.model) in (SliceModel.LINEAR, SliceModel.CUBIC, SliceModel.GMM):
        return work()
    from ..devices import idle_cpu_threads

    with idle_cpu_threads():
        return work()


def _run_normalised(acquired, low, high, layout, options, steps, report, models=None) -> np.ndarray:
    """Run a model on intensities normalised as the networks were trained — clip((v − p0.5) /
    (p99.5 − p0.5), 0, ·) — and map back. Below p0.5 that scale is flat (a skull-stripped
    template's background and its darkest brain voxels both read 0), so where the model gives
    less than ``FLAT_LEVEL`` (its output there is 0 plus noise) the cubic interpolation of the
    raw intensities, capped at p0.5, is used. ``report`` receives what ``auto`` chose."""
    from .interpolation import interpolate

    model = SliceModel(options.model)
    raw = acquired.astype(np.float32)
    if model in (SliceModel.LINEAR, SliceModel.CUBIC):
        return interpolate(raw, layout, model == SliceModel.CUBIC)
    scaled = np.maximum((raw - low) / (high - low), 0).astype(np.float32)
    if model == SliceModel.AUTO:
        from .slice_auto import run_auto

        normalised, choice = run_auto(scaled, layout, options, steps)
        report["auto"] = choice.to_dict()
        if choice.name in ("linear", "cubic"):  # --model linear/cubic, made consistent with thick slices
            from .layout import consistent

            return consistent(interpolate(raw, layout, choice.name == "cubic"), raw, layout)
    else:
        recurrent = model in (SliceModel.LSTM, SliceModel.SRN)
        network = models.slice_network(model.value) if recurrent and models is not None else None
        normalised = run_model(scaled, layout, options, steps, network, report=report)
    thin = normalised * (high - low) + low
    below = normalised < FLAT_LEVEL
    if below.any():
        thin[below] = np.minimum(interpolate(raw, layout, cubic=True)[below], low)
    return thin


def run_model(acquired: np.ndarray, layout: Layout, options: SliceImputeOptions, steps: Steps,
              network=None, report: Optional[dict] = None) -> np.ndarray:
    """Thin volume (normalised) by the chosen model; ``network`` overrides the shipped one. The
    recurrent models are tuned on the scan first when ``options.adapt_seconds`` > 0 and the
    slices come with a factor (``report['adapt']`` says how)."""
    from .interpolation import interpolate

    model = SliceModel(options.model)
    if model in (SliceModel.LINEAR, SliceModel.CUBIC):
        return interpolate(acquired, layout, cubic=model == SliceModel.CUBIC)
    if model == SliceModel.GMM:
        from .gmm import impute_gmm

        return impute_gmm(acquired, layout, steps=steps)
    from ..devices import resolve_device
    from .recurrent import impute_recurrent

    device = resolve_device(options.device)
    network = adapted_network(acquired, options, network or load_slice_network(model.value), device, report)
    return impute_recurrent(network, acquired, layout, steps, device)
