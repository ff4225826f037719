"""Benchmark of missing slices and missing time points (issue 5), baselines in the same run.

Slices: development volumes (MNI152 2009a; never trained on) acquired as thick slices (slab
means) and as sampled slices at 2×, 4×, 6× along k; PSNR/SSIM (evaluation protocol of DESIGN.md)
on the thin slices not acquired exactly, per model, with seconds. Time points: synthetic image
series from the 2 mm volume, a synthetic cohort with known trajectories, and the held-out
subjects of alzheimer.csv (every 5th; the others trained the sequence models); RMSE/MAE on
missed visits and on forecasts. The 256×256×64 timing runs the CLI in a child process.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

from ..metrics import restoration_scores
from ..progress import Steps
from ..volume import Volume, write_volume
from .common import verdict

SLICE_MODELS = ("linear", "cubic", "gmm", "srn", "lstm")
SEQUENCE_MODELS = ("linear", "srn", "lstm")


def _normalised(array):
    from ..intensity import intensity_window

    low, high = intensity_window(array)  # the evaluation protocol's scale, clipped below at 0
    return np.maximum((array.astype(np.float32) - low) / (high - low), 0).astype(np.float32)


def slice_benchmark(volumes: Dict[str, Volume], factors, acquisitions, quick: bool, steps: Steps) -> Dict:
    from ..imputation.gmm import GmmOptions, impute_gmm
    from ..imputation.interpolation import interpolate
    from ..imputation.layout import simulate
    from ..imputation.recurrent import impute_recurrent
    from ..imputation.slices import load_slice_network

    networks = {cell: load_slice_network(cell) for cell in ("srn", "lstm")}
    gmm = GmmOptions(samples=600, iterations=4, size=3) if quick else GmmOptions()
    runs = [(n, a, f) for n in volumes for a in acquisitions for f in factors]
    table, example = {}, None
    for number, (name, acquisition, factor) in enumerate(runs):
        thin = _normalised(volumes[name].array)
        if quick:  # a central block keeps --quick fast
            thin = thin[20:60, 16:80, 12:68]
        acquired, truth, layout = simulate(thin, factor, acquisition)
        mask = np.broadcast_to((~layout.observed)[:, None, None], truth.shape)
        row, outputs = {}, {}
        for model in SLICE_MODELS:
            started = time.perf_counter()
            if model in ("linear", "cubic"):
                result = interpolate(acquired, layout, cubic=model == "cubic")
            elif model == "gmm":
                result = impute_gmm(acquired, layout, gmm)
            else:
                result = impute_recurrent(networks[model], acquired, layout)
            seconds = time.perf_counter() - started
            scores = restoration_scores(np.clip(truth, 0, 1), np.clip(result, 0, 1), mask)
            row[model] = {"psnr": scores["psnr_mask"], "ssim": scores["ssim_mask"], "seconds": seconds}
            outputs[model] = result
        if factor == 4 and acquisition == "thick" and example is None:  # the figure: first volume
            example = {"truth": truth, "cubic": outputs["cubic"], "gmm": outputs["gmm"], "lstm": outputs["lstm"]}
        table.setdefault(name, {}).setdefault(acquisition, {})[f"{factor}x"] = row
        steps.report((number + 1) / len(runs), "slice imputation")
    return {"scores": table, "example": example}


def _rmse(truth, predicted, mask):
    error = (predicted - truth)[mask]
    return float(np.sqrt(np.mean(error ** 2))), float(np.mean(np.abs(error)))


def series_benchmark(volume: Volume, seeds: List[int], steps: Steps) -> Dict:
    """Synthetic series of 9 frames: frames 2 and 5 missing, frame 8 forecast (RMSE in
    normalised intensity over voxels where any frame is above 0.02)."""
    from ..imputation.frames import impute_frames
    from ..imputation.synthetic import synthetic_image_series

    errors = {m: {"missing": [], "forecast": []} for m in SEQUENCE_MODELS}
    for number, seed in enumerate(seeds):
        truth = synthetic_image_series(volume.array, 9, seed)
        body = np.max(truth, 0) > 0.02
        given = [volume.with_array(f) for f in truth[:8]]
        for n in (2, 5):
            given[n] = volume.with_array(np.zeros_like(truth[n]))
        for model in SEQUENCE_MODELS:
            frames = impute_frames(given, model, "auto", forecast=1)
            errors[model]["missing"] += [(frames[n].array - truth[n])[body] for n in (2, 5)]
            errors[model]["forecast"].append((frames[8].array - truth[8])[body])
        steps.report((number + 1) / len(seeds), "image series")
    result = {}
    for model, parts in errors.items():
        result[model] = {}
        for part, values in parts.items():
            values = np.concatenate(values)
            result[model][f"rmse_{part}"] = float(np.sqrt(np.mean(values ** 2)))
            result[model][f"mae_{part}"] = float(np.mean(np.abs(values)))
    return result


def table_benchmark(quick: bool, seed: int) -> Dict:
    from ..imputation.cohort import alzheimer_subjects, synthetic_cohort
    from ..imputation.scoring import score_cohort

    models = {m: (m, None) for m in SEQUENCE_MODELS}
    result = {"synthetic cohort": score_cohort(synthetic_cohort(seed + 7, 60 if quick else 300), models, seed)}
    if not quick:
        from ..training.fetch_data import default_cache

        result["alzheimer.csv held-out subjects"] = score_cohort(
            alzheimer_subjects(default_cache() / "alzheimer.csv", True), models, seed)
    return result


def timing_256(cell: str = "lstm") -> Dict[str, float]:
    """Wall time of ``medrestore impute-slices --factor 4`` on a 256×256×64 thick-slice volume,
    run as a child process (start-up, reading and writing included)."""
    from .common import sample_resampled

    big = sample_resampled(256)
    thick = big.array.reshape(64, 4, 256, 256).mean(1)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "thick.nrrd", Path(folder) / "thin.nrrd"
        write_volume(Volume(np.clip(thick, 0, 255).astype(np.int16), big.ijk_to_ras), source)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "MedRestoreLib", "impute-slices", str(source), str(target),
                        "--factor", "4", "--model", cell, "--device", "cpu", "--quiet"], check=True)
        return {"seconds": time.perf_counter() - started, "shape_in": [64, 256, 256], "shape_out": [256, 256, 256]}


def run_imputation_benchmark(volumes: Dict[str, Volume], out: Path, quick: bool, seed: int,
                             steps: Steps) -> Dict:
    factors = (4,) if quick else (2, 4, 6)
    acquisitions = ("thick",) if quick else ("thick", "sampled")
    slices = slice_benchmark(volumes, factors, acquisitions, quick, steps.sub(0.0, 0.7))
    example = slices.pop("example")
    if example:
        from .imputation_figure import save_imputation_figure

        save_imputation_figure(example, out / "imputation.png")
    first = next(iter(volumes.values()))
    if quick:
        first = Volume(first.array[::2, ::2, ::2], first.ijk_to_ras)
    series = series_benchmark(first, [seed] if quick else [seed, seed + 1, seed + 2], steps.sub(0.7, 0.9))
    tables = table_benchmark(quick, seed)
    timing = None if quick else {cell: timing_256(cell) for cell in ("lstm", "srn")}
    steps.report(1.0, "imputation benchmark done")
    return {"slices": slices["scores"], "series": series, "tables": tables, "timing_256x256x64": timing}


def imputation_targets(result: Dict) -> List[List[str]]:

    rows = []
    for name, per_acquisition in result["slices"].items():
        for acquisition, per_factor in per_acquisition.items():
            for factor in ("2x", "4x"):
                if factor not in per_factor:
                    continue
                row = per_factor[factor]
                best = max(("srn", "lstm"), key=lambda m: row[m]["psnr"])
                gain = row[best]["psnr"] - row["cubic"]["psnr"]
                rows.append([f"{name} {acquisition} {factor}: {best} − cubic", "≥ +2 dB", f"{gain:+.2f} dB",
                             verdict(gain >= 2, gain - 2)])
                margin = row[best]["psnr"] - row["gmm"]["psnr"]
                rows.append([f"{name} {acquisition} {factor}: {best} − GMM", "≥ 0 dB", f"{margin:+.2f} dB",
                             verdict(margin >= 0, margin)])
    sources = [("image series", result["series"])] + list(result["tables"].items())
    for name, scores in sources:
        for part in ("missing", "forecast"):
            ratio = scores["lstm"][f"rmse_{part}"] / scores["linear"][f"rmse_{part}"]
            rows.append([f"{name}: LSTM / linear RMSE, {part}", "≤ 0.80", f"{ratio:.3f}",
                         verdict(ratio <= 0.8, ratio - 0.8)])
    if result["timing_256x256x64"]:
        seconds = result["timing_256x256x64"]["lstm"]["seconds"]
        rows.append(["impute-slices 256×256×64 at 4× (lstm, child process)", "≤ 30 s", f"{seconds:.1f} s",
                     verdict(seconds <= 30, seconds - 30)])
    return rows


def imputation_markdown(result: Dict) -> str:
    lines = ["## Missing slices: PSNR dB / SSIM on the slices not acquired (seconds)", ""]
    for name, per_acquisition in result["slices"].items():
        for acquisition, per_factor in per_acquisition.items():
            lines += [f"{name}, {acquisition} slices:", "", "| factor | " + " | ".join(SLICE_MODELS) + " |",
                      "|---" * (len(SLICE_MODELS) + 1) + "|"]
            for factor, row in per_factor.items():
                lines.append(f"| {factor} | " + " | ".join(
                    f"{row[m]['psnr']:.2f} / {row[m]['ssim']:.3f} ({row[m]['seconds']:.1f} s)"
                    for m in SLICE_MODELS) + " |")
            lines.append("")
    lines += ["## Missing time points: RMSE / MAE on missed visits and on forecasts", "",
              "| data | model | RMSE missing | MAE missing | RMSE forecast | MAE forecast |",
              "|---|---|---|---|---|---|"]
    sources = [("image series (normalised intensity)", result["series"])] + list(result["tables"].items())
    for name, scores in sources:
        for model in SEQUENCE_MODELS:
            s = scores[model]
            lines.append(f"| {name} | {model} | {s['rmse_missing']:.4f} | {s['mae_missing']:.4f} | "
                         f"{s['rmse_forecast']:.4f} | {s['mae_forecast']:.4f} |")
    lines.append("")
    if result["timing_256x256x64"]:
        lines += ["impute-slices of a 256×256×64 thick-slice volume at 4× (child process, this machine): " +
                  ", ".join(f"{cell} {t['seconds']:.1f} s" for cell, t in result["timing_256x256x64"].items()), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    """Only this section: ``python -m MedRestoreLib.benchmark.imputation --out DIR [--quick]``
    writes imputation.json, imputation.md and imputation.png (the same numbers ``medrestore
    benchmark`` reports in its imputation section)."""
    import argparse

    from ..json_output import write_json
    from .common import development_volumes

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = run_imputation_benchmark(development_volumes(args.quick), args.out, args.quick, args.seed, Steps())
    result["targets"] = imputation_targets(result)
    write_json(result, args.out / "imputation.json")
    rows = [f"| {' | '.join(row)} |" for row in result["targets"]]
    (args.out / "imputation.md").write_text(
        imputation_markdown(result) + "\n## Targets\n\n| target | goal | measured | verdict |\n|---|---|---|---|\n"
        + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
