"""Detection across image domains none of the detectors was trained on (issue: generalisation).

    python -m MedRestoreLib.benchmark.detection_domains --out DIR [--quick] [--seeds 0 1]

For every domain of :mod:`.domains` and every defect kind as it occurs — dead pixels, line
dropouts (full and partial), attenuated regions, noise blobs, 16³ and 32³ signal voids — the same
damaged volume goes to every detector of the same run:

- ``lstm``: the shipped detector as ``restore`` runs it (threshold calibrated on the volume);
- ``lstm-fixed``: the same with the model's validated threshold (the calibration ablation);
- ``median-mad``: |x − median3×3| > 5 · 1.4826 · MAD, the classical baseline.

Reported per domain and kind: precision, recall, F1 and average precision (ranking by the
detector's probability); per domain: the share of the clean volume's voxels each detector flags;
and blind restores (mixed defects; detect then fill) beside median/MAD + 3-D biharmonic and
beside the same fill with the true mask. Writes ``detection_domains.json``, ``.md`` and a figure of
the clean-volume false alarms per domain.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..defects import corrupt
from ..detection.detector import run_detector
from ..detection.localizer import load_localizer
from ..json_output import write_json
from ..metrics import psnr, scores_from_counts
from ..options import DetectOptions, RestoreOptions
from ..pipeline import restore
from ..progress import Steps
from .common import verdict
from .domains import Domain, development_domains

KINDS = {  # name: (simulator kind, box size)
    "dead pixels": ("dead-pixels", None), "lines": ("line-dropout", None), "partial lines": ("partial-line", None),
    "attenuated": ("attenuation", None), "noise blobs": ("noise-burst", None),
    "16³ void": ("void", 16), "32³ void": ("void", 32),
}
METHODS = ("lstm", "lstm-fixed", "median-mad")
F1_TARGET, F1_PIXELS_LINES, F1_VOIDS, F1_FLOOR = 0.90, 0.95, 0.95, 0.75
CLEAN_TARGET_PERCENT = 0.01


def _average_precision(truth: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision–recall curve of ranking voxels by ``score`` (step-wise)."""
    truth = truth.ravel().astype(bool)
    if not truth.any():
        return float("nan")
    order = np.argsort(-score.ravel(), kind="stable")
    hits = truth[order]
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float(precision[hits].sum() / truth.sum())


def _detect_all(array: np.ndarray, localizer) -> Dict[str, tuple]:
    """(probability, mask) of every method on one volume. The network runs once: the fixed
    threshold's mask is the same probability against the validated threshold (the calibrated
    one is never lower, so the voxels raised to it as certain stay in)."""
    diagnostics: dict = {}
    probability, mask = run_detector(array, DetectOptions(), localizer=localizer, diagnostics=diagnostics)
    validated = diagnostics.get("validated", localizer.threshold)
    return {"lstm": (probability, mask), "lstm-fixed": (probability, probability >= validated),
            "median-mad": run_detector(array, DetectOptions(method="median-mad"))}


def detection_domains(domains: Dict[str, Domain], seeds: List[int], steps: Optional[Steps] = None,
                      restores: bool = True, model: Optional[Path] = None) -> Dict[str, object]:
    """The per-domain tables (see the module docstring) as a JSON-ready dict; ``model``: a
    localizer folder to score instead of the shipped one (restores use the shipped one)."""
    steps = steps or Steps()
    localizer = load_localizer(model)
    per_domain: Dict[str, dict] = {}
    total = len(domains) * (len(KINDS) * len(seeds) + 1 + (len(seeds) if restores else 0))
    done = 0
    for name, domain in domains.items():
        volume = domain.volume
        rows: Dict[str, dict] = {}
        for kind, (simulator_kind, box) in KINDS.items():
            counts = {m: np.zeros(3, np.int64) for m in METHODS}
            precisions = {m: [] for m in METHODS}
            for seed in seeds:
                damaged, truth, _ = corrupt(volume, simulator_kind, seed=seed, box_size=box)
                truth = truth.array.astype(bool)
                for method, (probability, mask) in _detect_all(damaged.array, localizer).items():
                    counts[method] += [np.count_nonzero(truth & mask), np.count_nonzero(~truth & mask),
                                       np.count_nonzero(truth & ~mask)]
                    precisions[method].append(_average_precision(truth, probability))
                done += 1
                steps.report(done / total, f"detection: {name}, {kind}, seed {seed}")
            rows[kind] = {m: dict(scores_from_counts(*counts[m]), average_precision=float(np.nanmean(precisions[m])))
                          for m in METHODS}
        clean = _detect_all(volume.array, localizer)
        done += 1
        per_domain[name] = {"description": domain.description, "group": domain.group,
                            "shape": list(volume.shape), "kinds": rows,
                            "clean_flagged_percent": {m: 100.0 * float(mask.mean()) for m, (_, mask) in clean.items()}}
        if restores:
            per_domain[name]["blind_restore"] = _blind_restores(volume, seeds)
            done += len(seeds)
        steps.report(done / total, f"detection: {name} done")
    return {"seeds": seeds, "domains": per_domain, "targets": detection_targets(per_domain)}


