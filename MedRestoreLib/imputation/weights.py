"""Loading shipped imputation models (verified as :mod:`MedRestoreLib.models.folder` does).

A model folder ``MedRestoreLib/models/<id>-v<version>/`` (the current version of each id is
named by ``models/index.json``) holds ``weights.pt`` (state dict), ``config.json`` (the resolved
training config, which rebuilds the network), ``metadata.json`` (SHA-256 of the weights,
measured scores) and ``card.md``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Tuple

from ..models.catalog import current_folder
from ..models.folder import load_verified_weights, read_model_folder

#: (model kind, cell) -> model id; the current version of each comes from models/index.json.
MODEL_IDS = {("slices", "lstm"): "slice-lstm", ("slices", "srn"): "slice-srn",
             ("sequence", "lstm"): "sequence-lstm", ("sequence", "srn"): "sequence-srn"}


def shipped_folder(kind: str, cell: str) -> Path:
    """The installed folder of the current model for ``kind`` ("slices" or "sequence") and ``cell``."""
    return current_folder(MODEL_IDS[(kind, cell)])


def load_model(folder: Path, build: Callable[[dict], object]) -> Tuple[object, dict]:
    """(network in eval mode on the CPU, config) of a verified model folder.

    Raises:
        InputError: files missing, SHA-256 mismatch (truncated or tampered weights), a file that
            ``torch.load(weights_only=True)`` refuses, or weights that do not fit the network.
    """
    config, metadata = read_model_folder(folder)
    model = load_verified_weights(build(config), Path(folder) / "weights.pt", metadata.get("sha256"))
    return model.eval(), config
