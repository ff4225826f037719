"""Valid image files of every readable format, and ways to damage them, for the fuzz suite."""
from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import SimpleITK as sitk

from MedRestoreLib.volume import Volume, sitk_from_volume
from Testing.dicom_files import write_dicom_series

SHAPE = (6, 12, 10)


def sample_volume(seed: int = 0, dtype=np.int16) -> Volume:
    rng = np.random.default_rng(seed)
    array = (800 + 100 * rng.standard_normal(SHAPE)).astype(dtype)
    return Volume.from_geometry(array, spacing=(0.8, 0.9, 2.0), origin=(10.0, -20.0, 5.5))


def _sitk(folder: Path, name: str, compress: bool) -> Path:
    sitk.WriteImage(sitk_from_volume(sample_volume()), str(folder / name), compress)
    return folder / name


# Each maker writes one valid image into a folder and returns the path to give the command line
# (a file, or the folder of a DICOM series).
MAKERS: Dict[str, Callable[[Path], Path]] = {
    "nrrd (gzip)": lambda folder: _sitk(folder, "image.nrrd", True),
    "nrrd (raw)": lambda folder: _sitk(folder, "image.nrrd", False),
    "nhdr + raw": lambda folder: _sitk(folder, "image.nhdr", False),
    "nhdr + raw.gz": lambda folder: _sitk(folder, "image.nhdr", True),
    "nii": lambda folder: _sitk(folder, "image.nii", False),
    "nii.gz": lambda folder: _sitk(folder, "image.nii.gz", True),
    "hdr + img": lambda folder: _sitk(folder, "image.hdr", False),
    "mha (zlib)": lambda folder: _sitk(folder, "image.mha", True),
    "mha (raw)": lambda folder: _sitk(folder, "image.mha", False),
    "mhd + raw": lambda folder: _sitk(folder, "image.mhd", False),
    "mhd + zraw": lambda folder: _sitk(folder, "image.mhd", True),
}


def _dicom_folder(folder: Path) -> Path:
    series = folder / "series"
    series.mkdir()
    write_dicom_series(sample_volume(), series)
    return series


def _png(folder: Path) -> Path:
    sitk.WriteImage(sitk.GetImageFromArray(sample_volume(dtype=np.uint8).array[0]), str(folder / "image.png"))
    return folder / "image.png"


MAKERS["dicom folder"] = _dicom_folder
MAKERS["dicom file"] = lambda folder: sorted(_dicom_folder(folder).iterdir())[2]
MAKERS["png (2-D)"] = _png


