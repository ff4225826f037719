"""Tables, targets and the figure of the filling benchmark (:mod:`.inpainting`)."""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from ..intensity import display_window
from .common import verdict
from .inpainting import BASELINES, HOLES_3D, PIXELS_AND_LINES


def filling_targets(result: Dict[str, object], timing: Optional[Dict[str, Dict[str, float]]]) -> List[List[str]]:
    """Rows (target, goal, measured, verdict) of the issue's filling targets."""
    rows = []
    per_case = result["per_case"]
    for case, methods in per_case.items():
        gan = methods["gan"]
        baselines = {m: s for m, s in methods.items() if m in BASELINES}
        best_name = max(baselines, key=lambda m: baselines[m]["psnr_mask"])
        best = baselines[best_name]["psnr_mask"]
        if case in HOLES_3D:
            bih = methods["biharmonic3d"]
            goal = bih["psnr_mask"] + 2
            rows.append([f"PSNR_mask {case}", f"≥ biharmonic3d + 2 = {goal:.2f} dB", f"{gan['psnr_mask']:.2f} dB",
                         verdict(gan["psnr_mask"] >= goal, gan["psnr_mask"] - goal)])
            goal = bih["ssim_mask"] + 0.05
            rows.append([f"SSIM_mask {case}", f"≥ biharmonic3d + 0.05 = {goal:.3f}", f"{gan['ssim_mask']:.3f}",
                         verdict(gan["ssim_mask"] >= goal, gan["ssim_mask"] - goal)])
            ratio = gan["texture_ratio"]
            ok = 0.7 <= ratio <= 1.3 and gan["psnr_mask"] >= bih["psnr_mask"]
            margin = (min(abs(ratio - 0.7), abs(ratio - 1.3)) if not 0.7 <= ratio <= 1.3
                      else gan["psnr_mask"] - bih["psnr_mask"])
            rows.append([f"texture ratio {case}", "0.7–1.3 with PSNR_mask ≥ biharmonic3d",
                         f"{ratio:.2f} ({gan['psnr_mask'] - bih['psnr_mask']:+.2f} dB)", verdict(ok, margin)])
        if case in PIXELS_AND_LINES or case in HOLES_3D:
            goal = best + (2 if case in PIXELS_AND_LINES else 0)
            label = "+ 2 dB" if case in PIXELS_AND_LINES else "(above every baseline)"
            rows.append([f"PSNR_mask {case} vs best baseline", f"≥ {best_name} {label} = {goal:.2f} dB",
                         f"{gan['psnr_mask']:.2f} dB", verdict(gan["psnr_mask"] >= goal, gan["psnr_mask"] - goal)])
    if timing:
        hole = timing["hole_32"]["seconds"]
        rows.append(["one 32³ hole (this CPU)", "≤ 1 s", f"{hole:.2f} s", verdict(hole <= 1, hole - 1)])
        big = timing["volume_256"]
        rows.append([f"256³ with {big['defect_percent']:.2f} % damaged (this CPU)", "≤ 30 s",
                     f"{big['seconds']:.1f} s", verdict(big["seconds"] <= 30, big["seconds"] - 30)])
        rows.append(["256³ fill peak memory", "≤ 4 GB", f"{big['peak_memory_gb']:.2f} GB",
                     verdict(big["peak_memory_gb"] <= 4, big["peak_memory_gb"] - 4)])
    return rows


