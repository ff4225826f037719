"""The one image type of the engine, and its file I/O through SimpleITK (checked in ``image_files``).

A :class:`Volume` is a numpy array in (k, j, i) order — slice, row, column, the order of
``slicer.util.arrayFromVolume`` and ``SimpleITK.GetArrayFromImage`` — plus the 4×4 IJK→RAS
matrix that Slicer volume nodes carry. Files store LPS geometry (DICOM, NRRD, NIfTI through
ITK); the conversion LPS↔RAS happens here and nowhere else (``_LPS_TO_RAS``).

Example:
    >>> vol = read_volume("brain.nii.gz")
    >>> vol.array.shape, vol.spacing          # (k, j, i), (si, sj, sk) in mm
    >>> write_volume(vol.with_array(vol.array * 2), "twice.nrrd")
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import InputError
from .image_files import extension, quiet_sitk, read_image, write_image

# Slicer's IJK→RAS = diag(-1,-1,1) · direction_LPS · diag(spacing); origin_RAS = diag(-1,-1,1) · origin_LPS.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


class VolumeKind(str, Enum):
    """What the voxels mean: intensities, or labels (masks are label volumes of 0/1)."""

    INTENSITY = "intensity"
    LABEL = "label"


@dataclass
class Volume:
    """A 3-D image: ``array`` in (k, j, i) order and its IJK→RAS geometry.

    Args:
        array: voxel values, shape (k, j, i) = (slices, rows, columns); any numeric dtype.
        ijk_to_ras: 4×4 matrix mapping (i, j, k, 1) to RAS millimetres; identity by default.
        kind: intensity image or label map.

    Raises:
        InputError: the array is not 3-D or the matrix is not 4×4 and invertible.
    """

    array: np.ndarray
    ijk_to_ras: np.ndarray = field(default_factory=lambda: np.eye(4))
    kind: VolumeKind = VolumeKind.INTENSITY

    def __post_init__(self):
        self.array = np.asarray(self.array)
        if self.array.ndim != 3:
            raise InputError(f"a volume must be 3-D (k, j, i); got shape {self.array.shape}")
        self.ijk_to_ras = np.array(self.ijk_to_ras, dtype=np.float64)
        if self.ijk_to_ras.shape != (4, 4) or abs(np.linalg.det(self.ijk_to_ras[:3, :3])) < 1e-12:
            raise InputError("IJK→RAS must be an invertible 4×4 matrix")
        self.kind = VolumeKind(self.kind)

    @classmethod
    def from_geometry(cls, array, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0),
                      direction=None, kind=VolumeKind.INTENSITY) -> "Volume":
        """Build from spacing (si, sj, sk), RAS origin and a 3×3 RAS direction (columns = axes)."""
        direction = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64)
        matrix = np.eye(4)
        matrix[:3, :3] = direction @ np.diag(np.asarray(spacing, dtype=np.float64))
        matrix[:3, 3] = origin
        return cls(array, matrix, kind)

    @property
    def shape(self) -> Tuple[int, int, int]:
        return tuple(self.array.shape)

    @property
    def spacing(self) -> np.ndarray:
        """Voxel size along i, j, k in millimetres."""
        return np.linalg.norm(self.ijk_to_ras[:3, :3], axis=0)

    @property
    def origin(self) -> np.ndarray:
        """RAS position of voxel (0, 0, 0) in millimetres."""
        return self.ijk_to_ras[:3, 3].copy()

    @property
    def direction(self) -> np.ndarray:
        """3×3 RAS direction cosines; column n is the direction of axis i, j, k."""
        return self.ijk_to_ras[:3, :3] / self.spacing

    def with_array(self, array, kind=None) -> "Volume":
        """A new volume with the same geometry and another array of the same shape."""
        array = np.asarray(array)
        if array.shape != self.array.shape:
            raise ValueError(f"shape {array.shape} differs from the volume's {self.array.shape}")
        return Volume(array, self.ijk_to_ras.copy(), self.kind if kind is None else kind)

    def copy(self) -> "Volume":
        return Volume(self.array.copy(), self.ijk_to_ras.copy(), self.kind)

    def has_same_geometry(self, other: "Volume", tolerance: float = 1e-4) -> bool:
        """True when both volumes have the same shape and IJK→RAS (within ``tolerance`` mm)."""
        return self.shape == other.shape and np.allclose(
            self.ijk_to_ras, other.ijk_to_ras, rtol=0, atol=tolerance)


def cast_to_dtype(values: np.ndarray, dtype) -> np.ndarray:
    """Round (integers) and clip to the range of ``dtype``, then convert: how computed values
    go back into a volume's voxel type without wrapping around."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    info = np.finfo(dtype)
    return np.clip(values, info.min, info.max).astype(dtype)


# float32 holds about 1.2e-38 … 3.4e38, and models and detectors compute in float32, squares and
# sums of squares included (variances): a float volume whose magnitude lies outside 1e-9 … 1e9 is
# divided into it first (both are indifferent to a global scale) and multiplied back in float64.
_FLOAT32_BAND = (1e-9, 1e9)