def data_file(path: Path) -> Path:
    """The file holding the voxel bytes (a detached data file, the middle slice of a series)."""
    if path.is_dir():
        return sorted(path.iterdir())[len(list(path.iterdir())) // 2]
    others = [p for p in path.parent.iterdir() if p != path and p.stem.split(".")[0] == path.stem.split(".")[0]]
    return others[0] if path.suffix in (".nhdr", ".mhd", ".hdr") and others else path


def cut(fraction: float) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        target = data_file(path)
        data = target.read_bytes()
        target.write_bytes(data[:max(0, min(len(data) - 1, int(len(data) * fraction)))])
    return damage


def emptied(path: Path) -> None:
    data_file(path).write_bytes(b"")


def flipped_middle(path: Path) -> None:
    """Bytes inverted in the middle of the data (for compressed data: a broken stream/CRC)."""
    target = data_file(path)
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(255 - b for b in data[middle:middle + 16])
    target.write_bytes(bytes(data))


def _edit_text_header(path: Path, pattern: bytes, replacement: bytes) -> None:
    data = path.read_bytes()
    end = data.find(b"\n\n") if path.suffix in (".nrrd", ".nhdr") else data.find(b"ElementDataFile")
    end = len(data) if end < 0 else end
    assert re.search(pattern, data[:end]), "the header field to edit was not found"
    path.write_bytes(re.sub(pattern, replacement, data[:end], count=1) + data[end:])


def _edit_nifti_dims(path: Path, dims: Tuple[int, ...]) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = bytearray(handle.read())
    data[40:56] = struct.pack("<8h", len(dims), *dims, *([1] * (7 - len(dims))))
    with opener(path, "wb") as handle:
        handle.write(bytes(data))


def claims(sizes: Tuple[int, ...]) -> Callable[[Path], None]:
    """The header's sizes replaced by ``sizes`` (e.g. 10^15 voxels, or fewer than stored)."""
    def damage(path: Path) -> None:
        text = " ".join(str(s) for s in sizes).encode()
        if path.suffix in (".nrrd", ".nhdr"):
            _edit_text_header(path, rb"sizes: [0-9 ]+", b"sizes: " + text)
            _edit_text_header(path, rb"dimension: \d", b"dimension: %d" % len(sizes))
        elif path.suffix in (".mha", ".mhd"):
            _edit_text_header(path, rb"DimSize = [0-9 ]+", b"DimSize = " + text)
            _edit_text_header(path, rb"NDims = \d", b"NDims = %d" % len(sizes))
        else:
            _edit_nifti_dims(path, sizes)
    return damage


def missing_data_file(path: Path) -> None:
    data_file(path).unlink()


HUGE = (100000, 100000, 100000)  # 10^15 voxels
LARGE = (1000, 1000, 1000)  # 2 GB of voxels: fits in memory, and the file cannot hold it
HUGE_NIFTI = (32767, 32767, 32767, 32767)  # NIfTI-1 sizes are 16-bit: 1.2e18 voxels
SMALLER = (SHAPE[2], SHAPE[1], SHAPE[0] - 2)  # fewer voxels than the file holds

TEXT_HEADERS = ("nrrd (gzip)", "nrrd (raw)", "nhdr + raw", "nhdr + raw.gz", "mha (zlib)", "mha (raw)",
                "mhd + raw", "mhd + zraw")
NIFTI = ("nii", "nii.gz", "hdr + img")
COMPRESSED = ("nrrd (gzip)", "nhdr + raw.gz", "nii.gz", "mha (zlib)", "mhd + zraw")
DETACHED = ("nhdr + raw", "nhdr + raw.gz", "hdr + img", "mhd + raw", "mhd + zraw")


def damage_matrix() -> List[Tuple[str, str, Callable[[Path], None]]]:
    """(format, damage name, damage) for every damage that must be refused."""
    cases = []
    for fmt in MAKERS:
        cases += [(fmt, "zero bytes", emptied), (fmt, "cut to 50 %", cut(0.5)), (fmt, "cut to 95 %", cut(0.95)),
                  (fmt, "one byte short", cut(1.0))]
    for fmt in TEXT_HEADERS:
        cases += [(fmt, "header claims 10^15 voxels", claims(HUGE)), (fmt, "header claims 10^9 voxels", claims(LARGE)),
                  (fmt, "header claims fewer voxels", claims(SMALLER))]
    for fmt in NIFTI:
        cases += [(fmt, "header claims 10^18 voxels", claims(HUGE_NIFTI)),
                  (fmt, "header claims 10^9 voxels", claims(LARGE)),
                  (fmt, "header claims fewer voxels", claims(SMALLER))]
    cases += [(fmt, "flipped compressed bytes", flipped_middle) for fmt in COMPRESSED]
    cases += [(fmt, "data file missing", missing_data_file) for fmt in DETACHED]
    return cases


def mutate(path: Path, edits) -> None:
    """Apply random edits to the files of an image: (kind, which file, position 0–1, length,
    byte). Kinds: cut, flip, insert, delete, overwrite."""
    files = sorted(p for p in (path.iterdir() if path.is_dir() else path.parent.iterdir()) if p.is_file())
    for kind, which, where, length, value in edits:
        target = files[which % len(files)]
        data = bytearray(target.read_bytes())
        at = int(where * len(data))
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at:at + length] = bytes(b ^ 0xFF for b in data[at:at + length])
        elif kind == "insert":
            data[at:at] = bytes([value]) * length
        elif kind == "delete":
            del data[at:at + length]
        else:
            data[at:at + length] = bytes([value]) * len(data[at:at + length])
        target.write_bytes(bytes(data))