def _blind_restores(volume, seeds: List[int]) -> Dict[str, float]:
    """Whole-volume PSNR (dB) of restores of mixed defects: blind (the default detector and
    fill), median/MAD + 3-D biharmonic, and the default fill with the true mask; seconds of the
    blind restore."""
    scores = {"damaged": [], "blind": [], "median-mad+biharmonic3d": [], "true mask": [], "seconds": []}
    baseline = RestoreOptions.from_dict({"detect": {"method": "median-mad"}, "fill": {"method": "biharmonic3d"}})
    for seed in seeds:
        damaged, truth, _ = corrupt(volume, "mixed", seed=seed)
        started = time.perf_counter()
        blind = restore(damaged).volume.array
        scores["seconds"].append(time.perf_counter() - started)
        scores["blind"].append(psnr(volume.array, blind))
        scores["median-mad+biharmonic3d"].append(psnr(volume.array, restore(damaged, baseline).volume.array))
        scores["true mask"].append(psnr(volume.array, restore(damaged, mask=truth).volume.array))
        scores["damaged"].append(psnr(volume.array, damaged.array))
    return {key: float(np.mean(values)) for key, values in scores.items()}


def _kind_target(kind: str) -> float:
    if kind in ("dead pixels", "lines", "partial lines"):
        return F1_PIXELS_LINES
    return F1_VOIDS if "void" in kind else F1_TARGET


def detection_targets(per_domain: Dict[str, dict]) -> List[List[str]]:
    """Rows (target, goal, measured, verdict) of the issue's detection targets."""
    rows = []
    worst_clean = max(per_domain.items(), key=lambda item: item[1]["clean_flagged_percent"]["lstm"])
    value, goal = worst_clean[1]["clean_flagged_percent"]["lstm"], CLEAN_TARGET_PERCENT
    rows.append(["clean voxels flagged, every domain (worst)", f"≤ {goal} %", f"{value:.4f} % ({worst_clean[0]})",
                 verdict(value <= goal, value - goal)])
    for kind in KINDS:
        values = {name: domain["kinds"][kind]["lstm"]["f1"] for name, domain in per_domain.items()}
        mean, worst = float(np.mean(list(values.values()))), min(values.items(), key=lambda item: item[1])
        goal = _kind_target(kind)
        rows.append([f"F1 {kind}, mean over domains", f"≥ {goal:.2f}", f"{mean:.3f}",
                     verdict(mean >= goal, mean - goal)])
        rows.append([f"F1 {kind}, worst domain", f"≥ {F1_FLOOR:.2f}", f"{worst[1]:.3f} ({worst[0]})",
                     verdict(worst[1] >= F1_FLOOR, worst[1] - F1_FLOOR)])
    restores = {name: domain["blind_restore"] for name, domain in per_domain.items() if "blind_restore" in domain}
    if restores:
        gains = {name: r["blind"] - r["median-mad+biharmonic3d"] for name, r in restores.items()}
        gaps = {name: r["true mask"] - r["blind"] for name, r in restores.items()}
        worst_gain, worst_gap = min(gains.items(), key=lambda i: i[1]), max(gaps.items(), key=lambda i: i[1])
        rows.append(["blind restore − (median/MAD + biharmonic), worst domain", "≥ +3 dB",
                     f"{worst_gain[1]:+.2f} dB ({worst_gain[0]})", verdict(worst_gain[1] >= 3, worst_gain[1] - 3)])
        rows.append(["true-mask fill − blind restore, worst domain", "≤ 1 dB",
                     f"{worst_gap[1]:.2f} dB ({worst_gap[0]})", verdict(worst_gap[1] <= 1, 1 - worst_gap[1])])
    return rows


