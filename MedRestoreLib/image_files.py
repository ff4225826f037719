"""SimpleITK images to and from files, checked: what is read is whole, what is written reads back.

Reading: a file is checked against its header (``file_integrity``) and a DICOM folder for one
whole, evenly spaced series (``dicom_folder``) before SimpleITK reads it. Writing: through a
temporary file (``output_files.write_atomically``) that must pass the same check and read back
with the geometry that was written (NIfTI cannot store sheared axes and ITK would silently
change them) before it is renamed. SimpleITK calls run quietly (``quiet_sitk``): an error is one
line, never native console noise.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import numpy as np

from .dicom_folder import read_dicom_folder
from .errors import InputError, library_reason
from .file_integrity import check_image_file
from .image_headers import image_format
from .native_stderr import captured_native_stderr
from .output_files import describe_os_error, write_atomically


@contextlib.contextmanager
def quiet_sitk() -> Iterator[None]:
    """SimpleITK calls without side effects: ITK warnings off, what the native readers and writers
    print themselves captured (so an error stays one line), and the C locale restored after
    (GDCM may switch it to "C", after which Python opens text files as ASCII)."""
    import locale

    import SimpleITK as sitk

    warnings = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    saved_locale = locale.setlocale(locale.LC_ALL)
    try:
        with captured_native_stderr():
            yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(warnings)
        if locale.setlocale(locale.LC_ALL) != saved_locale:
            locale.setlocale(locale.LC_ALL, saved_locale)


def read_image(path):
    """A SimpleITK image from a file or DICOM folder, checked whole first.

    Raises:
        InputError: missing, damaged (``file_integrity``, ``dicom_folder``) or unreadable.
    """
    import SimpleITK as sitk

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    check_image_file(path)  # a file cut short or with wrong sizes is refused before the reader sees it
    try:
        with quiet_sitk():
            if path.is_dir():
                return read_dicom_folder(path)
            return sitk.ReadImage(str(path))
    except RuntimeError as error:
        if path.is_file() and image_format(path) == "dicom":
            raise InputError(f"{path}: the DICOM file is damaged or unreadable ({library_reason(error)})") from None
        raise InputError(f"{path}: cannot be read as an image ({library_reason(error)})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({describe_os_error(error)})") from None


def extension(path: Path) -> str:
    """The format extension of ``path``, double ones (``.nii.gz``, ``.seq.nrrd``) included."""
    name = path.name.lower()
    for double in (".nii.gz", ".seg.nrrd", ".seq.nrrd"):
        if name.endswith(double):
            return double
    return path.suffix


# Formats written: those whose files file_integrity can count whole after writing.
WRITABLE = (".nrrd", ".nhdr", ".seg.nrrd", ".seq.nrrd", ".nii", ".nii.gz", ".hdr", ".mha", ".mhd")


def check_writable_image(path) -> None:
    """Refuse an image output of a format that cannot be checked whole after writing.

    Raises:
        InputError: one line naming ``path`` and the formats written.
    """
    if not Path(path).name.lower().endswith(WRITABLE):
        raise InputError(f"{path}: give an image file name ending in .nrrd, .nii.gz, .nii, .mha, .mhd, .nhdr "
                         "or .hdr (formats MedRestore can check whole after writing)")


def write_image(image, path) -> None:
    """Write through a temporary file in the target folder, checked whole (``file_integrity``)
    and for its geometry before the rename, so a failure (full disk, read-only folder, a geometry
    the format cannot hold, ...) leaves no file behind.

    Raises:
        InputError: one line naming ``path`` and the reason.
    """
    import SimpleITK as sitk

    path = Path(path)
    check_writable_image(path)

    def write(temporary: str) -> None:
        with quiet_sitk():
            sitk.WriteImage(image, temporary, True)

    def verify(temporary: str) -> None:
        check_image_file(temporary)
        _check_geometry_reads_back(image, temporary)

    write_atomically(path, write, verify=verify)


def _check_geometry_reads_back(image, written: str) -> None:
    """The written header must give back the image's spacing, origin and direction (to float32
    precision, what NIfTI stores)."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(written)
    with quiet_sitk():
        reader.ReadImageInformation()
    size = max(1.0, *[abs(v) for v in image.GetOrigin()], *[s * n for s, n in zip(image.GetSpacing(), image.GetSize())])
    dimension = min(reader.GetDimension(), image.GetDimension())
    same = (np.allclose(reader.GetSpacing()[:dimension], image.GetSpacing()[:dimension], rtol=1e-5, atol=0)
            and np.allclose(reader.GetOrigin()[:dimension], image.GetOrigin()[:dimension], rtol=0, atol=1e-5 * size)
            and np.allclose(np.reshape(reader.GetDirection(), (reader.GetDimension(),) * 2)[:dimension, :dimension],
                            np.reshape(image.GetDirection(), (image.GetDimension(),) * 2)[:dimension, :dimension],
                            rtol=0, atol=1e-4))
    if not same:
        raise InputError(f"{written}: this format cannot store the image's geometry (its axes are not "
                         "perpendicular, or its values are out of the format's range); write .nrrd or .mha")
