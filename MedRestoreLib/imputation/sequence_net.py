"""The recurrent sequence imputer: a univariate SRN or LSTM run both ways along time.

Each step reads (value, acquired flag, time since the neighbouring step, the piecewise-linear
interpolation between the neighbouring acquired values); at a missing step the cell reads its own
prediction of the value, made from its previous state (the seed method's feedback rule), in each
direction. A small head maps both directions' states at a step to a correction of the
interpolation there (beyond the last acquired value the interpolation is that value, so the
forecast's trend comes from the network). Univariate, so the same network serves every column
of a table and every feature of an image series; values are standardised by the caller.

Shapes: values, acquired, gaps, interpolated (B, T) float tensors (gaps in units of the typical
interval).
"""
from __future__ import annotations

import torch
from torch import nn

from .feedback_cells import CELLS, advance, initial_state


class SequenceImputer(nn.Module):
    def __init__(self, cell: str = "lstm", hidden: int = 32):
        super().__init__()
        self.cell_kind = cell
        self.forward_cell = CELLS[cell](4, hidden)
        self.backward_cell = CELLS[cell](4, hidden)
        self.forward_feedback = nn.Linear(hidden, 1)
        self.backward_feedback = nn.Linear(hidden, 1)
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def _run(self, cell, feedback, values, acquired, gaps, interpolated, order):
        state, memory = initial_state(cell, values.shape[0], values)
        outputs = [None] * values.shape[1]
        for t in order:
            reading = torch.where(acquired[:, t] > 0, values[:, t], feedback(state)[:, 0])
            inputs = torch.stack([reading, acquired[:, t], gaps[:, t], interpolated[:, t]], 1)
            state, memory = advance(cell, inputs, state, memory)
            outputs[t] = state
        return torch.stack(outputs, 1)

    def forward(self, values, acquired, gaps, interpolated):
        """Predicted values (B, T); ``gaps[:, t]`` is the time from step t-1 to t (0 at t = 0)."""
        length = values.shape[1]
        values = torch.where(acquired > 0, values, torch.zeros_like(values))
        forward = self._run(self.forward_cell, self.forward_feedback, values, acquired, gaps, interpolated,
                            range(length))
        after = torch.cat([gaps[:, 1:], torch.zeros_like(gaps[:, :1])], 1)
        backward = self._run(self.backward_cell, self.backward_feedback, values, acquired, after,
                             interpolated, range(length - 1, -1, -1))
        return interpolated + self.head(torch.cat([forward, backward], 2))[..., 0]


def interpolate_gaps(times, values, acquired):
    """Piecewise-linear interpolation (numpy, (B, T)) through the acquired values of each row;
    the nearest acquired value beyond the first and last."""
    import numpy as np

    result = np.empty(values.shape, dtype=np.float64)
    for row in range(values.shape[0]):
        known = acquired[row] > 0
        result[row] = np.interp(times[row], times[row][known], values[row][known])
    return result


def build(config: dict) -> SequenceImputer:
    return SequenceImputer(config["model"]["cell"], config["model"]["hidden"])
