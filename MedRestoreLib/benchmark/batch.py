"""Batch throughput: the same volumes restored by a shell loop of ``medrestore restore`` calls
and by ``medrestore batch`` with 1 and 2 workers — volumes per minute, and peak memory per
process (the loop) or per worker from its first to its last volume (the batch).

    python -m MedRestoreLib.benchmark.batch --out out/benchmark-batch [--count 32] [--size 96]

The volumes are the bundled sample resampled to ``size``³ (int16), each with mixed defects of its
own seed. Every run is timed end to end from outside, process and cluster start and shutdown
included, with the restore's default settings unless ``--method``/``--detector`` say otherwise.
The batch's outputs are compared voxel for voxel with the loop's.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..json_output import write_json
from .common import child_json, sample_resampled, verdict

SPEED_UP_TARGET = 2.0  # the 2-worker batch against the loop
FLAT_MEMORY = 0.05  # a worker's peak may grow at most this much from its first to its last volume


def make_inputs(folder: Path, count: int, size: int, seed: int) -> List[Path]:
    from ..defects import corrupt
    from ..volume import write_volume

    folder.mkdir(parents=True, exist_ok=True)
    clean = sample_resampled(size)
    clean = clean.with_array(np.clip(np.rint(clean.array), 0, 32767).astype(np.int16))
    paths = []
    for n in range(count):
        damaged, _, _ = corrupt(clean, "mixed", seed=seed + n)
        paths.append(folder / f"scan{n:03d}.nrrd")
        write_volume(damaged, paths[-1])
    return paths


def _medrestore() -> List[str]:
    script = Path(sys.executable).parent / "medrestore"
    return [str(script)] if script.exists() else [sys.executable, "-m", "MedRestoreLib"]


def run_loop(inputs: Path, out: Path, options: List[str]) -> Dict[str, float]:
    """In this (child) process: a bash loop of ``medrestore restore`` calls, one per volume.
    Returns the wall time and the largest peak memory of one call (each call is a new process)."""
    import resource

    out.mkdir(parents=True, exist_ok=True)
    command = " ".join(shlex.quote(part) for part in _medrestore())
    loop = (f'for f in {shlex.quote(str(inputs))}/*.nrrd; do {command} restore "$f" '
            f'{shlex.quote(str(out))}/"$(basename "$f")" --quiet {" ".join(map(shlex.quote, options))} '
            '|| exit 1; done')
    started = time.perf_counter()
    subprocess.run(["bash", "-c", loop], check=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_memory_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def run_batch_command(inputs: Path, out: Path, workers: int, options: List[str]) -> Dict[str, object]:
    """``medrestore batch`` with ``workers`` workers, timed from outside; memory per worker from
    its records (first and last volume it did, in the order they finished)."""
    started = time.perf_counter()
    subprocess.run(_medrestore() + ["batch", str(inputs), str(out), "--workers", str(workers), "--quiet", *options],
                   check=True)
    seconds = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    per_worker: Dict[str, List[float]] = {}
    for record in records:
        per_worker.setdefault(record["worker"], []).append(record["peak_memory_mb"])
    return {"seconds": seconds, "volumes": len(records), "failed": sum(r["status"] != "ok" for r in records),
            "workers": {worker: {"volumes": len(peaks), "first_mb": peaks[0], "last_mb": peaks[-1]}
                        for worker, peaks in per_worker.items()}}


def identical_outputs(first: Path, second: Path) -> int:
    """How many outputs of ``first`` have the same voxels in ``second``."""
    from ..volume import read_volume

    return sum(np.array_equal(read_volume(path).array, read_volume(second / path.name).array)
               for path in sorted(first.glob("*.nrrd")))


def batch_benchmark(out: Path, count: int = 32, size: int = 96, workers=(1, 2), seed: int = 0,
                    device: str = "cpu", restore_options: Optional[List[str]] = None) -> Dict[str, object]:
    options = ["--device", device] + list(restore_options or [])
    inputs = out / "inputs"
    make_inputs(inputs, count, size, seed)
    load = os.getloadavg()  # the machine may be shared: each run records the load around it
    loop = child_json("MedRestoreLib.benchmark.batch", "--loop", str(inputs), str(out / "loop"), "--", *options)
    loop["load_average_1min"] = [round(load[0], 2), round(os.getloadavg()[0], 2)]
    result = {"count": count, "size": size, "options": options, "cpus": os.cpu_count(), "loop": loop, "batch": {}}
    for n in workers:
        load = os.getloadavg()
        run = run_batch_command(inputs, out / f"batch-{n}", n, options)
        run["load_average_1min"] = [round(load[0], 2), round(os.getloadavg()[0], 2)]
        run["identical_to_loop"] = identical_outputs(out / "loop", out / f"batch-{n}")
        result["batch"][str(n)] = run
    return result


def batch_markdown(result: Dict[str, object]) -> str:
    count, loop = result["count"], result["loop"]
    rate = {"loop": 60 * count / loop["seconds"]}
    lines = [f"{count} volumes of {result['size']}³, `medrestore restore` options {' '.join(result['options'])} "
             "(wall time end to end: process and cluster start included)", "",
             f"on {result['cpus']} CPUs; load average (1 min) before → after each run", "",
             "| run | seconds | volumes/min | × loop | peak memory (MB) | outputs identical to the loop | load |",
             "|---|---|---|---|---|---|---|",
             f"| shell loop of `medrestore restore` | {loop['seconds']:.1f} | {rate['loop']:.2f} | 1.00 | "
             f"{loop['peak_memory_mb']:.0f} per process | — | {_load(loop)} |"]
    for workers, run in result["batch"].items():
        rate[workers] = 60 * count / run["seconds"]
        memory = "; ".join(f"{w['first_mb']:.0f} → {w['last_mb']:.0f} ({w['volumes']} vols)"
                           for w in run["workers"].values())
        lines.append(f"| `medrestore batch --workers {workers}` | {run['seconds']:.1f} | {rate[workers]:.2f} | "
                     f"{rate[workers] / rate['loop']:.2f} | per worker, first → last: {memory} | "
                     f"{run['identical_to_loop']}/{count} | {_load(run)} |")
    lines += ["", "| target | goal | measured | verdict |", "|---|---|---|---|"]
    if "2" in result["batch"]:
        speed_up = rate["2"] / rate["loop"]
        lines.append(f"| 2-worker batch vs the loop | ≥ {SPEED_UP_TARGET:.1f}× | {speed_up:.2f}× | "
                     f"{verdict(speed_up >= SPEED_UP_TARGET, speed_up - SPEED_UP_TARGET)} |")
    growth = max(w["last_mb"] / w["first_mb"] - 1 for run in result["batch"].values() for w in run["workers"].values())
    lines.append(f"| worker memory, first → last volume | ≤ +{100 * FLAT_MEMORY:.0f} % | {100 * growth:+.1f} % | "
                 f"{verdict(growth <= FLAT_MEMORY, 100 * (FLAT_MEMORY - growth))} |")
    return "\n".join(lines) + "\n"


def _load(run: Dict[str, object]) -> str:
    before, after = run.get("load_average_1min", (float("nan"), float("nan")))
    return f"{before:.1f} → {after:.1f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m MedRestoreLib.benchmark.batch",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="output folder (created): inputs, outputs, batch.json, batch.md")
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--method", help="fill method (default: restore's)")
    parser.add_argument("--detector", help="detector (default: restore's)")
    parser.add_argument("--loop", nargs=2, type=Path, metavar=("INPUTS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("loop_options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.loop:  # the child that runs the shell loop (its children's peak memory is its own)
        print(json.dumps(run_loop(*args.loop, [o for o in args.loop_options if o != "--"])))
        return
    if args.out is None:
        parser.error("--out is required")
    options = [item for flag, value in (("--method", args.method), ("--detector", args.detector)) if value
               for item in (flag, value)]
    result = batch_benchmark(args.out, args.count, args.size, [int(n) for n in args.workers.split(",")], args.seed,
                             args.device, options)
    write_json(result, args.out / "batch.json")
    (args.out / "batch.md").write_text(batch_markdown(result))
    print((args.out / "batch.md").read_text())


if __name__ == "__main__":
    main()
