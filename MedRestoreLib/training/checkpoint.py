"""Resumable training: one checkpoint file and one command line shared by every trainer.

A checkpoint holds a run's networks, optimisers and schedules (anything with ``state_dict``),
its NumPy and torch random generators, and how far it got (step, seconds, …), so ``--resume``
continues the same run — same data stream, same learning-rate schedule — where it stopped.
It is the trainer's own file, read with ``weights_only=False``; shipped weights never are.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch

from .fetch_data import default_cache


def save_checkpoint(path: Path, parts: Dict[str, object], rng: np.random.Generator, **progress) -> None:
    """Write ``parts`` (name → object with ``state_dict``), both random generators and
    ``progress`` (e.g. ``step=…, seconds=…``) to ``path``."""
    torch.save(dict({name: part.state_dict() for name, part in parts.items()},
                    rng=rng.bit_generator.state, torch_rng=torch.get_rng_state(), **progress), path)


def load_checkpoint(path: Path, parts: Dict[str, object], rng: np.random.Generator) -> dict:
    """Restore ``parts`` and both random generators from ``path``; return the saved progress.

    Loaded on the CPU: modules and optimisers move the values to their own device, and torch's
    generator state must be a CPU tensor."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    for name, part in parts.items():
        part.load_state_dict(state[name])
    rng.bit_generator.state = state["rng"]
    torch.set_rng_state(state["torch_rng"])
    return {key: value for key, value in state.items() if key not in parts and key not in ("rng", "torch_rng")}


def trainer_parser(target: str, description: str) -> argparse.ArgumentParser:
    """``medrestore train TARGET``'s options common to every trainer: --config, --out, --cache,
    --resume, --device."""
    parser = argparse.ArgumentParser(prog=f"medrestore train {target}", description=description)
    parser.add_argument("--config", type=Path, required=True, help="the training config (seed, data, steps)")
    parser.add_argument("--out", type=Path, required=True, help="run folder: checkpoint, weights, metadata")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="data cache (make data)")
    parser.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="where to train (auto: CUDA when available); under torchrun, one GPU per rank")
    return parser


def report(metadata: Optional[dict]) -> None:
    """Print a finished run's metadata (rank 0 only: other ranks of a distributed run get None)."""
    if metadata is not None:
        print(json.dumps(metadata, indent=2))
