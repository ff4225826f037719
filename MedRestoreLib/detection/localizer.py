"""Loading the shipped LSTM localizer and running it on whole volumes within bounded memory.

The model folder (``MedRestoreLib/models/defect-lstm-v<version>/``) holds ``weights.pt`` (state
dict), ``config.json`` (the resolved training config: sizes, gate, decision threshold, seed) and
``metadata.json`` (SHA-256 of the weights, validation scores). Weights are loaded with
``torch.load(weights_only=True)`` after their SHA-256 is checked, so a truncated or tampered file
is refused with a clear error instead of giving silently wrong masks.

Whole-volume inference is exact but sliced: the in-plane scans (i, j) need only one slice, the
slice scan (k) only one row of columns, and the mixing layer is linear before its tanh, so each
scan's contribution is added into one accumulator — peak memory is the features plus one
16-channel volume, not the five the plain forward pass would hold.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .dpd import FEATURE_NAMES, compute_features
from .lstm import _scan, build_localizer

MODELS = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODEL = MODELS / "defect-lstm-v1.1.0"
SLAB = 8  # slices (or rows) per inference slab


@dataclass
class Localizer:
    """A loaded localizer: the network and the settings it was trained with."""

    model: object
    gate: float
    threshold: float  # decision threshold on the LSTM's probability
    dpd_threshold: float  # decision threshold on DPD_D alone (the ablation)
    config: dict
    folder: Path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_localizer(folder: Path = DEFAULT_MODEL, device: str = "cpu") -> Localizer:
    """Load and verify a localizer folder.

    Raises:
        InputError: files missing, SHA-256 mismatch (truncated or tampered weights), or
            weights that do not fit the configured network.
    """
    import torch

    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
        metadata = json.loads((folder / "metadata.json").read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{folder}: not a usable model folder ({error})") from None
    weights = folder / "weights.pt"
    if not weights.exists() or sha256_of(weights) != metadata.get("sha256"):
        raise InputError(f"{weights}: missing, truncated or modified (SHA-256 differs from "
                         "metadata.json); reinstall MedRestore")
    if config.get("features") != list(FEATURE_NAMES):
        raise InputError(f"{folder}: trained on other features than this version computes")
    model = build_localizer(len(FEATURE_NAMES), config["model"]["hidden"], config["model"]["lstm_hidden"])
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError) as error:
        raise InputError(f"{weights}: not a plain weights file, refused by torch.load(weights_only=True) "
                         f"({str(error).splitlines()[0][:120]})") from None
    try:
        model.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError, AttributeError) as error:
        raise InputError(f"{weights}: does not fit the network of config.json ({str(error)[:120]})") from None
    return Localizer(model.to(device).eval(), float(config["model"]["gate"]),
                     float(config["threshold"]), float(config["dpd_threshold"]), config, folder)


def predict_probability(model, features, gate: float, steps=None) -> np.ndarray:
    """Defect probability (k, j, i) of a feature volume (C, k, j, i), slab by slab.

    Gives the same result as ``sigmoid(model(features[None])["logit"])``.
    """
    import torch

    channels, depth, rows, columns = features.shape
    hidden = model.embed[2].out_channels
    lstm_out = 2 * model.scans[0].hidden_size
    weight = model.mix[0].weight[:, :, 0, 0, 0]
    parts = [weight[:, :hidden]] + [weight[:, hidden + n * lstm_out: hidden + (n + 1) * lstm_out]
                                    for n in range(3)]

    def project(part, tensor):  # (1, c, ...) → (1, hidden, ...) by a 1×1×1 linear map
        return torch.einsum("oc,bc...->bo...", part, tensor)

    with torch.no_grad():
        accumulator = torch.empty((1, hidden, depth, rows, columns), device=features.device)
        for start in range(0, depth, SLAB):
            block = features[None, :, start:start + SLAB]
            embedded = model.embed(block)
            candidates = torch.sigmoid(model.gate_head(embedded)) > gate
            total = project(parts[0], embedded) + model.mix[0].bias[None, :, None, None, None]
            for n, axis in enumerate((4, 3)):  # rows and columns lie within the slab's slices
                total += project(parts[n + 1], _scan(model.scans[n], embedded, candidates, axis))
            accumulator[:, :, start:start + SLAB] = total
            if steps is not None:
                steps.report(0.5 * min(start + SLAB, depth) / depth, "LSTM scans along rows and columns")
        for start in range(0, rows, SLAB):
            block = features[None, :, :, start:start + SLAB]
            embedded = model.embed(block)
            candidates = torch.sigmoid(model.gate_head(embedded)) > gate
            accumulator[:, :, :, start:start + SLAB] += project(
                parts[3], _scan(model.scans[2], embedded, candidates, 2))
            if steps is not None:
                steps.report(0.5 + 0.5 * min(start + SLAB, rows) / rows, "LSTM scan along slices")
        probability = torch.empty((depth, rows, columns), device=features.device)
        for start in range(0, depth, SLAB):
            mixed = torch.tanh(accumulator[:, :, start:start + SLAB])
            probability[start:start + SLAB] = torch.sigmoid(model.head(mixed))[0, 0]
    return probability.cpu().numpy()


def localize(array: np.ndarray, localizer: Localizer, device: str = "cpu", steps=None):
    """(probability, DPD_D features) of a volume with a loaded localizer."""
    features, _ = compute_features(array, device=device)
    return predict_probability(localizer.model, features, localizer.gate, steps), features
