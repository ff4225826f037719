"""Filling benchmark: PSNR_mask / SSIM_mask per defect kind for the GAN filler, its ablations
and every classical baseline, on the same damaged development volumes in the same run.

The mask is known (the simulator's ground truth), so only the fill is measured. Each method
fills the damaged volume (float output, before the cast back to the voxel type, so the
uint8 MNI152 quantisation does not blur the comparison); scores follow the evaluation
protocol (:mod:`MedRestoreLib.metrics`: the reference's 0.5/99.5 percentiles, data range 1).
SSIM is computed on the mask's bounding box grown by 8 voxels, which gives the full map's
values on every defect voxel (the 11-voxel Gaussian window reaches 5 voxels).

Texture: std of the 3-D Laplacian over the defect voxels, fill ÷ truth (1 = as much
high-frequency energy as real tissue; a biharmonic blur gives much less).
"""
from __future__ import annotations

import functools
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from ..defects import corrupt
from ..errors import InputError
from ..inpainting import adjacent_slices, biharmonic_2d, biharmonic_3d, neighbour_median, opencv_inpaint
from ..inpainting.gan_filler import gan_fill, load_gan
from ..intensity import normalise_intensity
from ..metrics import psnr_normalised, ssim_map
from ..models.catalog import folder as model_folder
from ..options import FillOptions
from ..progress import Steps
from ..volume import Volume

#: benchmark case → (simulator kind, box size)
CASES = {"dead-pixels": ("dead-pixels", None), "hot-pixels": ("hot-pixels", None),
         "line-dropout": ("line-dropout", None), "partial-line": ("partial-line", None),
         "attenuation": ("attenuation", None), "blob": ("blob", None),
         "box-16": ("box", 16), "box-32": ("box", 32)}
QUICK_CASES = ("dead-pixels", "line-dropout", "blob", "box-16")
HOLES_3D = ("blob", "box-16", "box-32")
PIXELS_AND_LINES = ("dead-pixels", "hot-pixels", "line-dropout", "partial-line")
BASELINES = ("biharmonic3d", "biharmonic2d", "adjacent-slices", "neighbour-median", "telea", "navier-stokes")
#: the v1.0.0 run's generators at step 1600 with one loss term off (see that folder's card):
#: the experiment that chose v1.2.0's loss, kept beside the current model in the benchmark.
#: v1.0.0 is archived (model-archive/ of a source checkout), not installed.
ABLATION_MODEL = ("inpaint-gan", "1.0.0")
#: ablation label → weights file in the ABLATION_MODEL folder
ABLATIONS = {"gan full @1600 steps": "ablation-full-step1600.pt",
             "gan no adversarial @1600": "ablation-no-adversarial-step1600.pt",
             "gan no covariance @1600": "ablation-no-covariance-step1600.pt"}


def build_fillers(device: str, quick: bool, adapt_seconds: float = 0.0, candidate=None,
             notes: Optional[List[str]] = None) -> Dict[str, object]:
    """Label → fill function. Without the model archive the ablation rows are left out and a
    line saying so is appended to ``notes``."""
    import torch

    shipped = load_gan(device=device)  # adaptation fine-tunes a copy: one load serves both
    fillers = {"gan": functools.partial(gan_fill, model=shipped),
               "gan initial fill only": functools.partial(gan_fill, model=_zero_generator(device))}
    if candidate is not None:  # a newly trained model folder, scored beside the shipped one
        fillers["gan candidate"] = functools.partial(gan_fill, model=load_gan(candidate, device))
    if adapt_seconds > 0:  # opt-in: it costs adapt_seconds per fill
        fillers["gan+tta"] = functools.partial(gan_fill, model=shipped, adapt_seconds=adapt_seconds)
    if not quick:
        try:
            archived = model_folder(*ABLATION_MODEL)
        except InputError as error:  # an installed package has no archive: score the rest
            archived = None
            if notes is not None:
                notes.append(f"ablation rows left out: {error}")
        for label, weights in ABLATIONS.items() if archived else ():
            fillers[label] = functools.partial(gan_fill, model=load_gan(archived, device, weights))
    fillers.update({
        "biharmonic3d": biharmonic_3d, "biharmonic2d": biharmonic_2d, "adjacent-slices": adjacent_slices,
        "neighbour-median": neighbour_median,
        "telea": functools.partial(opencv_inpaint, method="telea"),
        "navier-stokes": functools.partial(opencv_inpaint, method="navier-stokes")})
    if quick:
        fillers = {k: v for k, v in fillers.items()
                   if k in ("gan", "gan+tta", "gan candidate", "biharmonic3d", "adjacent-slices")}
    torch.manual_seed(0)
    return fillers


def _zero_generator(device):
    """The shipped model with its output layer zeroed: the smooth initial fill alone, through
    the same code path (what the generator adds is the difference)."""
    import torch

    model = load_gan(device=device)
    with torch.no_grad():
        model.generator.head.weight.zero_()
        model.generator.head.bias.zero_()
    return model


