"""Writing a DICOM series for the tests (the engine reads DICOM, it never writes it)."""
from __future__ import annotations

import locale
from pathlib import Path
from typing import List

import SimpleITK as sitk

from MedRestoreLib.volume import Volume, sitk_from_volume


def write_dicom_series(volume: Volume, folder: Path, prefix: str = "slice",
                       series_uid: str = "1.2.826.0.1.3680043.2.1125.2") -> List[Path]:
    """One DICOM file per slice of ``volume`` in ``folder``, with the tags ITK reads the geometry
    from; returns the files in slice order.

    GDCM's writer may switch the process's C locale to "C" (after which Python opens text files
    as ASCII, and unrelated later tests fail): the locale is restored after.
    """
    saved = locale.setlocale(locale.LC_ALL)
    try:
        return _write(volume, Path(folder), prefix, series_uid)
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def _write(volume: Volume, folder: Path, prefix: str, series_uid: str) -> List[Path]:
    image = sitk_from_volume(volume)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    direction = image.GetDirection()
    files = []
    for k in range(image.GetDepth()):
        slice_image = image[:, :, k]
        position = image.TransformIndexToPhysicalPoint((0, 0, k))
        for tag, value in [
            ("0020|000d", "1.2.826.0.1.3680043.2.1125.1"), ("0020|000e", series_uid),
            # Image Orientation (Patient): the LPS directions of the i and j axes (columns of direction).
            ("0020|0037", "\\".join(f"{v:.10f}" for v in (direction[0], direction[3], direction[6],
                                                          direction[1], direction[4], direction[7]))),
            ("0020|0032", "\\".join(f"{v:.10f}" for v in position)), ("0020|0013", str(k)),
            ("0018|0050", f"{image.GetSpacing()[2]:.10f}"), ("0008|0060", "MR"),
            ("0008|0018", f"{series_uid}.{k}"),
        ]:
            slice_image.SetMetaData(tag, value)
        files.append(folder / f"{prefix}{k:03d}.dcm")
        writer.SetFileName(str(files[-1]))
        writer.Execute(slice_image)
    return files
