"""Is an image file whole? The voxel bytes its header promises against the bytes it holds.

Readers are lenient where users need them strict: SimpleITK reads a ``.nii.gz`` whose gzip stream
is cut short (or a ``.nii``/``.img`` missing its end) as zeros without an error, and writes a NIfTI
file on a full disk without one. :func:`check_image_file` parses the header of the formats the
engine reads and writes — NIfTI-1/-2 and Analyze (``.nii``, ``.nii.gz``, ``.hdr``/``.img``),
NRRD (``.nrrd``, ``.nhdr`` + data file; raw, gzip, bzip2) and MetaImage (``.mha``, ``.mhd`` + data
file; raw, zlib) — and counts the voxel bytes (decompressing in chunks, never holding the data):
they must equal size × type. It runs before every read and after every write, before the rename
(``image_files.py``). DICOM and PNG readers refuse damaged data themselves (DICOM folders
are checked further in ``dicom_folder.py``); any other format is refused, because SimpleITK reads
several of them (TIFF, JPEG, VTK, GIPL, MRC) cut short as zeros, and MINC's HDF5 some damaged
files as empty images. The headers are parsed in
``image_headers.py``.
"""
from __future__ import annotations

import bz2
import os
import zlib
from pathlib import Path
from typing import Optional

from .errors import InputError
from .image_headers import DataLayout, damaged, data_layout, image_format

_CHUNK = 1 << 20
# Formats whose readers refuse damaged data themselves (GDCM, libpng's CRCs), as the fuzz suite
# checks with cut, emptied and edited files; NIfTI, NRRD and MetaImage are counted here. MINC is
# not among them: HDF5 reads some damaged files as empty or short images, and prints on exit.
SELF_CHECKING = ("dicom", "png")
READABLE = "NRRD, NIfTI, Analyze, MetaImage, DICOM or PNG"


def check_image_file(path, memory_bytes: Optional[int] = None) -> None:
    """Raise :class:`InputError` naming ``path`` when its voxel data is not what its header says.

    Args:
        path: an image file (a folder or a format not listed above passes unchecked).
        memory_bytes: refuse headers promising more bytes than this (default: this computer's memory).

    Raises:
        InputError: zero-byte file, unreadable header, a header claiming more voxel bytes than the
            memory holds, a missing data file, damaged compressed data, or fewer or more voxel
            bytes than the header promises.
    """
    path = Path(path)
    if not path.is_file():
        return
    try:
        _check(path, memory_bytes)
    except OSError as error:  # e.g. no permission to read it, or an I/O error of the disk
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None


def _check(path: Path, memory_bytes: Optional[int]) -> None:
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    kind = image_format(path)
    if kind is None:
        raise InputError(f"{path}: cannot be read: not a {READABLE} image, the formats MedRestore can "
                         "check whole (convert it, e.g. in 3D Slicer)")
    layout = data_layout(path, kind)
    if layout is None:
        return
    memory = physical_memory() if memory_bytes is None else memory_bytes
    if memory and layout.expected > memory:
        raise InputError(f"{path}: the header claims {layout.voxels:.3g} voxels ({_size(layout.expected)}), "
                         f"more than this computer's memory ({_size(memory)}): the header is damaged "
                         "or the image is too large")
    if not layout.data_file.is_file():
        raise InputError(f"{path}: its data file {layout.data_file} is missing")
    found = _voxel_bytes(layout, path)
    if found != layout.expected:
        what = "cut short" if found < layout.expected else "longer than its header says"
        raise damaged(path, f"{what}: the header promises {layout.expected} bytes of voxel data, "
                            f"the file holds {found}")


def physical_memory() -> int:
    """Bytes of RAM on this computer (0 where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000:
            return f"{count:.3g} {unit}"
        count /= 1000
    return f"{count:.3g} PB"


# --- counting -----------------------------------------------------------------------------------

def _voxel_bytes(layout: DataLayout, path: Path) -> int:
    """The voxel bytes present (compressed streams: counted up to one byte more than promised,
    so a stream that would decompress to far more stops early)."""
    if not layout.compression:
        available = layout.data_file.stat().st_size - layout.start
        if layout.at_end:
            return min(available, layout.expected)
        return max(available - layout.skip, 0)
    limit = layout.skip + layout.expected + 1
    with open(layout.data_file, "rb") as handle:
        handle.seek(layout.start)
        total = _count_decompressed(handle, layout.compression, limit, path)
    return max(total - layout.skip, 0)


def _decompressor(compression: str):
    return zlib.decompressobj(47) if compression == "zlib" else bz2.BZ2Decompressor()  # 47: gzip or zlib


def _count_decompressed(handle, compression: str, limit: int, path: Path) -> int:
    """Bytes a gzip/zlib (concatenated members too) or bzip2 stream decompresses to, up to ``limit``.

    Raises:
        InputError: corrupt data (a bad CRC, invalid codes) or a stream that ends early.
    """
    decompressor, data, total = _decompressor(compression), b"", 0
    try:
        while total < limit:
            if not data and (compression != "bzip2" or decompressor.needs_input):
                data = handle.read(_CHUNK)
                if not data:
                    break
            if compression == "zlib":
                total += len(decompressor.decompress(data, _CHUNK))
                data = decompressor.unconsumed_tail
            else:
                total += len(decompressor.decompress(data, _CHUNK))
                data = b""
            if decompressor.eof:
                rest = decompressor.unused_data or handle.read(_CHUNK)
                if not rest.startswith((b"\x1f\x8b", b"\x78", b"BZh")):
                    return total  # trailing bytes after the stream: the readers ignore them too
                decompressor, data = _decompressor(compression), rest
    except (zlib.error, OSError, EOFError) as error:
        raise damaged(path, f"its compressed data is corrupt: {error}") from None
    if total < limit and not decompressor.eof:
        raise damaged(path, "cut short: its compressed data ends before the voxels do")
    return total


