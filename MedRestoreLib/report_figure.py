"""PNG figures of a restore: rows of volumes, columns of the three planes, defects outlined.

Planes are cut where the defect mask has the most voxels along each axis, so the picture shows
damage rather than an arbitrary middle slice. Matplotlib runs with the Agg backend (no screen).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import InputError
from .intensity import display_window
from .output_files import write_atomically
from .volume import Volume

PLANES = (("axial", 0), ("coronal", 1), ("sagittal", 2))


def busiest_slices(mask: np.ndarray, most: float = 0.5) -> Tuple[int, int, int]:
    """For each axis (k, j, i), the plane holding the most mask voxels (the centre if none).

    Planes more than ``most`` covered (a missing slice seen face-on) are passed over when another
    plane shows defects, since they show no image around the damage.
    """
    indices = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        counts = (mask != 0).sum(axis=other).astype(float)
        plane_size = mask.size / mask.shape[axis]
        partial = np.where(counts <= most * plane_size, counts, 0.0)
        counts = partial if partial.any() else counts
        indices.append(int(np.argmax(counts)) if counts.any() else mask.shape[axis] // 2)
    return tuple(indices)


def _plane(array: np.ndarray, axis: int, index: int) -> np.ndarray:
    return np.take(array, index, axis=axis)


def _aspect(volume: Volume, axis: int) -> float:
    # Displayed rows/columns of each cut: axial (j, i), coronal (k, i), sagittal (k, j).
    si, sj, sk = volume.spacing
    return {0: sj / si, 1: sk / si, 2: sk / sj}[axis]


def _grid(rows: Sequence[Tuple[str, np.ndarray, dict]], geometry: Volume, mask: np.ndarray,
          outline: Sequence[bool], table: Optional[List[List[str]]], title: str, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cut = busiest_slices(mask)
    extra = 1 if table else 0
    figure, axes = plt.subplots(len(rows) + extra, 3, figsize=(9, 2.6 * (len(rows) + extra) + 0.4),
                                squeeze=False)
    for row, ((label, array, style), draw_outline) in enumerate(zip(rows, outline)):
        for column, (plane_name, axis) in enumerate(PLANES):
            ax = axes[row, column]
            ax.imshow(_plane(array, axis, cut[axis]), origin="lower", aspect=_aspect(geometry, axis),
                      interpolation="nearest", **style)
            if draw_outline and mask.any():
                ax.contour(_plane(mask, axis, cut[axis]).astype(float), levels=[0.5],
                           colors="red", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{plane_name} {'kji'[axis]}={cut[axis]}", fontsize=9)
            if column == 0:
                ax.set_ylabel(label, fontsize=9)
    if table:
        for ax in axes[-1]:
            ax.axis("off")
        merged = figure.add_subplot(len(rows) + 1, 1, len(rows) + 1)
        merged.axis("off")
        widths = [0.34] + [0.66 / (len(table[0]) - 1)] * (len(table[0]) - 1)
        rendered = merged.table(cellText=table[1:], colLabels=table[0], loc="center",
                                cellLoc="center", colWidths=widths)
        rendered.auto_set_font_size(False)
        rendered.set_fontsize(7.5)
        rendered.scale(1.0, 1.15)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    try:
        kind = Path(path).suffix.lower().lstrip(".") or "png"
        if kind not in figure.canvas.get_supported_filetypes():
            raise InputError(f"{path}: cannot write a picture of type '.{kind}' (use .png)")
        write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=110, format=kind))
    finally:
        plt.close(figure)


def _grey(reference: np.ndarray) -> dict:
    low, high = display_window(reference)
    return {"cmap": "gray", "vmin": low, "vmax": high}


def save_preview(original: Volume, restored: Volume, mask: Volume, path) -> None:
    """Input, restored and changed voxels (red outline) in three planes."""
    grey = _grey(original.array)
    defects = mask.array != 0
    rows = [("input", original.array, grey), ("restored", restored.array, grey),
            ("changed", defects.astype(np.uint8), {"cmap": "magma", "vmin": 0, "vmax": 1})]
    _grid(rows, original, defects, [True, False, False], None,
          f"MedRestore: {int(defects.sum())} voxels changed", path)


def save_demo_report(clean: Volume, damaged: Volume, restored: Volume, truth: Volume,
                     detected: Volume, known_mask_fill: Volume, scores: Dict[str, Dict[str, float]],
                     path, title: str = "MedRestore demo") -> None:
    """Before / damaged / restored blind / filled with the true mask / masks / difference, and a
    table of scores per method.

    Args:
        scores: method name → {"psnr_mask", "ssim_mask", "seconds", ...}.
    """
    grey = _grey(clean.array)
    truth_mask = truth.array != 0
    masks = truth_mask.astype(np.int8) + 2 * (detected.array != 0)
    difference = np.abs(restored.array.astype(np.float64) - clean.array.astype(np.float64))
    spread = grey["vmax"] - grey["vmin"]
    rows = [
        ("before (clean)", clean.array, grey),
        ("damaged", damaged.array, grey),
        ("restored (blind)", restored.array, grey),
        ("filled, true mask known", known_mask_fill.array, grey),
        ("masks: truth 1, detected 2, both 3", masks, {"cmap": "viridis", "vmin": 0, "vmax": 3}),
        ("|blind restored − clean|", difference, {"cmap": "inferno", "vmin": 0, "vmax": 0.5 * spread}),
    ]
    header = ["method", "PSNR_mask dB", "SSIM_mask", "PSNR dB", "SSIM", "time s"]
    table = [header] + [[name, f"{s['psnr_mask']:.2f}", f"{s['ssim_mask']:.3f}", f"{s['psnr']:.2f}",
                         f"{s['ssim']:.3f}", f"{s.get('seconds', 0.0):.2f}"]
                        for name, s in scores.items()]
    _grid(rows, clean, truth_mask, [False, True, False, False, False, False], table, title, path)
