"""The LSTM defect localizer: recurrent scans along rows, columns and slices over DPD_D features.

Per voxel, a small tanh network embeds the features of :mod:`.dpd` and gives a first defect
logit (the *gate*). Three bidirectional LSTMs (tanh cells) then scan the embedding along i
(rows), j (columns) and k (slices), so evidence travels along a line: a dropout whose middle
crosses dark tissue is followed to its end, a missing slice or a dead detector column repeated
on every slice is seen as a whole, the inside of a blank block is tied to its edges. Outputs:

- ``logit``: defect log-odds per voxel (probability = sigmoid);
- ``next_logit``: for each scan axis, log-odds that the *next* voxel along the scan is a
  defect (trained as an auxiliary task; it makes the scans track where a defect continues);
- ``gate_logit``: the per-voxel first stage.

Only sequences (rows, columns, slice-columns) holding at least one candidate voxel (gate
probability > ``gate``) are scanned — the same rule in training and inference — so a clean
volume costs little more than its features, and a damaged one pays only where damage may be.
"""
from __future__ import annotations

from typing import Dict

AXES = (4, 3, 2)  # tensor axes of (B, C, K, J, I) scanned: i (rows), j (columns), k (slices)


def _torch():
    import torch
    from torch import nn

    return torch, nn


def build_localizer(in_channels: int, hidden: int = 16, lstm_hidden: int = 8):
    """The network, built from its config (so weights and config travel together)."""
    torch, nn = _torch()

    class DefectLocalizer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Sequential(nn.Conv3d(in_channels, hidden, 1), nn.Tanh(),
                                       nn.Conv3d(hidden, hidden, 1), nn.Tanh())
            self.gate_head = nn.Conv3d(hidden, 1, 1)
            self.scans = nn.ModuleList([nn.LSTM(hidden, lstm_hidden, batch_first=True,
                                                bidirectional=True) for _ in AXES])
            self.mix = nn.Sequential(nn.Conv3d(hidden + 2 * lstm_hidden * len(AXES), hidden, 1),
                                     nn.Tanh())
            self.head = nn.Conv3d(hidden, 1, 1)
            self.next_head = nn.Conv3d(hidden, len(AXES), 1)

        def forward(self, features, gate: float = 0.05) -> Dict[str, "torch.Tensor"]:
            embedded = self.embed(features)
            gate_logit = self.gate_head(embedded)
            candidates = (torch.sigmoid(gate_logit) > gate).detach()
            scanned = [scan_along(lstm, embedded, candidates, axis) for lstm, axis in zip(self.scans, AXES)]
            mixed = self.mix(torch.cat([embedded] + scanned, dim=1))
            return {"logit": self.head(mixed), "next_logit": self.next_head(mixed),
                    "gate_logit": gate_logit}

    return DefectLocalizer()


def scan_along(lstm, embedded, candidates, axis: int):
    """Run ``lstm`` along ``axis`` over the sequences holding a candidate; zeros elsewhere."""
    channels = embedded.shape[1]
    order = [0] + [a for a in (2, 3, 4) if a != axis] + [axis, 1]
    sequences = embedded.permute(*order)  # (B, A, B', L, C)
    shape = sequences.shape
    active = candidates.permute(*order).reshape(-1, shape[-2]).any(dim=1)
    output = run_sequences(lstm, sequences.reshape(-1, shape[-2], channels), active)
    output = output.reshape(*shape[:-1], 2 * lstm.hidden_size)
    inverse = [order.index(a) for a in range(5)]
    return output.permute(*inverse)


def run_sequences(lstm, sequences, active):
    """``lstm`` over the ``active`` rows of ``sequences`` (N, L, C) → (N, L, 2·hidden), zeros
    for the others (they hold no candidate voxel: the same rule in training and inference)."""
    torch, _ = _torch()

    output = sequences.new_zeros(sequences.shape[0], sequences.shape[1], 2 * lstm.hidden_size)
    if bool(active.any()):
        selected = sequences[active]
        chunk = 32768  # bounds the LSTM's workspace
        output[active] = torch.cat([lstm(selected[start:start + chunk])[0]
                                    for start in range(0, selected.shape[0], chunk)])
    return output


def next_defect_targets(mask):
    """For each scanned axis, 1 where the next voxel along that axis is a defect (B, 3, K, J, I)."""
    torch, _ = _torch()

    targets = []
    for axis in AXES:
        shifted = torch.zeros_like(mask)
        length = mask.shape[axis]
        if length > 1:
            shifted.narrow(axis, 0, length - 1).copy_(mask.narrow(axis, 1, length - 1))
        targets.append(shifted)
    return torch.cat(targets, dim=1)
