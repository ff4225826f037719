"""Choosing where torch work runs: ``auto`` takes CUDA when torch sees a GPU, else the CPU."""
from __future__ import annotations

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