def _cells(domain: dict, key: str, first: str, second: str, fmt: str = "{:.2f} / {:.2f}") -> List[str]:
    return [fmt.format(domain["kinds"][k][first][key], domain["kinds"][k][second][key]) for k in KINDS]


def detection_domains_markdown(result: Dict[str, object]) -> str:
    """F1 per domain × kind (the shipped detector; median/MAD in brackets), clean false alarms
    with the calibration ablation, average precision, blind restores and the targets."""
    domains = result["domains"]
    kinds = list(KINDS)
    header = ["| domain | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    lines = ["### F1 per domain and kind: detector (median/MAD)", "",
             header[0] + " clean flagged: calibrated / fixed / median-MAD |", header[1] + "---|"]
    for name, domain in domains.items():
        clean = domain["clean_flagged_percent"]
        lines.append(f"| {name} | " + " | ".join(_cells(domain, "f1", "lstm", "median-mad", "{:.2f} ({:.2f})")) +
                     f" | {clean['lstm']:.4f} / {clean['lstm-fixed']:.4f} / {clean['median-mad']:.4f} % |")
    means = [np.mean([d["kinds"][k]["lstm"]["f1"] for d in domains.values()]) for k in kinds]
    lines.append("| **mean** | " + " | ".join(f"**{m:.2f}**" for m in means) + " | |")
    lines += ["", "### Calibration ablation: F1 with the calibrated / the validated (fixed) threshold", ""] + header
    lines += [f"| {name} | " + " | ".join(_cells(d, "f1", "lstm", "lstm-fixed")) + " |" for name, d in domains.items()]
    lines += ["", "### Average precision (detector / median-MAD)", ""] + header
    lines += [f"| {name} | " + " | ".join(_cells(d, "average_precision", "lstm", "median-mad")) + " |"
              for name, d in domains.items()]
    restores = {n: d["blind_restore"] for n, d in domains.items() if "blind_restore" in d}
    if restores:
        lines += ["", "### Blind restore of mixed defects, whole-volume PSNR (dB)", "",
                  "| domain | damaged | median/MAD + biharmonic 3-D | blind (default) | true mask, default fill "
                  "| seconds |", "|---|---|---|---|---|---|"]
        for name, r in restores.items():
            lines.append(f"| {name} | {r['damaged']:.2f} | {r['median-mad+biharmonic3d']:.2f} | {r['blind']:.2f} | "
                         f"{r['true mask']:.2f} | {r['seconds']:.1f} |")
    lines += ["", "### Targets", "", "| target | goal | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in result["targets"]]
    return "\n".join(lines) + "\n"


def save_false_alarm_figure(result: Dict[str, object], path) -> None:
    """Bars: the share of each clean domain's voxels that each detector flags (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["domains"])
    figure, ax = plt.subplots(figsize=(10, 4))
    width = 0.27
    for n, method in enumerate(METHODS):
        values = [max(result["domains"][d]["clean_flagged_percent"][method], 1e-5) for d in names]
        ax.bar(np.arange(len(names)) + (n - 1) * width, values, width, label=method)
    ax.axhline(CLEAN_TARGET_PERCENT, color="red", linestyle="--", linewidth=1, label="target 0.01 %")
    ax.set_yscale("log")
    ax.set_ylabel("clean voxels flagged (%)")
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.legend(fontsize=8)
    ax.set_title("False alarms on clean volumes, per domain (none trained on); 1e-5 % = none")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def run(out: Path, quick: bool = False, seeds: Optional[List[int]] = None,
        steps: Optional[Steps] = None, model: Optional[Path] = None) -> Dict[str, object]:
    """Measure, and write ``detection_domains.json``, ``.md`` and ``false_alarms.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    result = detection_domains(development_domains(quick=quick), seeds or ([0] if quick else [0, 1]), steps,
                               restores=not quick and model is None, model=model)
    write_json(result, out / "detection_domains.json")
    (out / "detection_domains.md").write_text(detection_domains_markdown(result))
    save_false_alarm_figure(result, out / "false_alarms.png")
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m MedRestoreLib.benchmark.detection_domains",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="five domains, one seed, no restores")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--model", type=Path, help="a trained localizer folder to score instead of the shipped one")
    args = parser.parse_args(argv)
    run(args.out, args.quick, args.seeds, model=args.model)
    print(f"wrote {args.out}/detection_domains.md")


if __name__ == "__main__":
    main()
