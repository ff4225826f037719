"""The one training loop every trainer runs: steps, the optimiser step, checkpoints, resume,
time limits, progress lines — on one process or under torchrun (:mod:`.distributed`).

A trainer builds its networks and optimisers, hands them to :class:`TrainingLoop` as ``parts``
(everything with a ``state_dict`` that a checkpoint must hold), and gives :meth:`TrainingLoop.run`
a function that takes one step and returns the step's losses by name:

    loop = TrainingLoop(out, {"model": model, "optimiser": optimiser}, LoopSettings.from_config(config["train"]),
                        start(device), "slice-imputer")
    def one_step(step):
        loss = ...  # draw a batch with loop.rng
        optimise(optimiser, loss, model.parameters(), loop.distributed)
        return {"mse": float(loss)}
    result = loop.run(one_step, resume=args.resume)

Every checkpoint records the SHA-256 of each rank's weights (``rank_weights_sha256``), and the
run stops with an error if the ranks ever disagree.

Resuming (``--resume``) restores the parts, the step, the time spent and every rank's random
generators, so a resumed run takes exactly the steps the uninterrupted run would have. With
another world size than the checkpoint's, each rank's generators are seeded anew from (seed,
rank, step): the run continues, but its data stream differs from an uninterrupted one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import numpy as np
import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import Distributed, weights_digest


@dataclass
class LoopSettings:
    """When a run stops and checkpoints (the ``train`` section of a config).

    Attributes:
        steps: length of the run (learning-rate schedules span it).
        checkpoint_every: steps between checkpoints (and progress lines).
        stop_after_steps: stop earlier than ``steps`` (how a time-bounded run is replayed).
        max_seconds: stop when this much training time has passed (resumed runs count from
            their checkpoint's time).
        seed: seeds each rank's NumPy generator (with the rank) and torch's.
    """

    steps: int
    checkpoint_every: int = 500
    stop_after_steps: Optional[int] = None
    max_seconds: Optional[float] = None
    seed: int = 0

    @classmethod
    def from_config(cls, train: dict) -> "LoopSettings":
        return cls(int(train["steps"]), int(train.get("checkpoint_every", 500)), train.get("stop_after_steps"),
                   train.get("max_seconds"), int(train.get("seed", 0)))

    @property
    def last_step(self) -> int:
        return int(self.stop_after_steps) if self.stop_after_steps is not None else self.steps


@dataclass
class LoopResult:
    steps_done: int
    seconds: float  # wall-clock training time, resumed runs included
    cpu_seconds: float  # this process's CPU time (all threads), resumed runs included


def optimise(optimiser, loss: torch.Tensor, parameters: Iterable[torch.nn.Parameter],
             distributed: Distributed, clip: Optional[float] = 1.0) -> None:
    """One optimiser step: gradients of ``loss``, averaged over ranks, clipped to norm ``clip``."""
    parameters = list(parameters)
    optimiser.zero_grad()
    loss.backward()
    distributed.average_gradients(parameters)
    if clip:
        torch.nn.utils.clip_grad_norm_(parameters, clip)
    optimiser.step()


class TrainingLoop:
    """Runs steps, checkpoints to ``out/checkpoint.pt`` (rank 0 only) and resumes from it.

    Attributes:
        rng: this rank's NumPy generator; draw every random choice of the data from it.
        distributed: the process group (a single process when not under torchrun).
    """

    def __init__(self, out: Path, parts: Dict[str, object], settings: LoopSettings, distributed: Distributed,
                 name: str, log: Callable[[str], None] = print):
        self.out, self.parts, self.settings, self.distributed, self.name = Path(out), parts, settings, distributed, name
        self.rng = np.random.default_rng([settings.seed, distributed.rank])
        torch.manual_seed(settings.seed + distributed.rank)
        self._log = log
        self.checkpoint = self.out / "checkpoint.pt"

    def log(self, message: str) -> None:
        if self.distributed.is_main:
            self._log(message)

    def run(self, step_function: Callable[[int], Dict[str, float]], resume: bool = False,
            after_step: Optional[Callable[[int], None]] = None) -> LoopResult:
        """Call ``step_function(step)`` until the last step or the time limit; checkpoint on the way.

        Args:
            step_function: takes one step (numbered from 0), returns its losses by name.
            resume: continue from ``out/checkpoint.pt`` when it exists.
            after_step: called with the number of steps done after each step (e.g. snapshots).
        """
        self.out.mkdir(parents=True, exist_ok=True)
        step, seconds_before, cpu_before = self._resume() if resume and self.checkpoint.exists() else (0, 0.0, 0.0)
        started, cpu_started = time.time(), time.process_time()
        running: Dict[str, List[float]] = {}

        def elapsed():
            return seconds_before + time.time() - started, cpu_before + time.process_time() - cpu_started

        last, saved = self.settings.last_step, None
        while step < last:
            if self.distributed.any(bool(self.settings.max_seconds) and elapsed()[0] > self.settings.max_seconds):
                self.log(f"stopping at step {step}: max_seconds {self.settings.max_seconds} reached")
                break
            for key, value in step_function(step).items():
                running.setdefault(key, []).append(float(value))
            step += 1
            if after_step is not None:
                after_step(step)
            if step % self.settings.checkpoint_every == 0 or step == last:
                self._save(step, *elapsed())
                saved = step
                summary = " ".join(f"{key} {np.mean(values):.5g}" for key, values in running.items())
                self.log(f"{self.name} step {step}/{self.settings.steps} {summary} {elapsed()[0]:.0f} s")
                running = {}
        if saved != step:  # stopped by the time limit between two checkpoints
            self._save(step, *elapsed())
        return LoopResult(step, *elapsed())

    def _save(self, step: int, seconds: float, cpu_seconds: float) -> None:
        networks = {name: part.state_dict() for name, part in self.parts.items() if isinstance(part, torch.nn.Module)}
        states = self.distributed.gather((self.rng.bit_generator.state, torch.get_rng_state(),
                                          weights_digest(networks)))
        if self.distributed.is_main:
            digests = [state[2] for state in states]
            if len(set(digests)) > 1:  # averaged gradients keep ranks equal; anything else is a bug
                raise RuntimeError(f"{self.name}: the ranks hold different weights at step {step} "
                                   f"(SHA-256 per rank: {digests})")
            temporary = self.checkpoint.with_suffix(".partial")
            save_checkpoint(temporary, self.parts, self.rng, step=step, seconds=seconds, cpu_seconds=cpu_seconds,
                            rank_states=[state[:2] for state in states], world_size=self.distributed.world_size,
                            rank_weights_sha256=digests)
            temporary.replace(self.checkpoint)  # a run killed while saving keeps its previous checkpoint
        self.distributed.barrier()

    def _resume(self):
        progress = load_checkpoint(self.checkpoint, self.parts, self.rng)
        step = int(progress["step"])
        states = progress.get("rank_states") or []
        if len(states) == self.distributed.world_size:
            self.rng.bit_generator.state, torch_state = states[self.distributed.rank]
            torch.set_rng_state(torch_state)
        else:  # another world size: fresh streams per rank, keyed by the step they start at
            self.rng = np.random.default_rng([self.settings.seed, self.distributed.rank, step])
            torch.manual_seed(self.settings.seed + 1000 * step + self.distributed.rank)
        self.log(f"{self.name}: resumed at step {step}")
        return step, float(progress.get("seconds", 0.0)), float(progress.get("cpu_seconds", 0.0))