def _score_table(per_case, methods) -> List[str]:
    cases = list(per_case)
    lines = ["| method | " + " | ".join(cases) + " |", "|---|" + "---|" * len(cases)]
    for method in methods:
        cells = [f"{per_case[c][method]['psnr_mask']:.2f} / {per_case[c][method]['ssim_mask']:.3f}" for c in cases]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def filling_markdown(result: Dict[str, object], timing, targets) -> str:
    per_case = result["per_case"]
    cases = list(per_case)
    lines = ["PSNR_mask dB / SSIM_mask (mean over volumes × seeds), known mask:", ""]
    lines += _score_table(per_case, result["methods"])
    lines += [f"\nNote: {note}" for note in result.get("notes", [])]
    if result.get("adapt_seconds"):
        lines += ["", f"gan+tta: the GAN after {result['adapt_seconds']:g} s of test-time adaptation per fill."]
    for name, scores in result.get("per_volume", {}).items():
        lines += ["", f"{name} alone:", ""] + _score_table(scores, result["methods"])
    lines += ["", "Texture (std of the Laplacian over the hole, fill ÷ truth) and mean seconds per volume:", "",
              "| method | " + " | ".join(cases) + " |", "|---|" + "---|" * len(cases)]
    for method in result["methods"]:
        cells = [f"{per_case[c][method]['texture_ratio']:.2f} · {per_case[c][method]['seconds']:.2f} s" for c in cases]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    if timing:
        lines += ["", "Default fill (auto) cost (child process, CPU): "
                  f"one 32³ hole {timing['hole_32']['seconds']:.2f} s; 256³ with "
                  f"{timing['volume_256']['defect_percent']:.2f} % damaged (mixed defects) "
                  f"{timing['volume_256']['seconds']:.1f} s, peak memory "
                  f"{timing['volume_256']['peak_memory_gb']:.2f} GB"]
    lines += ["", "| filling target | goal | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in targets]
    return "\n".join(lines) + "\n"


def save_filling_figure(example, path) -> None:
    """The axial slice through the middle of the example's hole: truth, damaged, the GAN and
    the baselines, each with the hole outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case, truth, damaged, mask, fills = example
    k = int(np.argmax(mask.sum(axis=(1, 2))))
    panels = [("truth", truth), ("damaged", damaged)] + [(m, f) for m, f in fills.items()
                                                          if not m.startswith("gan ")]
    low, high = display_window(truth)
    columns = 4
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (title, image) in zip(axes.ravel(), panels):
        ax.imshow(image[k], cmap="gray", vmin=low, vmax=high, origin="lower")
        ax.contour(mask[k].astype(float), levels=[0.5], colors="red", linewidths=0.5)
        ax.set_title(title, fontsize=8)
    figure.suptitle(f"{case}, axial slice k={k} (hole outlined)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> None:
    """The filling section alone (what ``medrestore benchmark`` runs, without detection):

        python -m MedRestoreLib.benchmark.inpainting_report --out DIR [--quick] [--seeds 0 1 2]
    """
    import argparse
    from pathlib import Path

    from ..json_output import write_json
    from ..progress import Steps
    from .common import development_volumes, sample_256
    from .inpainting import filling_timing, inpainting_benchmark

    parser = argparse.ArgumentParser(description="filling benchmark only")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--adapt-seconds", type=float, default=0.0,
                        help="also run the GAN with this much test-time adaptation per fill")
    parser.add_argument("--cases", nargs="+", help="only these cases (skips the 256³ timing)")
    parser.add_argument("--methods", nargs="+", help="only these methods, e.g. gan gan+tta biharmonic3d")
    parser.add_argument("--candidate", type=Path, metavar="MODEL_DIR",
                        help="also score this model folder (a training run's --out) as \"gan candidate\"")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    volumes = development_volumes(args.quick)
    result = inpainting_benchmark(volumes, args.seeds, args.device, args.quick,
                                  Steps(lambda f, m: print(f"{100 * f:5.1f} % {m}", flush=True)),
                                  args.adapt_seconds, args.cases, args.methods, args.candidate)
    partial = args.quick or args.cases or args.methods
    result["timing_256"] = None if partial else filling_timing(sample_256(), args.device)
    result["targets"] = filling_targets(result, result["timing_256"])
    example = result.pop("example")
    if example is not None:
        save_filling_figure(example, args.out / "inpainting.png")
    result.update(seeds=args.seeds, volumes={name: list(v.shape) for name, v in volumes.items()})
    write_json(result, args.out / "filling.json")
    (args.out / "filling.md").write_text(filling_markdown(result, result["timing_256"], result["targets"]))


if __name__ == "__main__":
    main()
