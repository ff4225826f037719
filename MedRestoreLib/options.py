"""Options of the restore pipeline: one dataclass per stage, composed by :class:`RestoreOptions`.

Each dataclass has defaults, ``validate()`` raising :class:`InputError` (a ``ValueError``) on bad
values, and a JSON round trip through ``to_dict`` / ``from_dict`` (missing keys keep defaults),
so the CLI, the Slicer parameter node and reports all speak the same names.

Example:
    >>> options = RestoreOptions.from_dict({"fill": {"method": "biharmonic2d"}, "device": "cpu"})
    >>> options.to_dict()["detect"]["method"]
    'median-mad'
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, Optional, Type, TypeVar

from .errors import InputError


class DetectorMethod(str, Enum):
    """How defects are found."""

    LSTM = "lstm"  # DPD_D features + the LSTM localizer (the shipped model), the default
    DPD = "dpd"  # DPD_D distance alone, thresholded (an ablation of the LSTM)
    MEDIAN_MAD = "median-mad"  # |x − median3×3| > k·MAD, the classical baseline


class FillMethod(str, Enum):
    """How masked voxels are filled."""

    BIHARMONIC_3D = "biharmonic3d"
    BIHARMONIC_2D = "biharmonic2d"
    ADJACENT_SLICES = "adjacent-slices"
    NEIGHBOUR_MEDIAN = "neighbour-median"
    TELEA = "telea"
    NAVIER_STOKES = "navier-stokes"
    GAN = "gan"  # the trained generator (models/inpaint-gan, current version) correcting a smooth fill
    UNET = "unet"  # the same generator trained on reconstruction losses alone (models/inpaint-unet)
    AUTO = "auto"  # per region, the candidate that fills copies of it in intact tissue best (self-validated)


class Device(str, Enum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


def _choice(enum_type, value, what):
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum_type)
        raise InputError(f"unknown {what} '{value}' (choose one of: {choices})") from None


T = TypeVar("T")


class _JsonOptions:
    """JSON round trip shared by the options dataclasses."""

    def to_dict(self) -> Dict[str, Any]:
        result = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, _JsonOptions):
                value = value.to_dict()
            elif isinstance(value, Enum):
                value = value.value
            result[item.name] = value
        return result

    @classmethod
    def from_dict(cls: Type[T], values: Dict[str, Any]) -> T:
        known = {item.name: item for item in dataclasses.fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise InputError(f"unknown option(s) {sorted(unknown)} for {cls.__name__}")
        defaults = cls()
        arguments = {}
        for name, value in values.items():
            current = getattr(defaults, name)
            if isinstance(current, _JsonOptions):
                value = type(current).from_dict(value)
            arguments[name] = value
        options = cls(**arguments)
        options.validate()
        return options


@dataclass
class DetectOptions(_JsonOptions):
    """Defect detection.

    Args:
        method: detector (see :class:`DetectorMethod`).
        threshold: the detector's decision threshold; None takes the method's own: the LSTM's
            probability threshold (calibrated on the volume, see ``calibrate``) and DPD_D's
            distance threshold from the model's card, k = 5 for median/MAD
            (|x − median3×3| > k · 1.4826 · MAD).
        calibrate: LSTM only: raise the model's validated threshold where the volume's own
            score tail asks for it (:mod:`MedRestoreLib.detection.calibration`); False keeps the
            validated threshold (the ablation). Ignored when ``threshold`` is given.
    """

    method: DetectorMethod = DetectorMethod.LSTM
    threshold: Optional[float] = None
    calibrate: bool = True

    def validate(self) -> None:
        self.method = _choice(DetectorMethod, self.method, "detector")
        if self.threshold is not None and not self.threshold > 0:
            raise InputError(f"detection threshold must be positive, got {self.threshold}")


@dataclass
class FillOptions(_JsonOptions):
    """Filling of masked voxels; only voxels inside the mask are ever changed.

    Args:
        method: filler (see :class:`FillMethod`).
        telea_radius: neighbourhood radius in pixels of the OpenCV fillers.
        adapt_seconds: GAN only: seconds of test-time adaptation of the generator on the
            volume's intact voxels before filling; 0 (the default) = off.

    """

    # Self-validated: no single filler is best on every scan and defect (docs/filling.md), so
    # each region takes the candidate that fills copies of its shape in the same image best.
    method: FillMethod = FillMethod.AUTO
    telea_radius: int = 3
    adapt_seconds: float = 0.0

    def validate(self) -> None:
        self.method = _choice(FillMethod, self.method, "fill method")
        if self.telea_radius < 1:
            raise InputError(f"telea_radius must be ≥ 1, got {self.telea_radius}")
        if isinstance(self.adapt_seconds, bool) or not isinstance(self.adapt_seconds, (int, float)) \
                or not 0 <= self.adapt_seconds < float("inf"):
            raise InputError(f"adapt_seconds must be a number ≥ 0, got {self.adapt_seconds!r}")
        if self.adapt_seconds and self.method is not FillMethod.GAN:
            raise InputError("adapt_seconds (test-time adaptation) applies to the gan fill method only")


@dataclass
class RestoreOptions(_JsonOptions):
    """Everything ``restore`` needs: detection, filling, device and seed."""

    detect: DetectOptions = field(default_factory=DetectOptions)
    fill: FillOptions = field(default_factory=FillOptions)
    device: Device = Device.AUTO
    seed: int = 0

    def validate(self) -> None:
        self.detect.validate()
        self.fill.validate()
        self.device = _choice(Device, self.device, "device")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
