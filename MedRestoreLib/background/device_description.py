"""What the panel says about where the work can run: the GPUs torch sees, with their memory,
and why there is none ("GPU not found" is the first complaint about AI extensions in Slicer).

The panel never imports torch itself: asking torch about CUDA creates a CUDA context that holds
a few hundred MB of GPU memory for the rest of the Slicer session and freezes the panel while
torch loads. It runs ``python -m MedRestoreLib.background.device_description --json`` in a
child process instead (the same runner as a restore) and shows :func:`summary_from_json` of what
it printed.

Example (a terminal):
    $ python -m MedRestoreLib.background.device_description
    GPU 0: NVIDIA H100 80GB HBM3, 79.1 GB (78.6 GB free) · CPU: 16 cores, 125.8 GB
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from typing import Iterable, List, Optional

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


def to_json(devices: List[DeviceDescription], torch_module=None) -> str:
    """One JSON line: the devices and the panel's summary (``medrestore devices --json``)."""
    return json.dumps({"devices": [asdict(device) for device in devices],
                       "summary": summary(devices, torch_module)})


def summary_from_json(lines: Iterable[str]) -> Optional[str]:
    """The summary in a child's output (other lines, warnings say, are skipped); None if absent."""
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("summary"), str):
            return value["summary"]
    return None


def main(argv: Optional[List[str]] = None) -> int:
    """Print the summary, or with ``--json`` one JSON line of devices and summary."""
    arguments = sys.argv[1:] if argv is None else argv
    devices = describe_devices()
    print(to_json(devices) if "--json" in arguments else summary(devices), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
