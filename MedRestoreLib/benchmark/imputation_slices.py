"""Missing-slice benchmark per image domain: every model of ``impute-slices`` on the same
simulated acquisitions.

Domains (:mod:`.domains`; none trained or tuned on): MNI152 2009a T1 at 2 mm and 1 mm, and the
held-out synthetic EPI-like (3.5 × 3.5 × 5 mm), T2-like (1.5 mm) and 0.5 mm images. Each volume
is normalised by the evaluation protocol's window and acquired along k as thick slices (slab
means) and as sampled slices at 2×, 4× and 6×; PSNR/SSIM over the thin slices not acquired
exactly (all thin slices for thick). Models: linear, cubic, the Gaussian-mixture baseline, SRN
and LSTM as shipped (no tuning), ``lstm+ss`` (the LSTM tuned on the scan's in-plane data for
``ADAPT_SECONDS``: the self-supervised ablation) and ``auto`` (what ``impute-slices`` does by
default: tuning, then the choice on held-out slices).
"""
from __future__ import annotations

import time
from typing import Dict

import numpy as np

from ..metrics import restoration_scores
from ..progress import Steps

SLICE_MODELS = ("linear", "cubic", "gmm", "srn", "lstm", "lstm+ss", "auto")
DOMAINS = ("MNI152 T1 2 mm", "MNI152 T1 1 mm", "synthetic EPI-like", "synthetic T2-like", "synthetic 0.5 mm")
QUICK_DOMAINS = ("MNI152 T1 2 mm", "synthetic EPI-like")
ADAPT_SECONDS = 5.0


def normalised(array) -> np.ndarray:
    from ..intensity import intensity_window

    low, high = intensity_window(array)  # the evaluation protocol's scale, clipped below at 0
    return np.maximum((array.astype(np.float32) - low) / (high - low), 0).astype(np.float32)


def _impute(model: str, acquired, layout, factor, acquisition, networks, gmm_options):
    from ..imputation.gmm import impute_gmm
    from ..imputation.interpolation import interpolate
    from ..imputation.recurrent import impute_recurrent
    from ..imputation.slice_auto import run_auto
    from ..imputation.slices import SliceImputeOptions, run_model

    options = SliceImputeOptions(model="lstm", factor=factor, acquisition=acquisition, device="cpu",
                                 adapt_seconds=ADAPT_SECONDS)
    if model in ("linear", "cubic"):
        return interpolate(acquired, layout, cubic=model == "cubic"), None
    if model == "gmm":
        return impute_gmm(acquired, layout, gmm_options), None
    if model in ("srn", "lstm"):
        return impute_recurrent(networks[model], acquired, layout), None
    if model == "lstm+ss":
        report: dict = {}
        return run_model(acquired, layout, options, Steps(), networks["lstm"], report), report.get("adapt")
    options.model = "auto"
    thin, choice = run_auto(acquired, layout, options, Steps())
    return thin, choice.to_dict()


