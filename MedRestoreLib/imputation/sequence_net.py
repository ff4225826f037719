"""The recurrent visit imputer: an SRN or LSTM run both ways along each subject's visits, one
sequence per (subject, score), that predicts the residual from the subject's own linear trend.

Each step reads the residual of the score at that visit — or, where the value is missing, its
own prediction of it made from its previous state (the seed method's feedback rule) — an
acquired flag, and the table-derived inputs of :mod:`.visit_features` (the subject's trend, the
score's population trend, the estimate from the other scores observed at that visit, the time
gaps to the neighbouring visits, how many values the subject has and how noisy they are). A small
head maps both directions' states (and the step's inputs) to the residual. Padding steps
(``valid`` False) leave the state unchanged, so subjects of any length share one batch.

Shapes: residual, acquired, valid (N, T); features (N, T, FEATURES); output (N, T).
"""
from __future__ import annotations

import torch
from torch import nn

from .feedback_cells import CELLS, advance, initial_state
from .visit_features import FEATURES


class SequenceImputer(nn.Module):
    def __init__(self, cell: str = "lstm", hidden: int = 48, features: int = FEATURES):
        super().__init__()
        self.cell_kind = cell
        self.forward_cell = CELLS[cell](features + 2, hidden)
        self.backward_cell = CELLS[cell](features + 2, hidden)
        self.forward_feedback = nn.Linear(hidden, 1)
        self.backward_feedback = nn.Linear(hidden, 1)
        self.head = nn.Sequential(nn.Linear(2 * hidden + features, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def _run(self, cell, feedback, residual, acquired, features, valid, order):
        state, memory = initial_state(cell, residual.shape[0], residual)
        outputs = [None] * residual.shape[1]
        for t in order:
            reading = torch.where(acquired[:, t] > 0, residual[:, t], feedback(state)[:, 0])
            inputs = torch.cat([reading[:, None], acquired[:, t, None], features[:, t]], 1)
            new_state, new_memory = advance(cell, inputs, state, memory)
            keep = valid[:, t, None] > 0
            state = torch.where(keep, new_state, state)
            memory = None if memory is None else torch.where(keep, new_memory, memory)
            outputs[t] = state
        return torch.stack(outputs, 1)

    def forward(self, residual, acquired, features, valid):
        """Predicted residual from the subject's trend at every step (N, T)."""
        length = residual.shape[1]
        residual = torch.where(acquired > 0, residual, torch.zeros_like(residual))
        forward = self._run(self.forward_cell, self.forward_feedback, residual, acquired, features, valid,
                            range(length))
        backward = self._run(self.backward_cell, self.backward_feedback, residual, acquired, features, valid,
                             range(length - 1, -1, -1))
        return self.head(torch.cat([forward, backward, features], 2))[..., 0]


def build(config: dict) -> SequenceImputer:
    return SequenceImputer(config["model"]["cell"], config["model"]["hidden"])
