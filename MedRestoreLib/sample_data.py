"""The "MedRestore damaged brain MRI" sample: the bundled MNI152 T1 with mixed defects.

Made on first use from data that ships inside the extension (no download, so it loads offline
and behind a firewall), into a cache folder, with its ground-truth defect mask beside it so the
tutorial can compare what was found with what was damaged. The same seed gives the same file.

Example (Slicer registers it in the Sample Data module; the console can do the same):
    >>> damaged, truth = damaged_sample_files()
    >>> slicer.util.loadVolume(str(damaged))
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple

SAMPLE_NAME = "MedRestore damaged brain MRI"
NODE_NAME = "MedRestoreDamagedBrain"
TRUTH_NODE_NAME = "MedRestoreDamagedBrain true defects"
CATEGORY = "MedRestore"
SEED = 0
KIND = "mixed"


def cache_folder() -> Path:
    """``$MEDRESTORE_CACHE``, else ``~/.cache/medrestore`` (Slicer passes its own cache path)."""
    return Path(os.environ.get("MEDRESTORE_CACHE") or Path.home() / ".cache" / "medrestore")


def sample_paths(folder: Optional[Path] = None, seed: int = SEED) -> Tuple[Path, Path]:
    """Where the damaged sample and its true defect mask are (or will be) kept."""
    folder = Path(folder) if folder is not None else cache_folder()
    return (folder / f"mni152_t1_2mm_{KIND}_seed{seed}.nrrd",
            folder / f"mni152_t1_2mm_{KIND}_seed{seed}_defects.nrrd")


def damaged_sample_files(folder: Optional[Path] = None, seed: int = SEED) -> Tuple[Path, Path]:
    """Paths of the damaged sample and its true defect mask, made when missing.

    Writes are atomic (``write_volume``), so two Slicer sessions making it at once, or one
    interrupted, never leave a half-written file that a later load would take for the sample.
    """
    damaged_path, truth_path = sample_paths(folder, seed)
    folder = damaged_path.parent
    if damaged_path.is_file() and truth_path.is_file():
        return damaged_path, truth_path
    from .data import SAMPLE
    from .defects import corrupt
    from .volume import read_volume, write_volume

    folder.mkdir(parents=True, exist_ok=True)
    damaged, truth, _ = corrupt(read_volume(SAMPLE), KIND, seed=seed)
    write_volume(truth, truth_path)
    write_volume(damaged, damaged_path)
    return damaged_path, truth_path
