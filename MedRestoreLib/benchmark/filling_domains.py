"""Filling across image domains no filler was trained on, with the true mask (issue: a fill that is
never worse than the best classical fill on any scan).

    python -m MedRestoreLib.benchmark.filling_domains --out DIR [--quick] [--seeds 0] [--candidate NAME=DIR]

For every domain of :mod:`.domains` and every defect kind — dead pixels, line dropouts (full and
partial), attenuated regions, noise blobs, blobs, 16³ and 32³ signal voids — every filler fills
the same damaged volume with the simulator's mask: ``auto`` (the default: self-validated per
region), the learned fillers (``gan``, ``unet`` when shipped, and any ``--candidate`` model
folder), and the classical ones (3-D and 2-D biharmonic, mean of adjacent slices, OpenCV Telea,
median of known neighbours). Scores per the evaluation protocol: PSNR_mask, SSIM_mask, texture
ratio (std of the Laplacian in the defect, fill ÷ truth) and seconds (:func:`.inpainting.scores`).
Writes ``filling_domains.json`` and ``.md`` (tables, the targets and their gaps).
"""
from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..defects import corrupt
from ..errors import InputError
from ..inpainting import adjacent_slices, biharmonic_2d, biharmonic_3d, filler_for, neighbour_median, opencv_inpaint
from ..inpainting.gan_filler import gan_fill, load_gan
from ..json_output import write_json
from ..options import FillMethod, FillOptions
from ..progress import Steps
from .common import verdict
from .domains import Domain, development_domains
from .inpainting import scores

KINDS = {  # name: (simulator kind, box size)
    "dead pixels": ("dead-pixels", None), "lines": ("line-dropout", None), "partial lines": ("partial-line", None),
    "attenuated": ("attenuation", None), "noise blobs": ("noise-burst", None), "blobs": ("blob", None),
    "16³ void": ("void", 16), "32³ void": ("void", 32),
}
HOLES = ("blobs", "16³ void", "32³ void")
PIXELS_AND_LINES = ("dead pixels", "lines", "partial lines")
CLASSICAL = ("biharmonic3d", "biharmonic2d", "adjacent-slices", "telea", "neighbour-median")


def fillers(candidates: Optional[Dict[str, Path]] = None) -> Dict[str, object]:
    """Label → fill function: the defaults as ``restore`` runs them, every shipped learned model,
    candidates, and the classical fills."""
    table = {"auto": filler_for(FillOptions(method=FillMethod.AUTO)),
             "gan": functools.partial(gan_fill, model=load_gan())}
    if "UNET" in FillMethod.__members__:
        table["unet"] = filler_for(FillOptions(method=FillMethod.UNET))
    for label, folder in (candidates or {}).items():
        table[label] = functools.partial(gan_fill, model=load_gan(folder))
    table.update({"biharmonic3d": biharmonic_3d, "biharmonic2d": biharmonic_2d, "adjacent-slices": adjacent_slices,
                  "telea": functools.partial(opencv_inpaint, method="telea"), "neighbour-median": neighbour_median})
    return table


def filling_domains(domains: Dict[str, Domain], seeds: List[int], table: Dict[str, object],
                    steps: Optional[Steps] = None) -> Dict[str, object]:
    """Scores per domain, kind and filler (means over seeds), JSON-ready."""
    steps = steps or Steps()
    per_domain: Dict[str, dict] = {}
    total, done = len(domains) * len(KINDS) * len(seeds), 0
    for name, domain in domains.items():
        volume = domain.volume
        rows: Dict[str, dict] = {}
        for kind, (simulator_kind, box) in KINDS.items():
            collected: Dict[str, List[Dict[str, float]]] = {}
            for seed in seeds:
                damaged, truth, _ = corrupt(volume, simulator_kind, seed=seed, box_size=box)
                mask = truth.array.astype(bool)
                for label, fill in table.items():
                    if label == "adjacent-slices" and volume.shape[0] < 2:
                        continue  # one slice: no neighbours to average
                    started = time.perf_counter()
                    try:
                        filled = fill(damaged.array.astype(np.float64), mask)
                    except InputError:
                        continue  # e.g. everything masked for this filler
                    result = scores(volume.array, filled, mask)
                    result["seconds"] = time.perf_counter() - started
                    collected.setdefault(label, []).append(result)
                done += 1
                steps.report(done / total, f"filling: {name}, {kind}, seed {seed}")
            rows[kind] = {label: {key: float(np.mean([r[key] for r in results])) for key in results[0]}
                          for label, results in collected.items()}
        per_domain[name] = {"description": domain.description, "group": domain.group, "kinds": rows}
    return {"seeds": seeds, "domains": per_domain, "targets": filling_targets(per_domain)}


def _best_classical(row: Dict[str, dict]) -> str:
    return max((label for label in CLASSICAL if label in row), key=lambda label: row[label]["psnr_mask"])


