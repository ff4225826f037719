"""A folder of DICOM files read as one 3-D series, and refused when it is not whole.

GDCM silently leaves out a file it cannot read (a truncated slice, a damaged header) and ITK then
stacks the remaining slices as if they were evenly spaced, with only a warning on the console: a
damaged series would be read as a shorter, distorted volume. Here a folder is read only when it
holds one series, every DICOM file in it belongs to that series, and the slice positions along
the slice normal are evenly spaced.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from .errors import InputError

# Gaps may differ this much (relative to the median gap) before a slice counts as missing;
# scanners round positions to a few decimals, far below it.
_GAP_TOLERANCE = 0.2
_NOT_SLICES = {"dicomdir"}


def read_dicom_folder(folder: Path):
    """The one DICOM series in ``folder`` as a SimpleITK image (slices in position order).

    Raises:
        InputError: no series, several series, a DICOM file left out of the series (damaged),
            slices at repeated or uneven positions (a slice missing, or a time series).
    """
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    series = reader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise InputError(f"{folder}: the folder holds no DICOM series")
    names = [reader.GetGDCMSeriesFileNames(str(folder), uid) for uid in series]
    if len(series) > 1:
        counts = " and ".join(str(len(files)) for files in names)
        raise InputError(f"{folder}: the folder holds {len(series)} DICOM series ({counts} files); "
                         "put each series in a folder of its own")
    _check_nothing_left_out(folder, names[0])
    reader.SetFileNames(names[0])
    reader.MetaDataDictionaryArrayUpdateOn()
    image = reader.Execute()
    _check_positions(folder, [_position(reader, n) for n in range(len(names[0]))],
                     reader.GetMetaData(0, "0020|0037") if reader.HasMetaDataKey(0, "0020|0037") else "")
    return image


def _looks_like_dicom(path: Path) -> bool:
    if path.suffix.lower() in (".dcm", ".dicom", ".ima"):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(132)[128:] == b"DICM"
    except OSError:
        return False


def _check_nothing_left_out(folder: Path, members: List[str]) -> None:
    read = {Path(name).resolve() for name in members}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.lower() not in _NOT_SLICES and path.resolve() not in read \
                and _looks_like_dicom(path):
            raise InputError(f"{path}: a DICOM file of the series is damaged or unreadable (the series "
                             "would miss a slice); restore the file or remove it")


def _position(reader, number: int):
    if not reader.HasMetaDataKey(number, "0020|0032"):
        return None
    try:
        return [float(v) for v in reader.GetMetaData(number, "0020|0032").split("\\")]
    except ValueError:
        return None


def _check_positions(folder: Path, positions: List, orientation: str) -> None:
    """Slices must be evenly spaced along the slice normal (missing tags: nothing to check)."""
    if len(positions) < 3 or any(p is None or len(p) != 3 for p in positions):
        return
    try:
        cosines = [float(v) for v in orientation.split("\\")]
    except ValueError:
        return
    if len(cosines) != 6:
        return
    normal = np.cross(cosines[:3], cosines[3:])
    along = np.sort(np.asarray(positions, float) @ normal)
    gaps = np.diff(along)
    typical = float(np.median(gaps))
    if typical <= 1e-6 or np.any(gaps <= 1e-6):
        raise InputError(f"{folder}: several slices of the series lie at the same position (a time "
                         "series, or several series in one); MedRestore reads one 3-D series per folder")
    worst = int(np.argmax(np.abs(gaps - typical)))
    if abs(gaps[worst] - typical) > _GAP_TOLERANCE * typical:
        raise InputError(f"{folder}: the slices are unevenly spaced: {gaps[worst]:.3g} mm between "
                         f"positions {along[worst]:.4g} and {along[worst + 1]:.4g} mm, {typical:.3g} mm "
                         "elsewhere (a slice is missing or damaged)")
