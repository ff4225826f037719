"""Benchmark of missing slices and missing visits (issues 5 and 13), baselines in the same run.

Slices (:mod:`.imputation_slices`): per image domain — MNI152 2 mm and 1 mm, held-out synthetic
EPI-like, T2-like and 0.5 mm — thick and sampled slices at 2×, 4×, 6×, for linear, cubic, GMM,
SRN, LSTM, the self-supervised ablation and ``auto``. Visits (:mod:`.imputation_visits`):
held-out synthetic cohorts and the held-out subjects of alzheimer.csv (blank cells, missed
visits, forecasts), image series, and the 2,000-row table timing. The 256×256×64 timing runs
the CLI (default model, self-supervision included) in a child process.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..progress import Steps
from ..volume import Volume, write_volume
from .common import verdict
from .imputation_slices import slice_benchmark, slice_markdown, slice_targets
from .imputation_visits import cohort_benchmark, series_benchmark, table_timing, visit_markdown, visit_targets


def timing_256(model: str = "auto") -> Dict[str, float]:
    """Wall time of ``medrestore impute-slices --factor 4`` on a 256×256×64 thick-slice volume,
    run as a child process (start-up, tuning, reading and writing included), with its CPU time
    (user + system: what the wall time would be on idle cores, as long as it ran on one) and the
    machine's load average before and after."""
    from .common import sample_resampled

    big = sample_resampled(256)
    thick = big.array.reshape(64, 4, 256, 256).mean(1)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "thick.nrrd", Path(folder) / "thin.nrrd"
        write_volume(Volume(np.clip(thick, 0, 255).astype(np.int16), big.ijk_to_ras), source)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "MedRestoreLib", "impute-slices", str(source), str(target),
                                    "--factor", "4", "--model", model, "--device", "cpu"],
                                   check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"seconds": seconds, "cpu_seconds": cpu, "load_average": load, "load_average_after": os.getloadavg()[0],
                "cpus": os.cpu_count(), "shape_in": [64, 256, 256], "shape_out": [256, 256, 256],
                "said": completed.stdout.strip().splitlines()[-1:]}


def run_imputation_benchmark(volumes: Dict[str, Volume], out: Path, quick: bool, seed: int,
                             steps: Steps, slices: Optional[Dict] = None, visits: Optional[Dict] = None) -> Dict:
    """Both sections; ``slices`` / ``visits``: the slice or visit section of an earlier run
    (``imputation.json``) to reuse instead of measuring it again."""
    factors = (4,) if quick else (2, 4, 6)
    acquisitions = ("thick",) if quick else ("thick", "sampled")
    if slices is not None:
        slices = {"scores": slices["slices"], "choices": slices["slice_choices"], "example": None}
    else:
        slices = slice_benchmark(quick, steps.sub(0.0, 0.7), factors, acquisitions)
    example = slices.pop("example")
    if example:
        from .imputation_figure import save_imputation_figure

        save_imputation_figure(example, out / "imputation.png")
    result = {"slices": slices["scores"], "slice_choices": slices["choices"]}
    keys = ("series", "cohorts", "table_timing", "timing_256x256x64")
    if visits is not None:
        result.update({key: visits[key] for key in keys})
        return result
    first = next(iter(volumes.values()))
    if quick:
        first = Volume(first.array[::2, ::2, ::2], first.ijk_to_ras)
    result["series"] = series_benchmark(first, [seed] if quick else [seed, seed + 1, seed + 2], steps.sub(0.7, 0.8))
    result["cohorts"] = cohort_benchmark(quick, seed, steps.sub(0.8, 0.95))
    result["table_timing"] = None if quick else table_timing()
    result["timing_256x256x64"] = None if quick else timing_256()
    steps.report(1.0, "imputation benchmark done")
    return result


def imputation_targets(result: Dict) -> List[List[str]]:
    rows = slice_targets(result["slices"], verdict) + visit_targets(result["cohorts"], result["table_timing"], verdict)
    if result["timing_256x256x64"]:
        timing = result["timing_256x256x64"]
        rows.append([f"impute-slices 256×256×64 at 4× (auto, self-supervision included; child process, load "
                     f"{timing['load_average']:.1f} on {timing['cpus']} CPUs)", "≤ 30 s",
                     f"{timing['seconds']:.1f} s wall, {timing['cpu_seconds']:.1f} s CPU",
                     verdict(timing["seconds"] <= 30, timing["seconds"] - 30)])
    return rows


