"""Missing visits benchmark: cohorts the visit models were never trained on, and image series.

Cohorts: the held-out synthetic cohorts of
:data:`~MedRestoreLib.imputation.cohort_generator.HELD_OUT_COHORTS` (settings training never
draws: 10 scores, up to 18 visits, a 0.45-year schedule) and the held-out subjects of
``alzheimer.csv`` (every 5th by ID). Scenarios (:mod:`~MedRestoreLib.imputation.scoring`):
15 % blank cells, one whole interior visit of 30 % of subjects, the last visit as a forecast;
RMSE/MAE per model and the ratio to per-subject linear regression. Image series: synthetic
series from the 2 mm volume (frames 2 and 5 blank, frame 8 forecast). Timing: ``impute-table``
of a 2,000-row table (200 subjects × 10 visits × 10 scores) with the LSTM and with ``auto``.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Dict, List

import numpy as np

from ..progress import Steps
from ..volume import Volume

SEQUENCE_MODELS = ("linear", "srn", "lstm", "auto")


def cohort_benchmark(quick: bool, seed: int, steps: Steps) -> Dict:
    """cohort -> scenario -> model -> {rmse, mae, points}, and for synthetic cohorts "noise
    floor" -> {rmse}: the error of the noise-free values (no imputation can do better)."""
    from ..imputation.cohort import alzheimer_subjects
    from ..imputation.cohort_generator import HELD_OUT_COHORTS, make_cohort
    from ..imputation.scoring import noise_floor, score_cohort
    from ..imputation.visits import load_sequence_network
    from ..training.fetch_data import default_cache

    networks = {cell: load_sequence_network(cell) for cell in ("lstm", "srn")}
    models = {m: (m, networks) for m in SEQUENCE_MODELS}
    cohorts, floors = {}, {}
    for name, recipe in HELD_OUT_COHORTS.items():
        recipe = replace(recipe, subjects=40) if quick else recipe
        cohorts[name] = make_cohort(recipe)
        floors[name] = noise_floor(cohorts[name], make_cohort(recipe, noise_free=True), seed)
        if quick:
            break
    if not quick:
        cohorts["alzheimer.csv held-out subjects"] = alzheimer_subjects(default_cache() / "alzheimer.csv", True)
    result = {}
    for number, (name, cohort) in enumerate(cohorts.items()):
        result[name] = score_cohort(cohort, models, seed)
        for scenario, floor in floors.get(name, {}).items():
            result[name][scenario]["noise floor"] = {"rmse": floor}
        steps.report((number + 1) / len(cohorts), "visit cohorts")
    return result


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


def table_timing() -> Dict[str, float]:
    """Seconds of ``impute_table`` on 2,000 rows (200 subjects × 10 visits, 10 scores, 15 % blank)."""
    from ..imputation.cohort_generator import CohortRecipe, make_cohort
    from ..imputation.tables import impute_table

    rng = np.random.default_rng(0)
    cohort = make_cohort(CohortRecipe(subjects=200, scores=10, visits=(10, 10), seed=5))
    columns = ["ID", "TIME"] + [f"score {n}" for n in range(10)]
    rows = [[f"S{s:03d}", f"{t:.3f}"] + ["" if rng.random() < 0.15 else f"{v:.4f}" for v in values]
            for s, (times, table) in enumerate(cohort) for t, values in zip(times, table)]
    seconds = {"rows": len(rows), "load_average": os.getloadavg()[0]}
    for model in ("lstm", "auto"):
        started, cpu = time.perf_counter(), time.process_time()
        impute_table(columns, rows, model)
        seconds[model] = time.perf_counter() - started
        seconds[f"{model}_cpu"] = time.process_time() - cpu
    return seconds


def visit_targets(cohorts: Dict, timing, verdict) -> list:
    rows = []
    for name, scenarios in cohorts.items():
        for scenario in ("blank cells", "missed visits"):
            scores = scenarios[scenario]
            ratio = scores["lstm"]["rmse"] / scores["linear"]["rmse"]
            rows.append([f"{name}, {scenario}: LSTM / linear RMSE", "≤ 0.85", f"{ratio:.3f}",
                         verdict(ratio <= 0.85, ratio - 0.85)])
            ratio = scores["auto"]["rmse"] / scores["linear"]["rmse"]
            rows.append([f"{name}, {scenario}: auto / linear RMSE", "≤ 1.00", f"{ratio:.3f}",
                         verdict(ratio <= 1.0, ratio - 1.0)])
    if timing:
        for model in ("lstm", "auto"):
            cpu = f", {timing[model + '_cpu']:.1f} s CPU" if model + "_cpu" in timing else ""
            rows.append([f"impute a {timing['rows']}-row table ({model}; load {timing.get('load_average', 0):.1f})",
                         "≤ 5 s", f"{timing[model]:.1f} s{cpu}", verdict(timing[model] <= 5, timing[model] - 5)])
    return rows


def visit_markdown(result: Dict) -> list:
    lines = ["## Missing visits: RMSE / MAE on what was hidden (ratio of RMSE to per-subject linear regression)",
             "", "| cohort | scenario | " + " | ".join(SEQUENCE_MODELS) + " | noise floor (RMSE) |",
             "|---" * (len(SEQUENCE_MODELS) + 3) + "|"]
    for name, scenarios in result["cohorts"].items():
        for scenario, scores in scenarios.items():
            base = scores["linear"]["rmse"]
            floor = scores.get("noise floor")
            lines.append(f"| {name} | {scenario} ({scores['linear']['points']} values) | " + " | ".join(
                f"{scores[m]['rmse']:.4f} / {scores[m]['mae']:.4f} ({scores[m]['rmse'] / base:.2f}×)"
                for m in SEQUENCE_MODELS) + (f" | {floor['rmse']:.4f} ({floor['rmse'] / base:.2f}×) |" if floor
                                             else " | unknown |"))
    lines += ["", "Image series (normalised intensity): RMSE missing frames / forecast frame", "",
              "| model | RMSE missing | MAE missing | RMSE forecast | MAE forecast |", "|---|---|---|---|---|"]
    for model, s in result["series"].items():
        lines.append(f"| {model} | {s['rmse_missing']:.4f} | {s['mae_missing']:.4f} | {s['rmse_forecast']:.4f} | "
                     f"{s['mae_forecast']:.4f} |")
    if result.get("table_timing"):
        t = result["table_timing"]
        lines += ["", f"A {t['rows']}-row table (200 subjects × 10 visits × 10 scores): LSTM {t['lstm']:.2f} s "
                      f"({t['lstm_cpu']:.2f} s CPU), auto {t['auto']:.2f} s ({t['auto_cpu']:.2f} s CPU); in-process, "
                      f"load average {t['load_average']:.1f} on this 2-core CPU."]
    return lines + [""]
