"""Time and peak memory of one fill, measured in a child process (as :mod:`.timing` does for
detection, whose peak-memory reading it shares).

    python -m MedRestoreLib.benchmark.fill_timing VOLUME MASK --method gan --device cpu

The child reads the volume and the mask, fills once (model loading included in memory, not in
seconds) and prints JSON: seconds, peak resident memory in GB, defect voxels.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Dict

from ..memory import peak_memory_kb
from .common import child_json


def measure_fill(volume_path: Path, mask_path: Path, method: str, device: str) -> Dict[str, float]:
    return child_json("MedRestoreLib.benchmark.fill_timing", str(volume_path), str(mask_path),
                      "--method", method, "--device", device)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("volume")
    parser.add_argument("mask")
    parser.add_argument("--method", default="gan")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    import numpy as np

    from ..inpainting import filler_for
    from ..inpainting.gan_filler import gan_fill, load_gan
    from ..options import FillOptions
    from ..volume import read_volume

    volume, mask = read_volume(args.volume), read_volume(args.mask).array != 0
    if args.method == "gan":
        model = load_gan(device=args.device)  # loading is not filling: outside the clock
        fill = lambda array, defects: gan_fill(array, defects, model=model)  # noqa: E731
    else:  # learned candidates (auto, unet) loaded now, outside the clock, as a batch worker holds them
        from ..models.loaded import LoadedModels

        fill = filler_for(FillOptions(method=args.method), args.device, models=LoadedModels())
    started = time.perf_counter()
    fill(volume.array.astype(np.float64), mask)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_memory_gb": peak_memory_kb() / 1e6, "shape": list(volume.shape),
                      "defect_voxels": int(mask.sum()), "defect_percent": float(100 * mask.mean()),
                      "method": args.method}))


if __name__ == "__main__":
    main()