def slice_benchmark(quick: bool, steps: Steps, factors=(2, 4, 6), acquisitions=("thick", "sampled"),
                    names=None, after_case=None) -> Dict:
    """{"scores": domain -> acquisition -> "Fx" -> model -> {psnr, ssim, seconds}, "choices":
    the same keys -> what auto chose, "example": arrays for the figure}; ``after_case(scores,
    choices)`` is called after every case (to save as it goes)."""
    from ..devices import idle_cpu_threads
    from ..imputation.gmm import GmmOptions
    from ..imputation.layout import simulate
    from ..imputation.slices import load_slice_network
    from .domains import development_domains

    networks = {cell: load_slice_network(cell) for cell in ("srn", "lstm")}
    gmm = GmmOptions(samples=600, iterations=4, size=3) if quick else GmmOptions()
    domains = development_domains(quick=quick, names=list(names or (QUICK_DOMAINS if quick else DOMAINS)))
    runs = [(n, a, f) for n in domains for a in acquisitions for f in factors]
    table, choices, example = {}, {}, None
    for number, (name, acquisition, factor) in enumerate(runs):
        thin = normalised(domains[name].volume.array)
        if quick and name.startswith("MNI152"):  # a central block keeps --quick fast
            thin = thin[20:60, 16:80, 12:68]
        acquired, truth, layout = simulate(thin, factor, acquisition)
        mask = np.broadcast_to((~layout.observed)[:, None, None], truth.shape)
        row, outputs = {}, {}
        for model in SLICE_MODELS:
            started = time.perf_counter()
            with idle_cpu_threads():  # as impute-slices runs them (8.8 s → 0.75 s on a busy 2-core CPU)
                result, details = _impute(model, acquired, layout, factor, acquisition, networks, gmm)
            seconds = time.perf_counter() - started
            scores = restoration_scores(np.clip(truth, 0, 1), np.clip(result, 0, 1), mask)
            row[model] = {"psnr": scores["psnr_mask"], "ssim": scores["ssim_mask"], "seconds": seconds}
            if details is not None and model == "auto":
                choices.setdefault(name, {}).setdefault(acquisition, {})[f"{factor}x"] = details
            outputs[model] = result
        if factor == 4 and acquisition == "thick" and example is None:  # the figure: first domain
            example = {"truth": truth, "cubic": outputs["cubic"], "gmm": outputs["gmm"], "auto": outputs["auto"]}
        table.setdefault(name, {}).setdefault(acquisition, {})[f"{factor}x"] = row
        if after_case is not None:
            after_case(table, choices)
        steps.report((number + 1) / len(runs), "slice imputation")
    return {"scores": table, "choices": choices, "example": example}


def slice_targets(scores: Dict, verdict) -> list:
    """Rows (target, goal, measured, verdict): auto and the recurrent model against the baselines
    at 2× and 4× (averaged over domains, and the worst single case)."""
    rows = []
    for factor in ("2x", "4x"):
        gains, recurrent_margins = [], []
        worst = (np.inf, "")
        for name, per_acquisition in scores.items():
            for acquisition, per_factor in per_acquisition.items():
                if factor not in per_factor:
                    continue
                row = per_factor[factor]
                best = max(row["linear"]["psnr"], row["cubic"]["psnr"])
                gain = row["auto"]["psnr"] - best
                gains.append(gain)
                worst = min(worst, (gain, f"{name} {acquisition}"))
                recurrent_margins.append(max(row["lstm+ss"]["psnr"], row["lstm"]["psnr"]) - row["gmm"]["psnr"])
        if not gains:
            continue
        mean = float(np.mean(gains))
        rows.append([f"slices {factor}: auto − max(linear, cubic), mean over {len(gains)} cases", "≥ +1 dB",
                     f"{mean:+.2f} dB", verdict(mean >= 1, mean - 1)])
        rows.append([f"slices {factor}: auto − max(linear, cubic), worst case ({worst[1]})", "≥ −0.1 dB",
                     f"{worst[0]:+.2f} dB", verdict(worst[0] >= -0.1, worst[0] + 0.1)])
        low = float(np.min(recurrent_margins))
        rows.append([f"slices {factor}: recurrent (LSTM, tuned or not) − GMM, worst case", "≥ 0 dB",
                     f"{low:+.2f} dB", verdict(low >= 0, low)])
    return rows


def slice_markdown(result: Dict) -> list:
    lines = ["## Missing slices: PSNR dB / SSIM on the slices not acquired (seconds)", ""]
    for name, per_acquisition in result["slices"].items():
        for acquisition, per_factor in per_acquisition.items():
            lines += [f"{name}, {acquisition} slices:", "",
                      "| factor | " + " | ".join(SLICE_MODELS) + " | auto chose |",
                      "|---" * (len(SLICE_MODELS) + 2) + "|"]
            for factor, row in per_factor.items():
                choice = result.get("slice_choices", {}).get(name, {}).get(acquisition, {}).get(factor, {})
                lines.append(f"| {factor} | " + " | ".join(
                    f"{row[m]['psnr']:.2f} / {row[m]['ssim']:.3f} ({row[m]['seconds']:.1f} s)"
                    for m in SLICE_MODELS) + f" | {choice.get('choice', '')} |")
            lines.append("")
    return lines