def laplacian_std(normalised: np.ndarray, mask: np.ndarray) -> float:
    from scipy import ndimage

    return float(np.std(ndimage.laplace(normalised)[mask]))


def scores(reference: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> Dict[str, float]:
    ref = normalise_intensity(reference)
    test = normalise_intensity(filled, reference)
    where = np.nonzero(mask)
    box = tuple(slice(max(int(w.min()) - 8, 0), int(w.max()) + 9) for w in where)
    ssim = float(ssim_map(ref[box], test[box])[mask[box]].mean())
    truth_texture = laplacian_std(ref[box], mask[box])
    return {"psnr_mask": psnr_normalised(ref, test, mask), "ssim_mask": ssim,
            "texture_ratio": laplacian_std(test[box], mask[box]) / max(truth_texture, 1e-12)}


def inpainting_benchmark(volumes: Dict[str, Volume], seeds: List[int], device: str, quick: bool,
                         steps: Steps, adapt_seconds: float = 0.0, cases: Optional[List[str]] = None,
                         methods: Optional[List[str]] = None, candidate=None) -> Dict[str, object]:
    """Per case and method: mean PSNR_mask, SSIM_mask, texture ratio and seconds over the
    volumes × seeds; plus one example (box-32, or the last case) for the figure.
    ``adapt_seconds`` > 0 adds "gan+tta", the GAN with that much test-time adaptation per
    fill; ``cases`` and ``methods`` (labels: "gan", "gan+tta", "biharmonic3d", ...) narrow the
    run; ``candidate`` (a model folder) adds "gan candidate". ``per_volume`` holds the same
    scores for each volume (mean over seeds)."""
    notes: List[str] = []
    fillers = build_fillers(device, quick, adapt_seconds, candidate, notes)
    for note in notes:  # said now as well as in the report, so nobody waits for rows that will not come
        print(f"filling benchmark: {note}", file=sys.stderr)
    if methods:
        fillers = {k: v for k, v in fillers.items() if k in methods}
    cases = tuple(cases) if cases else QUICK_CASES if quick else tuple(CASES)
    runs = [(name, volume, seed, case) for name, volume in volumes.items() for seed in seeds for case in cases]
    collected: Dict[str, Dict[str, List[Dict[str, float]]]] = {}
    by_volume: Dict[str, Dict[str, Dict[str, List[Dict[str, float]]]]] = {}
    example = None
    for n, (name, volume, seed, case) in enumerate(runs):
        kind, box = CASES[case]
        damaged, mask, _ = corrupt(volume, kind, seed=seed, box_size=box)
        mask = mask.array.astype(bool)
        fills = {}
        for method, filler in fillers.items():
            started = time.perf_counter()
            fills[method] = filler(damaged.array.astype(np.float64), mask)
            seconds = time.perf_counter() - started
            result = dict(scores(volume.array, fills[method], mask), seconds=seconds)
            collected.setdefault(case, {}).setdefault(method, []).append(result)
            by_volume.setdefault(name, {}).setdefault(case, {}).setdefault(method, []).append(result)
        if case == ("box-16" if quick else "box-32") and example is None:
            example = (case, volume.array, damaged.array, mask, fills)
        steps.report((n + 1) / len(runs), f"filling: {case} on {name}, seed {seed}")
    return {"per_case": _means(collected), "per_volume": {name: _means(c) for name, c in by_volume.items()},
            "methods": list(fillers), "adapt_seconds": adapt_seconds, "example": example, "notes": notes}


def _means(collected) -> Dict[str, Dict[str, Dict[str, float]]]:
    """case → method → mean of each score over the runs."""
    return {case: {method: {key: float(np.mean([r[key] for r in results])) for key in results[0]}
                   for method, results in methods.items()} for case, methods in collected.items()}


def filling_timing(volume_256: Volume, device: str) -> Dict[str, Dict[str, float]]:
    """Time and peak memory of ``restore``'s default fill (``auto``: self-validation included)
    in a child process: on ``volume_256`` (the detection timing's volume) with mixed defects
    damaging just over 1 % of its voxels (the issue's target; three regions of each kind, boxes
    up to 32³), and with one 32³ box."""
    import tempfile
    from pathlib import Path

    from ..volume import write_volume
    from .fill_timing import measure_fill

    cases = {"volume_256": corrupt(volume_256, "mixed", seed=0, count=3, box_size=32),
             "hole_32": corrupt(volume_256, "box", seed=0, count=1, box_size=32)}
    timing = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (damaged, mask, _) in cases.items():
            write_volume(damaged, Path(folder) / f"{name}.nrrd")
            write_volume(mask, Path(folder) / f"{name}-mask.nrrd")
            timing[name] = measure_fill(Path(folder) / f"{name}.nrrd", Path(folder) / f"{name}-mask.nrrd",
                                        FillOptions().method.value, device)
    return timing
