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
from typing import Dict, Optional

import numpy as np
import torch

from ..data import SAMPLE
from ..devices import resolve_device
from ..imputation.interpolation import interpolate
from ..imputation.layout import Acquisition, simulate
from ..imputation.slice_net import build, neighbour_indices
from ..volume import read_volume
from .checkpoint import report, trainer_parser
from .colin import resample
from .distributed import start
from .fetch_data import fetch
from .loop import LoopSettings, TrainingLoop, optimise
from .run_folder import write_run_folder
from .slice_data import SlicePool, normalised, sample_batch
from .synthesis import TRAINING_ATLASES, load_label_maps


def load_training(cache: Path, data: dict, rng: np.random.Generator) -> SlicePool:
    """Colin27 at each listed spacing, plus the synthetic pool when the config asks for one."""
    colin = [normalised(resample(read_volume(cache / name), spacing))
             for name in data["training"] for spacing in data["spacings_mm"]]
    synthetic = data.get("synthetic", {})
    maps = load_label_maps(cache, synthetic.get("atlases", TRAINING_ATLASES)) if synthetic.get("pool") else []
    return SlicePool(colin, maps, data, rng)


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
    model = build(config)
    if settings.get("init_weights") and not (resume and (Path(out) / "checkpoint.pt").exists()):
        model.load_state_dict(torch.load(settings["init_weights"], map_location="cpu", weights_only=True))
    model = model.to(distributed.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings["steps"])
    loop = TrainingLoop(out, {"model": model, "optimiser": optimiser, "schedule": schedule},
                        LoopSettings.from_config(settings), distributed, "slice-imputer")
    # The pool is drawn from a generator of its own: a resumed run rebuilds the same pool.
    pool = load_training(cache, config["data"], np.random.default_rng([settings["seed"], distributed.rank, 7]))

    def one_step(step):
        pool.refresh(step, loop.rng)
        acquired, base, truth, layout = sample_batch(pool, config, loop.rng)
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
