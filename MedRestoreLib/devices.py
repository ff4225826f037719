"""Choosing where torch work runs: ``auto`` takes CUDA when torch sees a GPU, else the CPU."""
from __future__ import annotations

from contextlib import contextmanager

from .errors import InputError
from .options import Device


def resolve_device(device="auto") -> str:
    """Return ``"cuda"`` or ``"cpu"`` for a requested :class:`Device`.

    Raises:
        InputError: CUDA was asked for and torch finds no usable GPU (the CPU build of torch,
            no driver, or no device), so the user learns why instead of a slow silent fallback.
    """
    device = Device(device)
    if device == Device.CPU:
        return "cpu"
    try:
        import torch
    except ImportError:
        # The classical methods run without torch (a fresh Slicer before the PyTorch extension
        # installed it): "auto" is then the CPU; "cuda" cannot be had.
        if device == Device.CUDA:
            raise InputError("--device cuda was asked for, but torch is not installed") from None
        return "cpu"

    available = torch.cuda.is_available()
    if device == Device.CUDA and not available:
        build = "a CPU-only build of torch" if torch.version.cuda is None else "no usable GPU"
        raise InputError(f"--device cuda was asked for, but torch {torch.__version__} has {build}")
    return "cuda" if available else "cpu"


@contextmanager
def idle_cpu_threads():
    """Run torch CPU work on as many threads as the machine has idle cores (at least one, at
    most torch's setting), restoring torch's setting after. On a busy machine torch's OpenMP
    threads otherwise wait on each other: measured here (2 cores, load average 10), the slice
    network took 8.8 s on 2 threads and 0.75 s on 1."""
    import os

    import torch

    before = torch.get_num_threads()
    try:
        idle = int((os.cpu_count() or 1) - os.getloadavg()[0] + 0.5)
    except OSError:  # no load average on this platform
        idle = before
    torch.set_num_threads(max(1, min(before, idle)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
