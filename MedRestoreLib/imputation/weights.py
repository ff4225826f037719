"""Loading shipped imputation models: SHA-256 checked, then ``torch.load(weights_only=True)``.

A model folder ``MedRestoreLib/models/<id>-v<version>/`` holds ``weights.pt`` (state dict),
``config.json`` (the resolved training config, which rebuilds the network), ``metadata.json``
(SHA-256 of the weights, measured scores) and ``card.md``.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Callable, Tuple

from ..errors import InputError

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
    import torch

    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
        metadata = json.loads((folder / "metadata.json").read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{folder}: not a usable model folder ({error})") from None
    weights = folder / "weights.pt"
    if not weights.exists() or hashlib.sha256(weights.read_bytes()).hexdigest() != metadata.get("sha256"):
        raise InputError(f"{weights}: missing, truncated or modified (SHA-256 differs from "
                         "metadata.json); reinstall MedRestore")
    model = build(config)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError, TypeError, AttributeError) as error:
        raise InputError(f"{weights}: refused by torch.load(weights_only=True) or does not fit the "
                         f"network of config.json ({str(error).splitlines()[0][:120]})") from None
    return model.eval(), config
