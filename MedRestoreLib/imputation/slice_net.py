"""The recurrent slice imputer: a 2-D CNN encoder per slice, a recurrent core (SRN or LSTM, run
both ways) along the slice axis at a quarter of the in-plane resolution, and a CNN decoder that
adds a residual to the cubic interpolation.

The feedback rule of the seed method: at a thin slice with an acquired slice, the recurrent cell
reads that slice's encoding; at a missing slice it reads its own prediction of the encoding,
made from its previous state (``feedback`` layers). Every thin slice also gets the encoding of
the cubic interpolation there, and a flag saying whether it was acquired.

Shapes: acquired slices (B, n, H, W), cubic base (B, L, H, W) on the thin grid of L slices,
intensities normalised to about [0, 1]; output (B, L, H, W).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .feedback_cells import CELLS, advance, initial_state


def _encoder(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, channels, 3, 2, 1), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, 2, 1), nn.ReLU())


class SliceImputer(nn.Module):
    """Args: cell ('lstm' or 'srn'), channels of the encoders, hidden size of the cells,
    head width of the full-resolution decoder."""

    def __init__(self, cell: str = "lstm", channels: int = 16, hidden: int = 32, head: int = 8):
        super().__init__()
        self.cell_kind = cell
        self.encode_acquired = _encoder(channels)
        self.encode_base = _encoder(channels)
        inputs = 2 * channels + 1
        self.forward_cell = CELLS[cell](inputs, hidden)
        self.backward_cell = CELLS[cell](inputs, hidden)
        self.forward_feedback = nn.Linear(hidden, channels)
        self.backward_feedback = nn.Linear(hidden, channels)
        self.low = nn.Sequential(nn.Conv2d(2 * hidden + channels, channels, 3, 1, 1), nn.ReLU(),
                                 nn.Conv2d(channels, 4, 1))
        self.head = nn.Sequential(nn.Conv2d(7, head, 3, 1, 1), nn.ReLU(),
                                  nn.Conv2d(head, head, 3, 1, 1), nn.ReLU(),
                                  nn.Conv2d(head, 1, 3, 1, 1))

    def _run(self, cell, feedback, acquired, base, anchor, order):
        """One direction: states (S, L, hidden) for S = B·h·w sequences."""
        sequences, length = base.shape[0], base.shape[1]
        state, memory = initial_state(cell, sequences, base)
        outputs = [None] * length
        for t in order:
            if anchor[t] >= 0:
                reading, flag = acquired[:, anchor[t]], torch.ones_like(state[:, :1])
            else:
                reading, flag = feedback(state), torch.zeros_like(state[:, :1])
            state, memory = advance(cell, torch.cat([reading, base[:, t], flag], 1), state, memory)
            outputs[t] = state
        return torch.stack(outputs, 1)

    def recurrent_features(self, acquired, base, anchor):
        """Low-resolution decoder features (B, L, 4, h, w) of padded inputs."""
        batch, count, height, width = acquired.shape
        length = base.shape[1]
        encoded = self.encode_acquired(acquired.reshape(-1, 1, height, width))
        channels, h, w = encoded.shape[1:]
        encoded = encoded.reshape(batch, count, channels, h * w).permute(0, 3, 1, 2).reshape(-1, count, channels)
        base_code = self.encode_base(base.reshape(-1, 1, height, width))
        base_seq = base_code.reshape(batch, length, channels, h * w).permute(0, 3, 1, 2).reshape(-1, length, channels)
        forward = self._run(self.forward_cell, self.forward_feedback, encoded, base_seq, anchor, range(length))
        backward = self._run(self.backward_cell, self.backward_feedback, encoded, base_seq, anchor,
                             range(length - 1, -1, -1))
        states = torch.cat([forward, backward], 2)  # (B·h·w, L, 2·hidden)
        states = states.reshape(batch, h, w, length, -1).permute(0, 3, 4, 1, 2).reshape(batch * length, -1, h, w)
        low = self.low(torch.cat([states, base_code], 1))
        return low.reshape(batch, length, 4, h, w)

    def decode(self, low, base, neighbours):
        """Full-resolution output of thin slices: low (N, 4, h, w), base (N, H, W),
        neighbours (N, 2, H, W) = previous and next acquired slice."""
        up = F.interpolate(low, scale_factor=4, mode="bilinear", align_corners=False)
        up = up[:, :, :base.shape[1], :base.shape[2]]
        residual = self.head(torch.cat([up, base[:, None], neighbours], 1))[:, 0]
        return base + residual

    def forward(self, acquired, base, anchor, previous, following):
        """acquired (B, n, H, W), base (B, L, H, W); anchor, previous, following: (L,) ints
        (observation index read at each thin slice or -1; the acquired slice before and after)."""
        acquired_p, base_p = pad4(acquired), pad4(base)
        low = self.recurrent_features(acquired_p, base_p, anchor)
        batch, length = base.shape[:2]
        neighbours = torch.stack([acquired[:, previous], acquired[:, following]], 2)
        out = self.decode(low.reshape(batch * length, *low.shape[2:]), base.reshape(-1, *base.shape[2:]),
                          neighbours.reshape(-1, 2, *base.shape[2:]))
        return out.reshape(base.shape)


def pad4(images):
    """Zero-pad the last two axes to multiples of 4 (two stride-2 convolutions)."""
    height, width = images.shape[-2:]
    return F.pad(images, (0, (-width) % 4, 0, (-height) % 4))


def neighbour_indices(positions: np.ndarray, length: int):
    """For each thin slice, the index of the last observation at or before it and the first at or
    after it (clamped at the ends)."""
    grid = np.arange(length)
    following = np.clip(np.searchsorted(positions, grid - 1e-6), 0, len(positions) - 1)
    previous = np.clip(np.searchsorted(positions, grid + 1e-6) - 1, 0, len(positions) - 1)
    return previous, following


def build(config: dict) -> SliceImputer:
    model = config["model"]
    return SliceImputer(model["cell"], model["channels"], model["hidden"], model["head"])
