"""Where the voxel bytes of a NIfTI, Analyze, NRRD or MetaImage file are, and how many its
header promises (size × type): read from the header alone, for ``file_integrity.py``.

Formats: NIfTI-1/-2 and Analyze (``.nii``, ``.nii.gz``, ``.hdr``/``.img`` and their ``.gz``),
NRRD (``.nrrd``, ``.nhdr`` + data file; raw, gzip, bzip2; line and byte skips) and MetaImage
(``.mha``, ``.mhd`` + data file; raw, zlib). Text data (NRRD ascii/hex, MetaImage ASCII) and data
spread over several files (``LIST`` or a file pattern) give None: the reader checks those itself.
"""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .errors import InputError

# NIfTI datatype code → bytes per voxel (nifti1.h; 1 = DT_BINARY is not supported by ITK either).
_NIFTI_BYTES = {2: 1, 4: 2, 8: 4, 16: 4, 32: 8, 64: 8, 128: 3, 256: 1, 512: 2, 768: 4, 1024: 8,
                1280: 8, 1536: 16, 1792: 16, 2048: 32, 2304: 4}
# NRRD type names (every spelling the format allows) → bytes per value.
_NRRD_BYTES = {}
for _size, _names in ((1, "signed char, int8, int8_t, uchar, unsigned char, uint8, uint8_t"),
                      (2, "short, short int, signed short, signed short int, int16, int16_t, ushort, "
                          "unsigned short, unsigned short int, uint16, uint16_t"),
                      (4, "int, signed int, int32, int32_t, uint, unsigned int, uint32, uint32_t, float"),
                      (8, "longlong, long long, long long int, signed long long, signed long long int, "
                          "int64, int64_t, ulonglong, unsigned long long, unsigned long long int, uint64, "
                          "uint64_t, double")):
    _NRRD_BYTES.update({name.strip(): _size for name in _names.split(",")})
# MetaImage element types (metaTypes.h; MET_LONG is 4 bytes there) → bytes per value.
_META_BYTES = {"CHAR": 1, "UCHAR": 1, "SHORT": 2, "USHORT": 2, "INT": 4, "UINT": 4, "LONG": 4, "ULONG": 4,
               "LONG_LONG": 8, "ULONG_LONG": 8, "FLOAT": 4, "DOUBLE": 8}


@dataclass
class DataLayout:
    """Where a file's voxel bytes are and how many the header promises.

    Attributes:
        data_file: the file holding the voxel bytes (the image itself, or a detached data file).
        start: where the voxel bytes (or their compressed stream) begin in ``data_file``.
        expected: voxel bytes promised by the header (size × type).
        voxels: the voxel count the header claims (for the message about a huge claim).
        compression: "", "zlib" (gzip or zlib streams) or "bzip2".
        skip: bytes to skip before the voxels (after decompression, for compressed data).
        at_end: the voxels are the last ``expected`` bytes of the file (``start`` is a minimum).
    """

    data_file: Path
    start: int
    expected: int
    voxels: int
    compression: str = ""
    skip: int = 0
    at_end: bool = False


def image_format(path: Path) -> Optional[str]:
    """"nifti" (NIfTI or Analyze), "nrrd", "meta" (MetaImage), "dicom", "png", or None:
    from the file's first bytes (what the readers go by), DICOM and Analyze also by name."""
    head = _read_start(path, 540)
    name = path.name.lower()
    if head[128:132] == b"DICM" or name.endswith((".dcm", ".dicom", ".ima")):
        return "dicom"
    if re.match(rb"NRRD000\d", head):
        return "nrrd"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if (len(head) >= 348 and _nifti_header(head) is not None) or name.endswith((".img", ".img.gz")):
        return "nifti"
    if re.match(rb"\s*(ObjectType|ObjectSubType|NDims|Comment|TransformType)\s*=", head):
        return "meta"
    return None


