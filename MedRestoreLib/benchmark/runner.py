"""``medrestore benchmark``: every reported number, measured from a seed, baselines in the same run.

Development volumes (never trained on): the bundled MNI152 2009a sample (2 mm) and, unless
``--quick``, MNI152 2009a T1 at 1 mm from the data cache. Writes ``benchmark.json``,
``benchmark.md`` (tables and the targets with their gaps), ``detection.png`` and
``inpainting.png`` (fills beside the baselines).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..covariance import benchmark_column_covariance
from ..defects import corrupt
from ..errors import InputError
from ..json_output import write_json
from ..metrics import psnr
from ..options import RestoreOptions
from ..pipeline import restore
from ..progress import ProgressCallback, Steps
from ..volume import Volume, write_volume
from .common import development_volumes, sample_256, verdict
from .detection import F1_TARGETS, detection_benchmark, detection_markdown, save_detection_figure
from .imputation import imputation_markdown, imputation_targets, run_imputation_benchmark
from .inpainting import filling_timing, inpainting_benchmark
from .inpainting_report import filling_markdown, filling_targets, save_filling_figure
from .timing import measure


def blind_restore_gain(volumes: Dict[str, Volume], seeds: List[int], steps: Steps) -> Dict[str, float]:
    """Whole-volume PSNR of blind restores on mixed defects: default detector vs median/MAD,
    both filling with 3-D biharmonic; and the share of a clean volume that restore changes."""
    default, baseline, damaged_psnr = [], [], []
    runs = [(v, s) for v in volumes.values() for s in seeds]
    fill = {"method": "biharmonic3d"}  # the same classical fill for both: this compares detectors
    for n, (volume, seed) in enumerate(runs):
        damaged, _, _ = corrupt(volume, "mixed", seed=seed)
        default.append(psnr(volume.array, restore(damaged, RestoreOptions.from_dict({"fill": fill})).volume.array))
        options = RestoreOptions.from_dict({"detect": {"method": "median-mad"}, "fill": fill})
        baseline.append(psnr(volume.array, restore(damaged, options).volume.array))
        damaged_psnr.append(psnr(volume.array, damaged.array))
        steps.report((n + 1) / (len(runs) + 1), "blind restores")
    changed = [float(np.mean(restore(v).volume.array != v.array)) * 100 for v in volumes.values()]
    steps.report(1.0, "clean restores")
    return {"psnr_damaged": float(np.mean(damaged_psnr)), "psnr_lstm_biharmonic3d": float(np.mean(default)),
            "psnr_median_mad_biharmonic3d": float(np.mean(baseline)),
            "gain_db": float(np.mean(default) - np.mean(baseline)),
            "clean_changed_percent": float(np.mean(changed))}


def timing_256(device: str) -> Dict[str, Dict[str, float]]:
    """Detection time and peak memory on the bundled sample resampled to 256³ with mixed defects."""
    damaged, _, _ = corrupt(sample_256(), "mixed", seed=0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "volume256.nrrd"
        write_volume(damaged, path)
        return {method: measure(path, method, device) for method in ("median-mad", "lstm")}


def _targets(detection, restore_gain, timing) -> List[List[str]]:
    rows = []
    for kind, target in F1_TARGETS.items():
        f1 = detection["per_kind"][kind]["lstm"]["f1"]
        rows.append([f"F1 {kind}", f"≥ {target:.2f}", f"{f1:.3f}", verdict(f1 >= target, f1 - target)])
    flagged = detection["clean_flagged_percent"]["lstm"]
    rows.append(["clean voxels flagged", "≤ 0.01 %", f"{flagged:.4f} %", verdict(flagged <= 0.01, 0.01 - flagged)])
    changed = restore_gain["clean_changed_percent"]
    rows.append(["clean voxels changed by restore", "≤ 0.01 %", f"{changed:.4f} %",
                 verdict(changed <= 0.01, 0.01 - changed)])
    gain = restore_gain["gain_db"]
    rows.append(["blind restore PSNR gain over median/MAD", "≥ 3 dB", f"{gain:.2f} dB", verdict(gain >= 3, gain - 3)])
    if timing:
        seconds, memory = timing["lstm"]["seconds"], timing["lstm"]["peak_memory_gb"]
        rows.append(["256³ detection time (this CPU)", "≤ 20 s", f"{seconds:.1f} s",
                     verdict(seconds <= 20, 20 - seconds)])
        rows.append(["256³ peak memory", "≤ 3 GB", f"{memory:.2f} GB", verdict(memory <= 3, 3 - memory)])
    return rows


def run_benchmark(out: Path, quick: bool = False, seed: int = 0, device: str = "cpu",
                  progress: Optional[ProgressCallback] = None) -> Dict[str, object]:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    steps = Steps(progress)
    volumes = development_volumes(quick)
    seeds = [seed] if quick else [seed, seed + 1, seed + 2]
    detection = detection_benchmark(volumes, seeds, device, steps.sub(0.0, 0.6))
    gain = blind_restore_gain(volumes, seeds, steps.sub(0.6, 0.85))
    filling = inpainting_benchmark(volumes, seeds, device, quick, steps.sub(0.85, 0.99))
    filling["timing_256"] = None if quick else filling_timing(sample_256(), device)
    filling["targets"] = filling_targets(filling, filling["timing_256"])
    save_filling_figure(filling.pop("example"), out / "inpainting.png")
    timing = None if quick else timing_256(device)
    imputation = run_imputation_benchmark(volumes, out, quick, seed, steps.sub(0.99, 1.0))
    imputation["targets"] = imputation_targets(imputation)
    covariance_seconds = benchmark_column_covariance(device=device)
    steps.report(1.0, "benchmark done")
    targets = _targets(detection, gain, timing)
    examples = detection.pop("examples")
    save_detection_figure(examples, out / "detection.png")
    result = {"seed": seed, "seeds": seeds, "quick": quick, "device": device,
              "volumes": {name: list(v.shape) for name, v in volumes.items()},
              "detection": detection, "blind_restore": gain, "timing_256": timing, "filling": filling,
              "column_covariance_256_slices_seconds": covariance_seconds,
              "targets": [dict(zip(("target", "goal", "measured", "verdict"), row)) for row in targets]}
    result["imputation"] = imputation
    if not quick:  # per image domain (none trained on): their own files, and sections below
        from .detection_domains import run as run_detection_domains
        from .filling_domains import run as run_filling_domains

        result["detection_domains"] = run_detection_domains(out, seeds=seeds[:2])
        result["filling_domains"] = run_filling_domains(out, seeds=seeds[:1])
    write_json(result, out / "benchmark.json")
    (out / "benchmark.md").write_text(_markdown(result, targets))
    return result


def _markdown(result, targets) -> str:
    gain = result["blind_restore"]
    lines = [f"# MedRestore benchmark (seeds {result['seeds']}, device {result['device']})", "",
             "Volumes: " + ", ".join(f"{name} {shape}" for name, shape in result["volumes"].items()), "",
             "## Detection: F1 (precision/recall) per defect kind", "",
             detection_markdown(result["detection"]), "",
             "## Blind restore on mixed defects (whole-volume PSNR, dB)", "",
             "| damaged | median/MAD + biharmonic 3-D | DPD_D + LSTM + biharmonic 3-D | gain |",
             "|---|---|---|---|",
             f"| {gain['psnr_damaged']:.2f} | {gain['psnr_median_mad_biharmonic3d']:.2f} | "
             f"{gain['psnr_lstm_biharmonic3d']:.2f} | {gain['gain_db']:+.2f} |", ""]
    if result["timing_256"]:
        lines += ["## 256³ detection (child process, this machine)", "", "| method | seconds | peak memory GB |",
                  "|---|---|---|"] + [f"| {m} | {t['seconds']:.1f} | {t['peak_memory_gb']:.2f} |"
                                      for m, t in result["timing_256"].items()] + [""]
    lines += [f"Column covariance of 256 slices of 256×256 ({result['device']}, best of 3): "
              f"{result['column_covariance_256_slices_seconds']:.3f} s", ""]
    lines += ["## Filling with a known mask (GAN, ablations, baselines; figure inpainting.png)", "",
              filling_markdown(result["filling"], result["filling"]["timing_256"], result["filling"]["targets"])]
    lines += ["# Missing slices and time points (figure imputation.png)", "",
              imputation_markdown(result["imputation"]), "## Imputation targets", "",
              "| target | goal | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in result["imputation"]["targets"]] + [""]
    if "detection_domains" in result:
        from .detection_domains import detection_domains_markdown
        from .filling_domains import filling_domains_markdown

        lines += ["# Detection per image domain (none trained on; figure false_alarms.png)", "",
                  detection_domains_markdown(result["detection_domains"]),
                  "# Filling per image domain, true mask (none trained on)", "",
                  filling_domains_markdown(result["filling_domains"])]
    lines += ["## Targets", "", "| target | goal | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in targets]
    return "\n".join(lines) + "\n"
