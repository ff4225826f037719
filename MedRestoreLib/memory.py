"""This process's peak memory, as the benchmark's timing children and the batch workers report it."""
from __future__ import annotations


def peak_memory_kb() -> int:
    """This process's peak resident memory. VmHWM belongs to the address space made at exec;
    ru_maxrss would also count the parent's memory copied at fork (Linux keeps it across exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows: no resource module; psutil (a Dask dependency) has the peak working set
        import psutil

        return int(getattr(psutil.Process().memory_info(), "peak_wset", 0)) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux (bytes on macOS); a fallback
