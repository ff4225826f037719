"""Loading shipped imputation models (verified as :mod:`MedRestoreLib.models.folder` does).

A model folder ``MedRestoreLib/models/<id>-v<version>/`` holds ``weights.pt`` (state dict),
``config.json`` (the resolved training config, which rebuilds the network), ``metadata.json``
(SHA-256 of the weights, measured scores) and ``card.md``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Tuple

from ..models.folder import load_verified_weights, read_model_folder

MODELS = Path(__file__).resolve().parents[1] / "models"
#: (model kind, cell) -> shipped folder name.
SHIPPED = {("slices", "lstm"): "slice-lstm-v1.0.0", ("slices", "srn"): "slice-srn-v1.0.0",
           ("sequence", "lstm"): "sequence-lstm-v1.0.0", ("sequence", "srn"): "sequence-srn-v1.0.0"}


def shipped_folder(kind: str, cell: str) -> Path:
    return MODELS / SHIPPED[(kind, cell)]


def load_model(folder: Path, build: Callable[[dict], object]) -> Tuple[object, dict]:
    """(network in eval mode on the CPU, config) of a verified model folder.

    Raises:
        InputError: files missing, SHA-256 mismatch (truncated or tampered weights), a file that
            ``torch.load(weights_only=True)`` refuses, or weights that do not fit the network.
    """
    config, metadata = read_model_folder(folder)
    model = load_verified_weights(build(config), Path(folder) / "weights.pt", metadata.get("sha256"))
    return model.eval(), config
