"""What to do when the GPU runs out of memory: retry with smaller tiles, then on the CPU, and say so.

Out-of-memory crashes are one of the most reported failures of AI extensions in Slicer. Torch
raises ``torch.cuda.OutOfMemoryError`` (an alias of ``torch.OutOfMemoryError``) and leaves the
process usable, so the work can be run again with half the tile (slab) size, down to
``min_tile``, and finally on the CPU, where memory is larger and slower.

Example:
    >>> result, attempt = run_with_oom_fallback(
    ...     lambda device, tile: predict(volume, device=device, slab=tile), "cuda", tile=8,
    ...     notify=print)
    >>> attempt.device, attempt.tile, attempt.fell_back
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    """One try of the work: where it ran and with which tile size."""

    device: str
    tile: int
    fell_back: bool = False  # True after an out-of-memory error on an earlier attempt

    def describe(self) -> str:
        return f"{self.device} with tiles of {self.tile}"


def fallback_plan(device: str, tile: int, min_tile: int = 1) -> List[Attempt]:
    """The attempts in order: the asked device and tile; on CUDA, halved tiles, then the CPU."""
    if tile < 1:
        raise ValueError(f"tile must be ≥ 1, got {tile}")
    plan = [Attempt(device, tile)]
    if device != "cuda":
        return plan
    smaller = tile // 2
    while smaller >= max(min_tile, 1):
        plan.append(Attempt("cuda", smaller, True))
        smaller //= 2
    plan.append(Attempt("cpu", tile, True))
    return plan


def out_of_memory_errors() -> Tuple[type, ...]:
    """The exception classes torch raises when a device runs out of memory (empty without torch)."""
    try:
        import torch
    except ImportError:
        return ()
    return tuple({getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None)}
                 - {None})


def _release_cuda_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # what the failed try held would otherwise stay reserved
    except ImportError:
        pass


def run_with_oom_fallback(work: Callable[[str, int], T], device: str, tile: int,
                          notify: Optional[Callable[[str], None]] = None,
                          min_tile: int = 1) -> Tuple[T, Attempt]:
    """Run ``work(device, tile)``, retrying on out-of-memory errors as :func:`fallback_plan` says.

    Args:
        work: does the job on a device ("cuda" or "cpu") with a tile size (slices per slab).
        device: where to try first.
        tile: the tile size to try first.
        notify: told, in one sentence, each time the plan moves on (shown to the user).
        min_tile: the smallest tile tried on the GPU before moving to the CPU.

    Returns:
        (what ``work`` returned, the :class:`Attempt` that succeeded).

    Raises:
        The out-of-memory error of the last attempt (the CPU's), and any other error at once.
    """
    errors = out_of_memory_errors()
    plan = fallback_plan(device, tile, min_tile)
    for number, attempt in enumerate(plan):
        try:
            return work(attempt.device, attempt.tile), attempt
        except errors as error:  # an empty tuple catches nothing: other errors pass through
            if number + 1 == len(plan):
                raise
            _release_cuda_cache()
            following = plan[number + 1]
            if notify is not None:
                where = "on the CPU" if following.device == "cpu" else f"with tiles of {following.tile}"
                notify(f"{attempt.device.upper()} ran out of memory with tiles of {attempt.tile} "
                       f"({str(error).splitlines()[0][:80]}); retrying {where}")
    raise AssertionError("unreachable: the plan always has an attempt")
