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

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..errors import InputError
from ..models.catalog import current_folder
from ..models.folder import load_verified_weights, read_model_folder
from .dpd import FEATURE_NAMES
from .lstm import build_localizer

MODEL_ID = "defect-lstm"  # its current version comes from models/index.json
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
    channels: Tuple[int, ...] = ()  # which of dpd.FEATURE_NAMES the model reads (a prefix)

    def select(self, features):
        """The model's input channels out of the full feature volume (C, k, j, i)."""
        return features[list(self.channels)] if self.channels else features


def load_localizer(folder: Optional[Path] = None, device: str = "cpu") -> Localizer:
    """Load and verify a localizer folder (:mod:`MedRestoreLib.models.folder`); by default the
    current ``defect-lstm`` of ``models/index.json``.

    Raises:
        InputError: files missing, SHA-256 mismatch (truncated or tampered weights), features
            other than this version computes, or weights that do not fit the configured network.
    """
    folder = Path(folder) if folder is not None else current_folder(MODEL_ID)
    config, metadata = read_model_folder(folder)
    names = config.get("features") or []
    # Features only ever get appended: a model reads the first len(names) channels, in order.
    if not names or list(FEATURE_NAMES[: len(names)]) != names:
        raise InputError(f"{folder}: trained on other features than this version computes")
    model = build_localizer(len(names), config["model"]["hidden"], config["model"]["lstm_hidden"])
    load_verified_weights(model, folder / "weights.pt", metadata.get("sha256"))
    return Localizer(model.to(device).eval(), float(config["model"]["gate"]),
                     float(config["threshold"]), float(config["dpd_threshold"]), config, folder,
                     tuple(FEATURE_NAMES.index(name) for name in names))


def _pointwise(conv, values, bias=True):
    """A 1×1×1 Conv3d applied to channels-last ``values`` (..., C) as one matrix product —
    several times faster on a CPU than conv3d on channels-first volumes."""
    import torch.nn.functional as F

    return F.linear(values, conv.weight[:, :, 0, 0, 0], conv.bias if bias else None)


def _embed(model, block):
    """Embedding and candidate mask of a channels-last feature block (..., C)."""
    import torch

    embedded = torch.tanh(_pointwise(model.embed[2], torch.tanh(_pointwise(model.embed[0], block))))
    return embedded, torch.sigmoid(_pointwise(model.gate_head, embedded))[..., 0]


def predict_probability(model, features, gate: float, steps=None, slab: int = SLAB) -> np.ndarray:
    """Defect probability (k, j, i) of a feature volume (C, k, j, i), slab by slab.

    Gives the same result as ``sigmoid(model(features[None])["logit"])`` (to float rounding),
    computed channels-last so every per-voxel layer is one matrix product. ``slab`` slices (or
    rows) are held at once: a smaller slab needs less memory (the out-of-memory fallback halves it).
    """
    import torch
    import torch.nn.functional as F

    from .lstm import run_sequences

    _, depth, rows, columns = features.shape
    hidden = model.embed[2].out_channels
    lstm_out = 2 * model.scans[0].hidden_size
    weight = model.mix[0].weight[:, :, 0, 0, 0]
    parts = [weight[:, :hidden]] + [weight[:, hidden + n * lstm_out: hidden + (n + 1) * lstm_out]
                                    for n in range(3)]
    channels_last = features.permute(1, 2, 3, 0)  # (k, j, i, C), a view
    with torch.no_grad():
        accumulator = torch.empty((depth, rows, columns, hidden), device=features.device)
        for start in range(0, depth, slab):
            embedded, probability = _embed(model, channels_last[start:start + slab].contiguous())
            candidates = probability > gate
            slices = embedded.shape[0]
            total = F.linear(embedded, parts[0], model.mix[0].bias)
            along_i = run_sequences(model.scans[0], embedded.reshape(-1, columns, hidden),
                                    candidates.reshape(-1, columns).any(dim=1))
            total += F.linear(along_i.reshape(slices, rows, columns, lstm_out), parts[1])
            along_j = run_sequences(model.scans[1], embedded.transpose(1, 2).reshape(-1, rows, hidden),
                                    candidates.transpose(1, 2).reshape(-1, rows).any(dim=1))
            total += F.linear(along_j.reshape(slices, columns, rows, lstm_out).transpose(1, 2), parts[2])
            accumulator[start:start + slab] = total
            if steps is not None:
                steps.report(0.5 * min(start + slab, depth) / depth, "LSTM scans along rows and columns")
        for start in range(0, rows, slab):
            embedded, probability = _embed(model, channels_last[:, start:start + slab].contiguous())
            candidates = probability > gate
            width = embedded.shape[1]
            along_k = run_sequences(model.scans[2], embedded.permute(1, 2, 0, 3).reshape(-1, depth, hidden),
                                    candidates.permute(1, 2, 0).reshape(-1, depth).any(dim=1))
            accumulator[:, start:start + slab] += F.linear(
                along_k.reshape(width, columns, depth, lstm_out).permute(2, 0, 1, 3), parts[3])
            if steps is not None:
                steps.report(0.5 + 0.5 * min(start + slab, rows) / rows, "LSTM scan along slices")
        probability = torch.empty((depth, rows, columns), device=features.device)
        for start in range(0, depth, slab):
            mixed = torch.tanh(accumulator[start:start + slab])
            probability[start:start + slab] = torch.sigmoid(_pointwise(model.head, mixed))[..., 0]
    return probability.cpu().numpy()
