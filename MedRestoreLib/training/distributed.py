"""Training on several processes with ``torch.distributed``: every trainer runs unchanged under

    torchrun --standalone --nproc_per_node=N -m MedRestoreLib train TARGET --config ... --out ...

(gloo on the CPU, nccl on CUDA). Each rank draws its own data stream (seeded by seed and rank),
gradients are averaged over ranks after every backward pass, only rank 0 writes checkpoints and
run folders, and all ranks stop at the same step.

Gradients are averaged by hand (one ``all_reduce`` per parameter) rather than by wrapping the
networks in ``DistributedDataParallel``: the GAN critic's R1 penalty differentiates through a
gradient (``create_graph=True``), which DDP does not support, and the same small mechanism then
serves every trainer. Without torchrun (no ``WORLD_SIZE`` in the environment) everything here is
a no-op on a single process.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Dict, Iterable, List

import torch


@dataclass
class Distributed:
    """This process's place in the run: ``rank`` of ``world_size``; ``device`` it trains on."""

    rank: int = 0
    world_size: int = 1
    device: str = "cpu"

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints progress."""
        return self.rank == 0

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Replace each gradient by its mean over ranks (a missing gradient counts as zero)."""
        if not self.active:
            return
        for parameter in parameters:
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
            torch.distributed.all_reduce(parameter.grad, op=torch.distributed.ReduceOp.SUM)
            parameter.grad /= self.world_size

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        """Give every rank rank 0's weights (and buffers)."""
        if not self.active:
            return
        for tensor in list(module.parameters()) + list(module.buffers()):
            torch.distributed.broadcast(tensor.data, src=0)

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on at least one (e.g. a time limit reached)."""
        if not self.active:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return bool(value.item() > 0)

    def gather(self, item) -> List:
        """Rank 0 receives every rank's ``item`` (a picklable object) in rank order; others get []."""
        if not self.active:
            return [item]
        items = [None] * self.world_size if self.is_main else None
        torch.distributed.gather_object(item, items, dst=0)
        return items if self.is_main else []

    def scatter(self, items: List):
        """Each rank receives its own entry of rank 0's ``items`` (one per rank)."""
        if not self.active:
            return items[0]
        received = [None]
        torch.distributed.scatter_object_list(received, items if self.is_main else None, src=0)
        return received[0]

    def barrier(self) -> None:
        if self.active:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.active and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def weights_digest(states: Dict[str, Dict[str, torch.Tensor]]) -> str:
    """SHA-256 of networks' state dicts (name → state dict), in a fixed order: equal on every
    rank exactly when every rank holds the same weights, bit for bit."""
    digest = hashlib.sha256()
    for name in sorted(states):
        for key, tensor in sorted(states[name].items()):
            digest.update(f"{name}.{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def start(device: str) -> Distributed:
    """Join the process group torchrun describes in the environment, or run alone.

    Args:
        device: "cpu" or "cuda" (as resolved by :func:`MedRestoreLib.devices.resolve_device`);
            under torchrun on CUDA each rank takes the GPU of its ``LOCAL_RANK``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(0, 1, device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        device = f"cuda:{local_rank}"
        torch.cuda.set_device(local_rank)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return Distributed(rank, world_size, device)