def float32_safe_scale(values: np.ndarray) -> float:
    """The factor to divide a float array by so that float32 arithmetic cannot overflow or flush
    it to zero (1.0 for integer arrays and for floats already within 1e-9 … 1e9)."""
    if not np.issubdtype(values.dtype, np.floating) or values.size == 0:
        return 1.0
    magnitude = float(np.max(np.abs(values)))
    if magnitude == 0.0 or not np.isfinite(magnitude) or _FLOAT32_BAND[0] <= magnitude <= _FLOAT32_BAND[1]:
        return 1.0
    return magnitude


# --- SimpleITK conversion: the only place where LPS meets RAS -----------------------------------

def volume_from_sitk(image, kind=VolumeKind.INTENSITY) -> Volume:
    """Convert a 2-D or 3-D scalar SimpleITK image; a 2-D image becomes a one-slice volume."""
    import SimpleITK as sitk

    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"the image has {image.GetNumberOfComponentsPerPixel()} components per voxel "
            "(RGB or vector); MedRestore needs a scalar (grey-level) image")
    dimension = image.GetDimension()
    if dimension not in (2, 3):
        raise InputError(f"expected a 2-D or 3-D image, got {dimension}-D")
    array = sitk.GetArrayFromImage(image)
    spacing = np.ones(3)
    origin = np.zeros(3)
    direction = np.eye(3)
    spacing[:dimension] = image.GetSpacing()
    origin[:dimension] = image.GetOrigin()
    direction[:dimension, :dimension] = np.reshape(image.GetDirection(), (dimension, dimension))
    if dimension == 2:
        array = array[np.newaxis]
    return Volume.from_geometry(array, spacing, _LPS_TO_RAS @ origin,
                                _LPS_TO_RAS @ direction, kind)


def sitk_from_volume(volume: Volume):
    """Convert to a 3-D SimpleITK image with LPS geometry."""
    import SimpleITK as sitk

    array = volume.array.astype(np.uint8) if volume.array.dtype == bool else volume.array
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing([float(s) for s in volume.spacing])
    image.SetOrigin([float(v) for v in _LPS_TO_RAS @ volume.origin])
    with quiet_sitk():  # ITK inverts the direction by SVD, and VNL prints when it finds it ill-conditioned
        image.SetDirection([float(v) for v in (_LPS_TO_RAS @ volume.direction).ravel()])
    return image


# --- files ---------------------------------------------------------------------------------------

def _check_not_empty(image, path):
    if 0 in image.GetSize():
        raise InputError(f"{path}: the image has no voxels (size {image.GetSize()})")


def read_volume(path, kind=VolumeKind.INTENSITY) -> Volume:
    """Read a 2-D or 3-D scalar image (NRRD, NIfTI, MHA, a DICOM folder, ...).

    The file is checked whole first (``file_integrity.py``; DICOM folders in ``dicom_folder.py``).

    Raises:
        InputError: the file is missing, unreadable, damaged (cut short, wrong sizes), empty,
            4-D, or not scalar.
    """
    image = read_image(path)
    _check_not_empty(image, path)
    return _single_volume(image, path, kind)


def _single_volume(image, path, kind=VolumeKind.INTENSITY) -> Volume:
    if image.GetDimension() == 4:
        raise InputError(f"{path}: this is a 4-D series ({image.GetSize()[3]} frames), not a 3-D volume: "
                         "use impute-sequence (or restore, frame by frame), or extract one frame first")
    try:
        return volume_from_sitk(image, kind)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None


def read_series(path) -> List[Volume]:
    """Read a 4-D image (time last in the file) as a list of 3-D volumes; a 3-D image is one frame.

    Slicer's ``.seq.nrrd`` (frames stored as voxel components) is read the same way.
    """
    import SimpleITK as sitk

    image = read_image(path)
    _check_not_empty(image, path)
    if image.GetDimension() == 4:
        size = list(image.GetSize())
        frames = []
        with quiet_sitk():
            for t in range(size[3]):
                frames.append(volume_from_sitk(sitk.Extract(image, size[:3] + [0], [0, 0, 0, t])))
        return frames
    if image.GetNumberOfComponentsPerPixel() > 1 and extension(Path(path)) == ".seq.nrrd":
        # Slicer's sequence files store frames as components; elsewhere components are colours.
        with quiet_sitk():
            return [volume_from_sitk(sitk.VectorIndexSelectionCast(image, c))
                    for c in range(image.GetNumberOfComponentsPerPixel())]
    return [_single_volume(image, path)]


def write_volume(volume: Volume, path, metadata: Optional[Dict[str, str]] = None) -> None:
    """Write a volume; the format follows the extension. Nothing is left behind on failure.
    ``metadata`` key/values go into the header where the format keeps them (NRRD ``key:=value``
    lines, MetaImage fields); other formats drop them."""
    image = sitk_from_volume(volume)
    for key, value in (metadata or {}).items():
        image.SetMetaData(key, value)
    write_image(image, path)


def write_series(volumes: Sequence[Volume], path) -> None:
    """Write volumes of one geometry as a 4-D image (time is the 4th axis, spacing 1)."""
    import SimpleITK as sitk

    if not volumes:
        raise InputError("a series needs at least one volume")
    first = volumes[0]
    if not all(first.has_same_geometry(v) for v in volumes[1:]):
        raise InputError("every frame of a series must have the same shape and geometry")
    with quiet_sitk():
        series = sitk.JoinSeries([sitk_from_volume(v) for v in volumes])
    write_image(series, path)
