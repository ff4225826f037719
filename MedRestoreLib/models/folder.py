"""A shipped model folder, read and verified the same way for every network.

A folder ``MedRestoreLib/models/<id>-v<version>/`` holds ``config.json`` (what rebuilds the
network), ``metadata.json`` (the SHA-256 of every weights file, measured scores) and the weights
(state dicts) beside ``card.md``. Weights are checked against their SHA-256 *before*
``torch.load(weights_only=True)`` reads them, so a truncated or tampered file is refused with an
:class:`InputError` that names it — never a silently wrong model. The defect localizer, the GAN
filler and the slice and sequence imputers all load through here.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Optional, Tuple

from ..errors import InputError


def sha256_of(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_model_folder(folder) -> Tuple[dict, dict]:
    """(config, metadata) of a model folder.

    Raises:
        InputError: either file missing or not JSON.
    """
    folder = Path(folder)
    try:
        return (json.loads((folder / "config.json").read_text()),
                json.loads((folder / "metadata.json").read_text()))
    except (OSError, ValueError) as error:
        raise InputError(f"{folder}: not a usable model folder ({error})") from None


def load_verified_weights(network, path, expected_sha256: Optional[str]):
    """Load the state dict at ``path`` into ``network`` (on the CPU) once its SHA-256 matches.

    Returns:
        ``network``, with the weights loaded.

    Raises:
        InputError: the file is missing, its SHA-256 differs (or none is expected), torch refuses
            it as plain weights, or it does not fit the network.
    """
    import torch

    path = Path(path)
    if expected_sha256 is None or not path.exists() or sha256_of(path) != expected_sha256:
        raise InputError(f"{path}: missing, truncated or modified (SHA-256 differs from metadata.json); "
                         "reinstall MedRestore")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError) as error:
        raise InputError(f"{path}: not a plain weights file, refused by torch.load(weights_only=True) "
                         f"({str(error).splitlines()[0][:120]})") from None
    try:
        network.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError, AttributeError, KeyError) as error:
        raise InputError(f"{path}: does not fit the network of config.json "
                         f"({str(error).splitlines()[0][:120]})") from None
    return network