def imputation_markdown(result: Dict) -> str:
    lines = slice_markdown(result) + visit_markdown(result)
    if result["timing_256x256x64"]:
        timing = result["timing_256x256x64"]
        lines += [f"impute-slices of a 256×256×64 thick-slice volume at 4× (default auto, child process, load average "
                  f"{timing['load_average']:.1f} → {timing['load_average_after']:.1f} on {timing['cpus']} CPUs): "
                  f"{timing['seconds']:.1f} s wall, {timing['cpu_seconds']:.1f} s CPU; it said "
                  f"`{' '.join(timing['said'])}`", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    """Only this section: ``python -m MedRestoreLib.benchmark.imputation --out DIR [--quick]``
    writes imputation.json, imputation.md and imputation.png (the same numbers ``medrestore
    benchmark`` reports in its imputation section)."""
    import argparse
    import json

    from ..json_output import write_json
    from .common import development_volumes

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-slices", action="store_true", help="measure the slice section only")
    parser.add_argument("--domains", help="with --only-slices: these domains only (comma-separated names)")
    parser.add_argument("--acquisitions", default="thick,sampled", help="with --only-slices: thick, sampled or both")
    parser.add_argument("--slices-from", type=Path, nargs="+", help="reuse the slice sections of earlier runs' "
                        "imputation.json (e.g. made with --only-slices, one per group of domains, merged in "
                        "order) and measure the rest")
    parser.add_argument("--visits-from", type=Path, help="reuse the visit section (series, cohorts, timings) "
                        "of an earlier run's imputation.json")
    parser.add_argument("--write-docs", type=Path, help="also replace the measured section of this page "
                        "(docs/imputation.md) with the tables and targets of this run")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only_slices:
        factors, acquisitions = ((4,), ("thick",)) if args.quick else ((2, 4, 6), tuple(args.acquisitions.split(",")))

        def save(scores, choices):  # after every case: a long run keeps what it measured
            write_json({"slices": scores, "slice_choices": choices}, args.out / "imputation.json")

        slices = slice_benchmark(args.quick, Steps(), factors, acquisitions,
                                 args.domains.split(",") if args.domains else None, save)
        if slices["example"]:
            from .imputation_figure import save_imputation_figure

            save_imputation_figure(slices.pop("example"), args.out / "imputation.png")
        write_json({"slices": slices["scores"], "slice_choices": slices["choices"]}, args.out / "imputation.json")
        return
    previous = None
    for path in args.slices_from or []:
        part = json.loads(path.read_text())
        previous = previous or {"slices": {}, "slice_choices": {}}
        for name, per_acquisition in part["slices"].items():
            previous["slices"].setdefault(name, {}).update(per_acquisition)
        for name, per_acquisition in part["slice_choices"].items():
            previous["slice_choices"].setdefault(name, {}).update(per_acquisition)
    visits = json.loads(args.visits_from.read_text()) if args.visits_from else None
    result = run_imputation_benchmark(development_volumes(args.quick), args.out, args.quick, args.seed, Steps(),
                                      previous, visits)
    result["targets"] = imputation_targets(result)
    write_json(result, args.out / "imputation.json")
    rows = [f"| {' | '.join(row)} |" for row in result["targets"]]
    text = (imputation_markdown(result) + "\n## Targets\n\n| target | goal | measured | verdict |\n|---|---|---|---|\n"
            + "\n".join(rows) + "\n")
    (args.out / "imputation.md").write_text(text)
    if args.write_docs:
        write_docs_section(args.write_docs, text.replace("\n## ", "\n### "))


BEGIN, END = "<!-- benchmark output begins -->", "<!-- benchmark output ends -->"


def write_docs_section(page: Path, text: str) -> None:
    """Replace what lies between the page's BEGIN and END markers with ``text`` (the benchmark's
    own tables, so the page never holds numbers typed by hand)."""
    content = Path(page).read_text()
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{page}: no '{BEGIN}' … '{END}' section to replace")
    head, rest = content.split(BEGIN, 1)
    Path(page).write_text(head + BEGIN + "\n" + text + rest.split(END, 1)[1].join(["\n" + END, ""]))


if __name__ == "__main__":
    main()