def filling_targets(per_domain: Dict[str, dict]) -> List[List[str]]:
    """Rows (target, goal, measured, verdict) of the issue's filling targets."""
    rows = []
    gaps = [(row["auto"]["psnr_mask"] - row[_best_classical(row)]["psnr_mask"], f"{name}, {kind}")
            for name, domain in per_domain.items() for kind, row in domain["kinds"].items() if "auto" in row]
    worst = min(gaps)
    rows.append(["auto − best classical, every domain × kind (worst)", "≥ −0.1 dB", f"{worst[0]:+.2f} dB ({worst[1]})",
                 verdict(worst[0] >= -0.1, worst[0] + 0.1)])
    below = sum(gap < -0.1 for gap, _ in gaps)
    rows.append(["cases where auto is below the best classical by > 0.1 dB", "0", f"{below} of {len(gaps)}",
                 verdict(below == 0, below)])
    for learned in ("gan", "unet", "auto"):
        holes = [domain["kinds"][kind] for domain in per_domain.values() for kind in HOLES
                 if learned in domain["kinds"][kind]]
        if not holes:
            continue
        gain = float(np.mean([r[learned]["psnr_mask"] - r["biharmonic3d"]["psnr_mask"] for r in holes]))
        ssim = float(np.mean([r[learned]["ssim_mask"] - r["biharmonic3d"]["ssim_mask"] for r in holes]))
        texture = float(np.mean([r[learned]["texture_ratio"] for r in holes]))
        rows.append([f"3-D holes, {learned} − biharmonic 3-D PSNR_mask (mean over domains)", "≥ +2 dB",
                     f"{gain:+.2f} dB", verdict(gain >= 2, gain - 2)])
        rows.append([f"3-D holes, {learned} − biharmonic 3-D SSIM_mask", "≥ +0.05", f"{ssim:+.3f}",
                     verdict(ssim >= 0.05, ssim - 0.05)])
        rows.append([f"3-D holes, {learned} texture ratio", "0.7–1.3", f"{texture:.2f}",
                     verdict(0.7 <= texture <= 1.3, min(abs(texture - 0.7), abs(texture - 1.3)))])
        small = [domain["kinds"][kind] for domain in per_domain.values() for kind in PIXELS_AND_LINES
                 if learned in domain["kinds"][kind]]
        gain = float(np.mean([r[learned]["psnr_mask"] - r[_best_classical(r)]["psnr_mask"] for r in small]))
        rows.append([f"dead pixels and lines, {learned} − best classical (mean)", "≥ +1 dB", f"{gain:+.2f} dB",
                     verdict(gain >= 1, gain - 1)])
    return rows


def filling_domains_markdown(result: Dict[str, object]) -> str:
    """PSNR_mask per domain × kind for auto, the learned fills and the best classical fill."""
    domains = result["domains"]
    labels = [label for label in ("auto", "gan", "unet") if any(
        label in row for domain in domains.values() for row in domain["kinds"].values())]
    lines = [f"### PSNR_mask (dB): {' / '.join(labels)} / best classical (which)", "",
             "| domain | " + " | ".join(KINDS) + " |", "|---|" + "---|" * len(KINDS)]
    for name, domain in domains.items():
        cells = []
        for kind in KINDS:
            row = domain["kinds"][kind]
            best = _best_classical(row)
            cells.append(" / ".join(f"{row[label]['psnr_mask']:.1f}" if label in row else "–" for label in labels)
                         + f" / {row[best]['psnr_mask']:.1f} ({best})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "### Texture ratio in the defects (fill ÷ truth; target 0.7–1.3): " + " / ".join(labels)
              + " / biharmonic3d", "", "| domain | " + " | ".join(KINDS) + " |", "|---|" + "---|" * len(KINDS)]
    for name, domain in domains.items():
        lines.append(f"| {name} | " + " | ".join(
            " / ".join(f"{domain['kinds'][k][label]['texture_ratio']:.2f}" if label in domain["kinds"][k] else "–"
                       for label in labels + ["biharmonic3d"]) for k in KINDS) + " |")
    lines += ["", "### Targets", "", "| target | goal | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in result["targets"]]
    return "\n".join(lines) + "\n"


def run(out: Path, quick: bool = False, seeds: Optional[List[int]] = None,
        candidates: Optional[Dict[str, Path]] = None, steps: Optional[Steps] = None) -> Dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    result = filling_domains(development_domains(quick=quick), seeds or [0], fillers(candidates), steps)
    write_json(result, out / "filling_domains.json")
    (out / "filling_domains.md").write_text(filling_domains_markdown(result))
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m MedRestoreLib.benchmark.filling_domains",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="five domains")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--candidate", action="append", default=[], metavar="NAME=DIR",
                        help="a trained model folder scored beside the shipped fillers")
    args = parser.parse_args(argv)
    candidates = dict((item.split("=", 1)[0], Path(item.split("=", 1)[1])) for item in args.candidate)
    run(args.out, args.quick, args.seeds, candidates)
    print(f"wrote {args.out}/filling_domains.md")


if __name__ == "__main__":
    main()
