"""What the panel says about where the work can run: the GPUs torch sees, with their memory,
and why there is none ("GPU not found" is the first complaint about AI extensions in Slicer).

Example (Slicer Python console):
    >>> from MedRestoreLib.background.device_description import describe_devices, summary
    >>> print(summary(describe_devices()))
    GPU 0: NVIDIA H100 80GB HBM3, 79.1 GB (78.6 GB free) · CPU: 16 cores, 125.8 GB
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional

GB = 1024 ** 3


@dataclass
class DeviceDescription:
    """One device: ``kind`` "cuda" or "cpu", with its torch name and memory in GiB."""

    kind: str
    name: str  # "cuda:0" or "cpu"
    label: str  # the GPU's product name, or "CPU: 16 cores"
    memory_total_gb: Optional[float] = None
    memory_free_gb: Optional[float] = None

    def describe(self) -> str:
        if self.kind == "cpu":
            memory = f", {self.memory_total_gb:.1f} GB" if self.memory_total_gb else ""
            return f"{self.label}{memory}"
        free = f" ({self.memory_free_gb:.1f} GB free)" if self.memory_free_gb is not None else ""
        return f"GPU {self.name.split(':')[-1]}: {self.label}, {self.memory_total_gb:.1f} GB{free}"


def _cpu_memory_gb() -> Optional[float]:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    except (AttributeError, ValueError, OSError):
        return None  # Windows has no sysconf; the CPU line then shows cores only


def describe_devices(torch_module=None) -> List[DeviceDescription]:
    """The CUDA devices torch sees (none without torch or without a GPU), then the CPU."""
    devices: List[DeviceDescription] = []
    torch = torch_module
    if torch is None:
        try:
            import torch
        except (ImportError, OSError):  # OSError: a broken install (a missing shared library)
            torch = None
    if torch is not None and torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            try:
                free, _ = torch.cuda.mem_get_info(index)
                free_gb = free / GB
            except RuntimeError:
                free_gb = None
            devices.append(DeviceDescription("cuda", f"cuda:{index}", properties.name,
                                             properties.total_memory / GB, free_gb))
    devices.append(DeviceDescription("cpu", "cpu", f"CPU: {os.cpu_count() or 1} cores", _cpu_memory_gb()))
    return devices


def why_no_gpu(torch_module=None) -> str:
    """One sentence on why no GPU is offered ("" when there is one)."""
    torch = torch_module
    if torch is None:
        try:
            import torch
        except ImportError:
            return "torch is not installed (in Slicer: install the PyTorch extension)"
        except OSError as error:
            return f"torch is installed but does not load ({str(error)[:80]}); reinstall it from PyTorch Util"
    if torch.cuda.is_available():
        return ""
    if torch.version.cuda is None:
        return (f"torch {torch.__version__} is a CPU-only build; in Slicer, reinstall torch from the "
                "PyTorch Util module with a CUDA build to use a GPU")
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no usable GPU or driver"


def summary(devices: List[DeviceDescription], torch_module=None) -> str:
    """One line for the panel: every device, and the reason when there is no GPU."""
    text = " · ".join(device.describe() for device in devices)
    if not any(device.kind == "cuda" for device in devices):
        reason = why_no_gpu(torch_module)
        text = f"No GPU: {reason}. {text}" if reason else text
    return text