def data_layout(path: Path, kind: Optional[str] = None) -> Optional[DataLayout]:
    """The voxel data layout of a NIfTI, Analyze, NRRD or MetaImage file; None for other formats.

    Args:
        kind: the file's :func:`image_format` when known.
    """
    kind = kind or image_format(path)
    layouts = {"nifti": _nifti_layout, "nrrd": _nrrd_layout, "meta": _meta_layout}
    return layouts[kind](path) if kind in layouts else None


def damaged(path: Path, why: str) -> InputError:
    return InputError(f"{path}: the file is damaged ({why})")


def _product(values) -> int:
    total = 1
    for value in values:
        total *= int(value)
    return total


# --- NIfTI and Analyze --------------------------------------------------------------------------

def _read_start(path: Path, count: int) -> bytes:
    """The first ``count`` bytes of a file, decompressed when it is gzip."""
    import gzip

    try:
        with open(path, "rb") as handle:
            start = handle.read(count)
        if not start.startswith(b"\x1f\x8b"):
            return start
        with gzip.open(path, "rb") as handle:
            return handle.read(count)
    except (OSError, EOFError, zlib.error) as error:
        raise damaged(path, f"its header cannot be read: {error}") from None


def _nifti_header(header: bytes):
    """(header size, dims, datatype, bitpix, vox_offset) of a NIfTI-1/Analyze or NIfTI-2 header
    in either byte order; None when it is neither."""
    for order in "<>":
        size = struct.unpack(order + "i", header[:4])[0]
        if size == 348:
            dims = struct.unpack(order + "8h", header[40:56])
            datatype, bitpix = struct.unpack(order + "2h", header[70:74])
            return size, dims, datatype, bitpix, struct.unpack(order + "f", header[108:112])[0]
        if size == 540 and len(header) >= 540:
            datatype, bitpix = struct.unpack(order + "2h", header[12:16])
            dims = struct.unpack(order + "8q", header[16:80])
            return size, dims, datatype, bitpix, struct.unpack(order + "q", header[168:176])[0]
    return None


