"""Time and peak memory of detection on a 256³ volume, measured in a child process.

    python -m MedRestoreLib.benchmark.timing VOLUME --method lstm --device cpu

The child reads the volume, runs the detector once, and prints JSON with the wall time and its
own peak resident memory (reading the volume included), so the benchmark's own memory does not
count.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict

from ..memory import peak_memory_kb
from .common import child_json


def measure(volume_path: Path, method: str, device: str) -> Dict[str, float]:
    """Run the child; returns its seconds and peak memory in GB."""
    return child_json("MedRestoreLib.benchmark.timing", str(volume_path), "--method", method, "--device", device)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("volume")
    parser.add_argument("--method", default="lstm")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    from ..options import DetectOptions
    from ..pipeline import detect
    from ..volume import read_volume

    volume = read_volume(args.volume)
    started = time.perf_counter()
    mask, _ = detect(volume, DetectOptions(method=args.method), device=args.device)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_memory_gb": peak_memory_kb() / 1e6, "shape": list(volume.shape),
                      "flagged": int(mask.array.sum()), "method": args.method}))


if __name__ == "__main__":
    main()
