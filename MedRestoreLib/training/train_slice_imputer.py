"""Train the recurrent slice imputer (SRN or LSTM; one command, seed and config in one file).

    medrestore train slice-imputer --config MedRestoreLib/training/configs/slice-lstm.json \\
        --out out/train/slice-lstm [--resume]

Data (DESIGN.md's training data only): Colin27 ``ch2``, ``ch2bet``, ``ch2better`` from the data
cache, resampled to each listed spacing and normalised to [0, 1] (p0.5/p99.5 of non-zero
voxels). Every step takes crops of ``crop``² voxels in-plane and a slab along a random axis
(all three axes, random flips), acquires them at a random factor as thick slices (slab means)
or sampled slices, and trains the network to give the thin slices (MSE on the thin slices that
were not acquired exactly). Validation on the development volume (MNI152 2009a, 2 mm, bundled)
reports PSNR on the missing slices beside cubic interpolation. Writes ``weights.pt``,
``config.json``, ``metadata.json`` into ``--out``; a checkpoint every ``checkpoint_every``
steps, continued by ``--resume``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch

from ..data import SAMPLE
from ..devices import resolve_device
from ..imputation.interpolation import interpolate
from ..imputation.layout import Acquisition, simulate
from ..imputation.slice_net import build, neighbour_indices
from ..intensity import intensity_window
from ..volume import read_volume
from .checkpoint import report, trainer_parser
from .colin import resample
from .distributed import start
from .fetch_data import fetch
from .loop import LoopSettings, TrainingLoop, optimise
from .run_folder import write_run_folder


def normalised(array: np.ndarray) -> np.ndarray:
    low, high = intensity_window(array)
    return np.clip((array.astype(np.float32) - low) / (high - low), 0, 1.2)


def load_training(cache: Path, names: List[str], spacings: List[float]) -> List[np.ndarray]:
    return [normalised(resample(read_volume(cache / name), spacing)) for name in names for spacing in spacings]


def sample_batch(volumes, config, rng):
    """(acquired (B, n, c, c), base, truth (B, L, c, c), layout) of one factor and acquisition."""
    data = config["data"]
    factor = int(rng.choice(data["factors"]))
    acquisition = Acquisition(rng.choice(["thick", "sampled"]))
    count, crop = data["acquired_slices"], data["crop"]
    length = count * factor if acquisition == Acquisition.THICK else (count - 1) * factor + 1
    acquired, bases, truths = [], [], []
    while len(truths) < config["train"]["batch"]:
        volume = np.moveaxis(volumes[rng.integers(len(volumes))], int(rng.integers(3)), 0)
        if volume.shape[0] < length or min(volume.shape[1:]) < crop:
            continue
        start = [int(rng.integers(0, n - s + 1)) for n, s in zip(volume.shape, (length, crop, crop))]
        block = volume[start[0]:start[0] + length, start[1]:start[1] + crop, start[2]:start[2] + crop]
        if (block > 0.1).mean() < 0.3:
            continue
        if rng.random() < 0.5:
            block = block[:, ::-1]
        if rng.random() < 0.5:
            block = block[:, :, ::-1]
        if rng.random() < 0.5:
            block = block[::-1]
        observations, truth, layout = simulate(np.ascontiguousarray(block), factor, acquisition)
        acquired.append(observations)
        bases.append(interpolate(observations, layout))
        truths.append(truth)
    return (torch.as_tensor(np.stack(acquired)), torch.as_tensor(np.stack(bases)),
            torch.as_tensor(np.stack(truths)), layout)


def validate(model, config) -> Dict[str, Dict[str, float]]:
    """PSNR (dB, normalised intensities) on the missing thin slices of the development volume,
    model vs cubic, per acquisition and factor (slice axis = the volume's k axis)."""
    from ..imputation.recurrent import impute_recurrent

    volume = normalised(read_volume(SAMPLE).array)
    scores = {}
    for acquisition in ("thick", "sampled"):
        for factor in config["validation"]["factors"]:
            observations, truth, layout = simulate(volume, factor, Acquisition(acquisition))
            missing = ~layout.observed
            predicted = impute_recurrent(model, observations, layout)
            cubic = interpolate(observations, layout)
            scores[f"{acquisition}-{factor}x"] = {
                name: float(10 * np.log10(
                    1 / np.mean((np.clip(v, 0, 1)[missing] - np.clip(truth, 0, 1)[missing]) ** 2)))
                for name, v in (("model", predicted), ("cubic", cubic))}
    return scores


def train(config_path: Path, out: Path, cache: Path, resume: bool = False, device: str = "cpu") -> Optional[Dict]:
    """Train (or resume) the run in ``out``; returns the run's metadata on rank 0 (None elsewhere)."""
    torch.set_num_threads(1)
    config = json.loads(Path(config_path).read_text())
    settings = config["train"]
    distributed = start(device)
    torch.manual_seed(settings["seed"])  # the same initial weights on every rank
    if distributed.is_main:
        fetch(cache)
    distributed.barrier()
    volumes = load_training(cache, config["data"]["training"], config["data"]["spacings_mm"])
    model = build(config).to(distributed.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings["steps"])
    loop = TrainingLoop(out, {"model": model, "optimiser": optimiser, "schedule": schedule},
                        LoopSettings.from_config(settings), distributed, "slice-imputer")

    def one_step(step):
        acquired, base, truth, layout = sample_batch(volumes, config, loop.rng)
        previous, following = neighbour_indices(layout.positions, layout.length)
        predicted = model(acquired.to(distributed.device), base.to(distributed.device), layout.anchor,
                          previous, following)
        missing = torch.as_tensor(~layout.observed)
        loss = torch.mean((predicted[:, missing] - truth.to(distributed.device)[:, missing]) ** 2)
        optimise(optimiser, loss, model.parameters(), distributed)
        schedule.step()
        return {"mse": float(loss.detach())}

    result = loop.run(one_step, resume)
    distributed.close()  # the other ranks are done; rank 0 validates alone
    if not distributed.is_main:
        return None
    model = model.cpu().eval()
    return write_run_folder(out, model, config, f"medrestore train slice-imputer --config {config_path} --out {out}",
                            training_seconds=round(result.seconds, 1),
                            training_cpu_seconds=round(result.cpu_seconds, 1), steps_done=result.steps_done,
                            device=f"{device} × {distributed.world_size}",
                            validation_mni152_2mm_psnr_missing_db=validate(model, config))


def main(argv=None):
    args = trainer_parser("slice-imputer", __doc__.splitlines()[0]).parse_args(argv)
    report(train(args.config, args.out, args.cache, args.resume, resolve_device(args.device)))


if __name__ == "__main__":
    main()
