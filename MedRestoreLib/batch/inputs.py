"""What a batch works on: the inputs found in a folder, a glob or a CSV manifest, each with the
output path it will get under the output folder.

- A **folder** is searched recursively for NRRD, NIfTI and MetaImage files, and for DICOM files,
  grouped into one input per series (SeriesInstanceUID) and folder. Outputs mirror the tree:
  ``IN/a/b.nii.gz`` → ``OUT/a/b.nii.gz``; a DICOM series → ``OUT/<its folder>/<SeriesInstanceUID>.nrrd``.
- A **glob** (``"scans/**/*.nrrd"``, quoted so the shell leaves it alone) mirrors the tree
  below the part of the pattern without wildcards.
- A **CSV manifest** (``.csv``) has a header with ``input`` and optionally ``mask`` (a known
  defect mask, ``restore`` only) and ``output`` (a path relative to the output folder; default:
  the input's file name). Relative paths are relative to the manifest's folder.

Hidden files (a leading ``.``, such as an interrupted atomic write's temporary file) and
anything inside the output folder are never inputs.
"""
from __future__ import annotations

import csv
import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from ..errors import InputError

IMAGE_EXTENSIONS = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")
DICOM_OUTPUT_EXTENSION = ".nrrd"  # DICOM series are written as NRRD (one file, full geometry)


@dataclass(frozen=True)
class BatchInput:
    """One unit of work.

    Attributes:
        source: the image file, or the folder of a DICOM series.
        output: where the result is written (inside the output folder).
        name: the output's path relative to the output folder; identifies the input in reports.
        mask: a known defect mask (``restore`` only), or None.
        series_uid: the DICOM SeriesInstanceUID within ``source`` (a folder), or None.
    """

    source: str
    output: str
    name: str
    mask: Optional[str] = None
    series_uid: Optional[str] = None

    @property
    def label(self) -> str:
        """How reports name the input: its path, with the series UID for DICOM."""
        return f"{self.source} [series {self.series_uid}]" if self.series_uid else self.source


def image_extension(path: Path) -> str:
    """The image extension of ``path`` ("" when it is not an image file we read)."""
    name = path.name.lower()
    return next((ext for ext in sorted(IMAGE_EXTENSIONS, key=len, reverse=True) if name.endswith(ext)), "")


def is_dicom_file(path: Path) -> bool:
    """A DICOM Part 10 file: 128 bytes of preamble, then "DICM"."""
    try:
        with open(path, "rb") as handle:
            return handle.read(132)[128:] == b"DICM"
    except OSError:
        return False


def discover(spec: str, out_dir: Path) -> List[BatchInput]:
    """The inputs of ``spec`` (a folder, a glob or a .csv manifest), sorted by output name.

    Raises:
        InputError: nothing matches, the manifest is malformed, or two inputs would be written
            to the same output (or onto an input).
    """
    out_dir = Path(out_dir).resolve()
    path = Path(spec)
    if path.is_file() and path.suffix.lower() == ".csv":
        items = _from_manifest(path, out_dir)
    elif path.is_dir():
        items = _from_folder(path, sorted(_walk(path, out_dir)), out_dir)
    elif glob.has_magic(spec):
        root = Path(_glob_root(spec))
        files = [Path(p) for p in glob.glob(spec, recursive=True)]
        items = _from_folder(root, [p for p in files if _wanted(p, out_dir)], out_dir)
    elif path.is_file():
        items = _from_folder(path.parent, [path], out_dir)
    else:
        raise InputError(f"{spec}: no such file or folder, and not a glob pattern")
    if not items:
        raise InputError(f"{spec}: no NRRD, NIfTI, MetaImage or DICOM input found")
    _check_unique(items)
    return sorted(items, key=lambda item: item.name)


def _glob_root(pattern: str) -> str:
    """The folder part of a glob before its first wildcard ("scans/a/*/x.nrrd" → "scans/a")."""
    parts = Path(pattern).parts
    fixed = [part for part in parts[: next(n for n, p in enumerate(parts) if glob.has_magic(p))]]
    return str(Path(*fixed)) if fixed else "."


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _wanted(path: Path, out_dir: Path) -> bool:
    hidden = any(part.startswith(".") and part not in (".", "..") for part in path.parts)
    return path.is_file() and not hidden and not _inside(path, out_dir)


def _walk(root: Path, out_dir: Path) -> Iterable[Path]:
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and not _inside(Path(folder, f), out_dir))
        yield from (Path(folder, f) for f in files if not f.startswith("."))


def _from_folder(root: Path, files: List[Path], out_dir: Path) -> List[BatchInput]:
    """Image files as themselves, DICOM files as one input per (folder, series)."""
    items, dicom_folders = [], set()
    for file in files:
        if image_extension(file):
            relative = file.relative_to(root) if _inside(file, root.resolve()) else Path(file.name)
            items.append(BatchInput(str(file), str(out_dir / relative), relative.as_posix()))
        elif is_dicom_file(file):
            dicom_folders.add(file.parent)
    for folder in sorted(dicom_folders):
        for uid in _series_ids(folder):
            relative = folder.relative_to(root) / f"{uid}{DICOM_OUTPUT_EXTENSION}" \
                if _inside(folder, root.resolve()) else Path(f"{uid}{DICOM_OUTPUT_EXTENSION}")
            items.append(BatchInput(str(folder), str(out_dir / relative), relative.as_posix(), series_uid=uid))
    return items


def _series_ids(folder: Path) -> List[str]:
    import SimpleITK as sitk

    return list(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)))


def _from_manifest(manifest: Path, out_dir: Path) -> List[BatchInput]:
    base = manifest.parent
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            columns = set(rows[0]) if rows else set()
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{manifest}: cannot be read as a CSV manifest ({error})") from None
    if rows and "input" not in columns:
        raise InputError(f"{manifest}: the header needs an 'input' column (and optionally 'mask', 'output'); "
                         f"got {sorted(c for c in columns if c)}")
    items = []
    for line, row in enumerate(rows, start=2):
        given = (row.get("input") or "").strip()
        if not given:
            raise InputError(f"{manifest}, line {line}: the input is empty")
        source = base / given
        mask = (row.get("mask") or "").strip()
        output = (row.get("output") or "").strip() or _default_output_name(source)
        relative = Path(output)
        if relative.is_absolute() or ".." in relative.parts:
            raise InputError(f"{manifest}, line {line}: the output '{output}' must be a path inside the output folder")
        if not image_extension(relative):
            raise InputError(f"{manifest}, line {line}: the output '{output}' needs an image extension "
                             f"({', '.join(IMAGE_EXTENSIONS)})")
        items.append(BatchInput(str(source), str(out_dir / relative), relative.as_posix(),
                                mask=str(base / mask) if mask else None))
    return items


def _default_output_name(source: Path) -> str:
    return source.name if image_extension(source) else f"{source.name}{DICOM_OUTPUT_EXTENSION}"


def _check_unique(items: List[BatchInput]) -> None:
    seen: Dict[str, BatchInput] = {}
    inputs = {os.path.realpath(item.source) for item in items} | {os.path.realpath(i.mask) for i in items if i.mask}
    for item in items:
        real = os.path.realpath(item.output)
        if real in seen:
            raise InputError(f"{seen[real].label} and {item.label} would both be written to {item.output}; "
                             "give distinct output names in a CSV manifest")
        if real in inputs:
            raise InputError(f"{item.output}: refusing to overwrite an input file")
        seen[real] = item
