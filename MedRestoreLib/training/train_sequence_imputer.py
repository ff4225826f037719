"""Train the recurrent sequence imputer (SRN or LSTM) for missing time points and forecasts.

    medrestore train sequence-imputer --config MedRestoreLib/training/configs/sequence-lstm.json \\
        --out out/train/sequence-lstm [--resume]

Data: ``alzheimer.csv`` (leaspy; generated ADNI-like scores) without its held-out subjects
(every 5th by ID), each measurement standardised over the training subjects, and a synthetic
cohort of known trajectories (logistic, saturating, quadratic; random onset, rate, noise,
irregular visits; ``synthetic_subjects`` subjects, seed of the config). Every step takes windows
of T consecutive visits, hides random visits and the last 0–``max_forecast`` visits, and trains
on the MSE of the hidden values. Validation (RMSE/MAE beside linear regression) on the
held-out alzheimer subjects and on a synthetic cohort of another seed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch

from ..devices import resolve_device
from ..imputation.cohort import alzheimer_subjects, synthetic_cohort
from ..imputation.scoring import score_cohort
from ..imputation.sequence_net import build, interpolate_gaps
from .checkpoint import report, trainer_parser
from .distributed import start
from .fetch_data import fetch
from .loop import LoopSettings, TrainingLoop, optimise
from .run_folder import write_run_folder


def series_pool(cohort, interval):
    """Univariate (gaps, values) of every subject and measurement, each measurement standardised."""
    values = np.concatenate([v for _, v in cohort])
    mean, scale = np.nanmean(values, 0), np.nanstd(values, 0)
    pool = []
    for times, subject in cohort:
        gaps = np.concatenate([[0.0], np.diff(times)]) / interval
        for column in range(subject.shape[1]):
            pool.append((gaps, (subject[:, column] - mean[column]) / scale[column]))
    return pool


def sample_batch(pool, config, rng):
    settings = config["data"]
    length = int(rng.integers(settings["min_visits"], settings["max_visits"] + 1))
    gaps, values = [], []
    while len(values) < config["train"]["batch"]:
        g, v = pool[rng.integers(len(pool))]
        if len(v) < length:
            continue
        start = int(rng.integers(0, len(v) - length + 1))
        window_gaps = g[start:start + length].copy()
        window_gaps[0] = 0.0
        gaps.append(window_gaps)
        values.append(v[start:start + length])
    values, gaps = np.stack(values), np.stack(gaps)
    hidden = rng.random(values.shape) < rng.uniform(0, settings["max_missing_rate"], (len(values), 1))
    forecast = rng.integers(0, settings["max_forecast"] + 1, len(values))
    hidden |= np.arange(length)[None] >= (length - forecast)[:, None]
    hidden[:, 0] = False
    hidden |= np.isnan(values)
    interpolated = interpolate_gaps(np.cumsum(gaps, 1), np.nan_to_num(values), ~hidden)
    return (torch.as_tensor(np.nan_to_num(values), dtype=torch.float32),
            torch.as_tensor(~hidden, dtype=torch.float32), torch.as_tensor(gaps, dtype=torch.float32),
            torch.as_tensor(interpolated, dtype=torch.float32), torch.as_tensor(hidden & ~np.isnan(values)))


def validate(model, config, cache: Path) -> Dict:
    models = {"model": (config["model"]["cell"], model), "linear": ("linear", None)}
    seed = config["train"]["seed"] + 1
    return {"alzheimer_held_out": score_cohort(alzheimer_subjects(cache / "alzheimer.csv", True), models, seed),
            "synthetic": score_cohort(synthetic_cohort(seed + 100, 200), models, seed)}


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
    pool = series_pool(alzheimer_subjects(cache / "alzheimer.csv", False), 0.6)
    pool += series_pool(synthetic_cohort(settings["seed"], config["data"]["synthetic_subjects"]), 1.0)
    model = build(config).to(distributed.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings["steps"])
    loop = TrainingLoop(out, {"model": model, "optimiser": optimiser, "schedule": schedule},
                        LoopSettings.from_config(settings), distributed, "sequence-imputer")

    def one_step(step):
        values, acquired, gaps, interpolated, hidden = (t.to(distributed.device)
                                                        for t in sample_batch(pool, config, loop.rng))
        predicted = model(values, acquired, gaps, interpolated)
        loss = torch.mean((predicted[hidden] - values[hidden]) ** 2)
        optimise(optimiser, loss, model.parameters(), distributed)
        schedule.step()
        return {"mse": float(loss.detach())}

    result = loop.run(one_step, resume)
    distributed.close()  # the other ranks are done; rank 0 validates alone
    if not distributed.is_main:
        return None
    model = model.cpu().eval()
    return write_run_folder(out, model, config, f"medrestore train sequence-imputer --config {config_path} --out {out}",
                            training_seconds=round(result.seconds, 1), steps_done=result.steps_done,
                            device=f"{device} × {distributed.world_size}",
                            validation_rmse=validate(model, config, cache))


def main(argv=None):
    args = trainer_parser("sequence-imputer", __doc__.splitlines()[0]).parse_args(argv)
    report(train(args.config, args.out, args.cache, args.resume, resolve_device(args.device)))


if __name__ == "__main__":
    main()
