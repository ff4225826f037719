"""The recurrent cells both imputers step by hand: a simple recurrent network (``nn.RNNCell``,
tanh) or an LSTM (``nn.LSTMCell``).

They are stepped one element at a time, not run as ``nn.RNN``/``nn.LSTM`` over the whole
sequence, because at a missing element the cell's input is its own prediction made from the
state just computed (the seed method's feedback rule) — which a fused sequence layer cannot do.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

CELLS = {"lstm": nn.LSTMCell, "srn": nn.RNNCell}


def initial_state(cell: nn.Module, batch: int, like: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """(state, memory) of zeros for ``batch`` sequences; memory is None for an SRN."""
    state = like.new_zeros(batch, cell.hidden_size)
    return state, torch.zeros_like(state) if isinstance(cell, nn.LSTMCell) else None


def advance(cell: nn.Module, inputs: torch.Tensor, state: torch.Tensor,
            memory: Optional[torch.Tensor]) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """One step of either cell: the new (state, memory)."""
    if memory is None:
        return cell(inputs, state), None
    return cell(inputs, (state, memory))
