"""Detection benchmark: per defect kind, precision / recall / F1 of every detector stage.

Methods, measured on the same damaged volumes in the same run:

- ``median-mad``: |x − median3×3| > 5 · 1.4826 · MAD, the classical baseline;
- ``dpd``: DPD_D alone at its validated threshold;
- ``dpd+mlp``: DPD_D features through the localizer's per-voxel gate, no LSTM (what the
  features alone give);
- ``lstm``: the full detector (DPD_D features + LSTM scans), as ``restore`` uses it.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from ..defects import DefectKind, corrupt
from ..detection.detector import run_detector
from ..detection.dpd import compute_features
from ..detection.localizer import load_localizer
from ..metrics import scores_from_counts
from ..options import DetectOptions
from ..progress import Steps
from ..volume import Volume

METHODS = ("median-mad", "dpd", "dpd+mlp", "lstm")
KINDS = [kind.value for kind in DefectKind if kind != DefectKind.MIXED]
F1_TARGETS = {"dead-pixels": 0.95, "hot-pixels": 0.95, "line-dropout": 0.95, "partial-line": 0.95,
              "attenuation": 0.90, "noise-burst": 0.90, "blob": 0.90, "box": 0.90,
              "missing-slice": 0.98, "void": 0.95}


def _masks(array: np.ndarray, localizer, device: str) -> Dict[str, np.ndarray]:
    """The decision of every method on one volume (DPD_D features computed once)."""
    import torch

    features, _ = compute_features(array, device=device)
    masks = {method: run_detector(array, DetectOptions(method=method), device, localizer=localizer,
                                  features=features)[1]
             for method in ("median-mad", "dpd", "lstm")}
    with torch.no_grad():
        model = localizer.model
        gate = torch.sigmoid(model.gate_head(model.embed(localizer.select(features)[None])))[0, 0]
    masks["dpd+mlp"] = gate.cpu().numpy() >= 0.5
    return masks


def _counts(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    truth = truth.astype(bool)
    return np.array([np.count_nonzero(truth & predicted), np.count_nonzero(~truth & predicted),
                     np.count_nonzero(truth & ~predicted)])


def detection_benchmark(volumes: Dict[str, Volume], seeds: List[int], device: str = "cpu",
                        steps: Steps = None) -> Dict[str, object]:
    """Scores per kind and method (pooled over volumes and seeds), clean-volume false
    positives, and the examples the figure draws.

    Returns:
        {"per_kind": {kind: {method: scores}}, "clean_flagged_percent": {method: %},
         "examples": {kind: (damaged array, truth, lstm mask, median-mad mask)}}.
    """
    steps = steps or Steps()
    localizer = load_localizer(device=device)
    counts = {kind: {method: np.zeros(3, np.int64) for method in METHODS} for kind in KINDS}
    examples = {}
    total = len(volumes) * len(KINDS) * len(seeds) + len(volumes)
    done = 0
    for name, volume in volumes.items():
        for kind in KINDS:
            for seed in seeds:
                damaged, truth, _ = corrupt(volume, kind, seed=seed)
                masks = _masks(damaged.array, localizer, device)
                for method in METHODS:
                    counts[kind][method] += _counts(truth.array, masks[method])
                if kind not in examples:
                    examples[kind] = (damaged.array, truth.array, masks["lstm"], masks["median-mad"])
                done += 1
                steps.report(done / total, f"detection: {name}, {kind}, seed {seed}")
    flagged = {method: [0, 0] for method in METHODS}
    for name, volume in volumes.items():
        masks = _masks(volume.array, localizer, device)
        for method in METHODS:
            flagged[method][0] += int(np.count_nonzero(masks[method]))
            flagged[method][1] += masks[method].size
        done += 1
        steps.report(done / total, f"detection: clean {name}")
    return {
        "per_kind": {kind: {method: scores_from_counts(*c) for method, c in by_method.items()}
                     for kind, by_method in counts.items()},
        "clean_flagged_percent": {m: 100.0 * f / n for m, (f, n) in flagged.items()},
        "examples": examples,
    }


def detection_markdown(result: Dict[str, object]) -> str:
    """The per-kind F1 table (precision/recall in brackets) and clean false positives."""
    lines = ["| kind | target F1 | " + " | ".join(METHODS) + " |",
             "|---|---|" + "---|" * len(METHODS)]
    for kind, by_method in result["per_kind"].items():
        cells = [f"{s['f1']:.3f} ({s['precision']:.2f}/{s['recall']:.2f})" for s in by_method.values()]
        lines.append(f"| {kind} | {F1_TARGETS[kind]:.2f} | " + " | ".join(cells) + " |")
    lines.append("| clean: voxels flagged | ≤ 0.01 % | " + " | ".join(
        f"{result['clean_flagged_percent'][m]:.4f} %" for m in METHODS) + " |")
    return "\n".join(lines)


def save_detection_figure(examples, path) -> None:
    """One row per kind: the damaged axial slice with the truth (red) and the detected mask of
    the LSTM (cyan) and of median/MAD (yellow) outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..intensity import display_window
    from ..report_figure import busiest_slices

    kinds = list(examples)
    figure, axes = plt.subplots(len(kinds), 3, figsize=(7.5, 2.5 * len(kinds)), squeeze=False)
    titles = ("truth (red)", "DPD_D + LSTM (cyan)", "median/MAD (yellow)")
    for row, kind in enumerate(kinds):
        damaged, truth, lstm, mad = examples[kind]
        k, j, _ = busiest_slices(truth != 0)
        # A missing slice fills its axial plane: show it across, in the coronal plane.
        axis, index = (1, j) if (truth[k] != 0).mean() > 0.5 else (0, k)
        low, high = display_window(damaged)
        for column, (mask, colour) in enumerate(((truth, "red"), (lstm, "cyan"), (mad, "yellow"))):
            ax = axes[row, column]
            ax.imshow(np.take(damaged, index, axis), cmap="gray", vmin=low, vmax=high, origin="lower")
            plane = np.take(mask, index, axis)
            if np.any(plane):
                ax.contour(plane.astype(float), levels=[0.5], colors=colour, linewidths=0.7)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[column], fontsize=9)
            if column == 0:
                ax.set_ylabel(f"{kind}\n{'kj'[axis]}={index}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
