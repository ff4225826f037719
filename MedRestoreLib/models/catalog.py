"""Which model folder to load: ``index.json`` read once per call, nothing hard-coded elsewhere.

Every loader asks :func:`current_folder` for the version it ships, so making a new version
current is one edit of ``index.json`` (and of the CMake list of installed models, which a test
keeps equal to it). Versions that are not current are in the archive folder of a source
checkout (:data:`MedRestoreLib.models.ARCHIVE_DIR`); :func:`folder` finds them and says clearly
when that folder is absent (an installed package has none).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from ..errors import InputError
from . import ARCHIVE_DIR, MODELS_DIR


@dataclass(frozen=True)
class ModelEntry:
    """One model version listed in ``index.json``."""

    id: str
    version: str
    folder: str
    task: str
    current: bool
    note: str = ""


def entries(root: Optional[Path] = None) -> List[ModelEntry]:
    """Every model version of ``root/index.json`` (``root``: the installed models folder)."""
    index = Path(root or MODELS_DIR) / "index.json"
    try:
        models = json.loads(index.read_text())["models"]
        return [ModelEntry(**model) for model in models]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{index}: not a readable model index ({error}); reinstall MedRestore") from None


def current_entry(model_id: str, root: Optional[Path] = None) -> ModelEntry:
    """The current version of ``model_id``.

    Raises:
        InputError: no current version, or more than one (``index.json`` is wrong).
    """
    found = [entry for entry in entries(root) if entry.id == model_id and entry.current]
    if len(found) != 1:
        raise InputError(f"models/index.json lists {len(found)} current versions of '{model_id}' (one expected)")
    return found[0]


def current_folder(model_id: str, root: Optional[Path] = None) -> Path:
    """The installed folder of the current version of ``model_id``, e.g. ``"inpaint-gan"``."""
    root = Path(root or MODELS_DIR)
    return root / current_entry(model_id, root).folder


def folder(model_id: str, version: str, root: Optional[Path] = None, archive: Optional[Path] = None) -> Path:
    """The folder of one version: installed when current, else in the archive of a source checkout.

    Raises:
        InputError: the version is not listed, or it is archived and the archive folder is not
            there (the model archive is not installed; run from a source checkout).
    """
    root = Path(root or MODELS_DIR)
    for entry in entries(root):
        if entry.id == model_id and entry.version == version:
            if entry.current:
                return root / entry.folder
            path = Path(archive or ARCHIVE_DIR) / entry.folder
            if not path.is_dir():
                raise InputError(f"{model_id} {version} is archived and {path} is absent: the model archive "
                                 "is not installed; it is in a source checkout of MedRestore")
            return path
    raise InputError(f"models/index.json does not list {model_id} {version}")