def _nifti_layout(path: Path) -> Optional[DataLayout]:
    name, lower = path.name, path.name.lower()
    header_path, data_path = path, path
    for data_ext, header_ext in ((".img.gz", ".hdr.gz"), (".img", ".hdr")):
        if lower.endswith(data_ext):
            header_path = path.with_name(name[: -len(data_ext)] + header_ext)
        elif lower.endswith(header_ext):
            data_path = path.with_name(name[: -len(header_ext)] + data_ext)
    if not header_path.is_file():
        raise InputError(f"{path}: its header {header_path.name} is missing")
    header = _read_start(header_path, 540)
    if len(header) < 348:
        raise damaged(header_path, f"the header has {len(header)} bytes, NIfTI needs 348")
    parsed = _nifti_header(header)
    if parsed is None:
        return None  # not a NIfTI/Analyze header: the reader will say so
    size, dims, datatype, bitpix, offset = parsed
    rank = dims[0]
    if not 1 <= rank <= 7 or any(d < 1 for d in dims[1:rank + 1]):
        raise damaged(path, f"the header's sizes {list(dims[1:max(rank, 0) + 1])} are impossible")
    per_voxel = _NIFTI_BYTES.get(datatype, max(bitpix, 0) // 8)
    if per_voxel <= 0:
        return None
    if data_path == header_path:  # one file: the voxels follow the header (and its extensions)
        offset = max(int(offset), size + 4)
    voxels = _product(dims[1:rank + 1])
    compression = "zlib" if data_path.name.lower().endswith(".gz") else ""
    return DataLayout(data_path, 0, voxels * per_voxel, voxels, compression, skip=int(max(offset, 0)))


# --- NRRD and MetaImage: text headers ---------------------------------------------------------------

def _text_header(path: Path, last) -> Tuple[List[str], int]:
    """Header lines (without line ends) up to the line ``last`` accepts, and the byte offset
    just after it (where attached data begins)."""
    lines, offset = [], 0
    with open(path, "rb") as handle:
        for raw in iter(lambda: handle.readline(1 << 16), b""):
            offset += len(raw)
            lines.append(raw.rstrip(b"\r\n").decode("latin-1"))
            if last(lines[-1]) or len(lines) > 10000:
                break
    return lines, offset


def _skip_lines(path: Path, start: int, count: int) -> int:
    with open(path, "rb") as handle:
        handle.seek(start)
        return start + sum(len(handle.readline()) for _ in range(count))


def _numbers(text: str, path: Path, what: str) -> List[int]:
    try:
        return [int(value) for value in text.split()]
    except ValueError:
        raise damaged(path, f"its header's {what} '{text[:40]}' are not whole numbers") from None


def _nrrd_layout(path: Path) -> Optional[DataLayout]:
    with open(path, "rb") as handle:
        if not re.match(rb"NRRD000\d", handle.read(8)):
            return None
    lines, data_start = _text_header(path, lambda line: line == "")
    fields: Dict[str, str] = {}
    for line in lines[1:]:
        if not line.startswith("#") and ":=" not in line and ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip().lower().replace(" ", "")] = value.strip()
    compression = {"raw": "", "gzip": "zlib", "gz": "zlib", "bzip2": "bzip2", "bz2": "bzip2"}.get(
        fields.get("encoding", "raw").lower())
    type_name = " ".join(fields.get("type", "").lower().split())
    per_value = _numbers(fields.get("blocksize", "0"), path, "block size")[0] if type_name == "block" \
        else _NRRD_BYTES.get(type_name)
    sizes = _numbers(fields.get("sizes", ""), path, "sizes")
    line_skip = _numbers(fields.get("lineskip", "0"), path, "line skip")[0]
    byte_skip = _numbers(fields.get("byteskip", "0"), path, "byte skip")[0]
    data_file = fields.get("datafile", "")
    if compression is None or not per_value or not sizes or data_file.upper().startswith("LIST") \
            or len(data_file.split()) > 1 or (byte_skip == -1 and compression):
        return None  # text data, a list or pattern of data files, an unknown type: the reader checks
    if any(s < 1 for s in sizes):
        raise damaged(path, f"the header's sizes {sizes} are impossible")
    target = path.parent / data_file if data_file else path
    start = 0 if data_file else data_start
    if line_skip and target.is_file():
        start = _skip_lines(target, start, line_skip)
    voxels = _product(sizes)
    if byte_skip == -1:
        return DataLayout(target, start, voxels * per_value, voxels, at_end=True)
    return DataLayout(target, start, voxels * per_value, voxels, compression, skip=byte_skip)


def _meta_layout(path: Path) -> Optional[DataLayout]:
    lines, data_start = _text_header(path, lambda line: line.split("=")[0].strip().lower() == "elementdatafile")
    fields = {key.strip().lower(): value.strip() for key, _, value in
              (line.partition("=") for line in lines if "=" in line)}
    if "elementdatafile" not in fields or "dimsize" not in fields:
        return None
    element = fields.get("elementtype", "").upper().replace("MET_", "").replace("_ARRAY", "")
    data_file = fields["elementdatafile"]
    if fields.get("binarydata", "true").lower() == "false" or element not in _META_BYTES \
            or data_file.upper().startswith("LIST") or len(data_file.split()) > 1:
        return None  # text data, a list or pattern of data files, an unknown type: the reader checks
    sizes = _numbers(fields["dimsize"], path, "DimSize")
    channels = _numbers(fields.get("elementnumberofchannels", "1"), path, "channels")[0]
    if any(s < 1 for s in sizes) or channels < 1:
        raise damaged(path, f"the header's sizes {sizes} are impossible")
    voxels = _product(sizes)
    expected = voxels * channels * _META_BYTES[element]
    compression = "zlib" if fields.get("compresseddata", "false").lower() == "true" else ""
    if data_file.upper() == "LOCAL":
        return DataLayout(path, data_start, expected, voxels, compression)
    header_size = _numbers(fields.get("headersize", "0"), path, "HeaderSize")[0]
    target = path.parent / data_file
    if header_size == -1 and not compression:
        return DataLayout(target, 0, expected, voxels, at_end=True)
    return DataLayout(target, max(header_size, 0), expected, voxels, compression)
