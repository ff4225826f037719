"""Train the recurrent visit imputer (SRN or LSTM) for missing visits, blank cells and forecasts.

    medrestore train sequence-imputer --config MedRestoreLib/training/configs/sequence-lstm-v1.1.0.json \\
        --out out/train/sequence-lstm-v1.1.0 [--resume]

Data: every step is one cohort — a synthetic cohort drawn from
:class:`~MedRestoreLib.imputation.cohort_generator.CohortRanges` (1–12 scores driven by a shared
disease course; logistic, linear, plateau and quadratic shapes; noise 0–0.12; regular, irregular
or duplicated visit times; 40–160 subjects), or, with probability ``real_fraction``, a random
subset of the training subjects of ``alzheimer.csv`` (leaspy; every 5th subject by ID is held
out). Cells are hidden as they go missing in use — random blank cells, whole interior visits,
the last 0–``max_forecast`` visits — the table's features are computed from what is left
(:mod:`~MedRestoreLib.imputation.visit_features`), and the network is trained on the MSE of the
hidden values (standardised per score, as tables are; interior cells and forecasts averaged
apart and weighted by ``forecast_weight``); ``init_weights`` starts from an earlier run's
weights. Validation (RMSE/MAE beside per-subject linear regression,
:mod:`~MedRestoreLib.imputation.scoring`) on the held-out alzheimer subjects and on the held-out
synthetic cohorts, whose settings training never draws.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch

from ..devices import resolve_device
from ..imputation.cohort import alzheimer_subjects
from ..imputation.cohort_generator import HELD_OUT_COHORTS, draw_recipe, make_cohort
from ..imputation.scoring import score_cohort
from ..imputation.sequence_net import build
from ..imputation.visit_features import visit_features
from ..imputation.visits import pack, typical_interval
from .checkpoint import report, trainer_parser
from .distributed import start
from .fetch_data import fetch
from .loop import LoopSettings, TrainingLoop, optimise
from .run_folder import write_run_folder

#: Residual targets are clipped here (standardised units): a rare subject whose trend is far off
#: must not dominate a step's loss.
CLIP = 4.0


def draw_cohort(data: dict, real, rng: np.random.Generator):
    """Complete ground truth of one training cohort: [(times, values (V, M))]."""
    if real and rng.random() < data["real_fraction"]:
        chosen = rng.choice(len(real), size=int(rng.integers(40, len(real) + 1)), replace=False)
        return [real[n] for n in chosen]
    return make_cohort(draw_recipe(rng))


def hide_cells(cohort, data: dict, rng: np.random.Generator):
    """Per subject the (V, M) masks of hidden cells: (blank cells and whole interior visits,
    the forecast visits at the end)."""
    cell_rate, visit_rate = rng.uniform(0, data["max_cell_rate"]), rng.uniform(0, data["max_visit_rate"])
    forecast_share = rng.uniform(0, 0.5)
    masks, forecasts = [], []
    for times, values in cohort:
        mask = rng.random(values.shape) < cell_rate
        mask[rng.random(len(times)) < visit_rate] = True
        future = np.zeros(values.shape, bool)
        if rng.random() < forecast_share:
            future[len(times) - int(rng.integers(1, data["max_forecast"] + 1)):] = True
        masks.append(mask & ~future & ~np.isnan(values))
        forecasts.append(future & ~np.isnan(values))
    return masks, forecasts


def sample_batch(data: dict, real, rng: np.random.Generator):
    """Tensors (residual, acquired, features, valid, target, hidden) of one cohort, one row per
    (subject, score)."""
    cohort = draw_cohort(data, real, rng)
    interior, forecasts = hide_cells(cohort, data, rng)
    masks = [a | b for a, b in zip(interior, forecasts)]
    known = np.concatenate([np.where(m, np.nan, v) for (_, v), m in zip(cohort, masks)])
    mean, scale = np.nanmean(known, 0), np.nanstd(known, 0)
    mean, scale = np.nan_to_num(mean), np.where(np.nan_to_num(scale) > 0, np.nan_to_num(scale), 1.0)
    truth = [(t, (v - mean) / scale) for t, v in cohort]
    shown = [(t, np.where(m, np.nan, v)) for (t, v), m in zip(truth, masks)]
    times, values, valid = pack(shown)
    _, target, _ = pack(truth)
    _, hidden, _ = pack([(t, m.astype(float) + 2 * f) for (t, _), m, f in zip(cohort, interior, forecasts)])
    features = visit_features(times, values, valid, typical_interval([t for t, _ in cohort]))
    residual = np.where(features.observed, np.nan_to_num(values) - features.trend, 0.0)
    count, length, scores = values.shape

    def rows(array):
        return torch.as_tensor(np.moveaxis(array, 2, 1).reshape((count * scores, length) + array.shape[3:]),
                               dtype=torch.float32)

    kind = np.where(np.isnan(target), 0, np.nan_to_num(hidden))  # 1 interior, 2 forecast, 0 shown
    flags = np.broadcast_to(valid[:, :, None], values.shape).astype(np.float32)
    return (rows(residual), rows(features.observed.astype(np.float32)), rows(features.inputs), rows(flags),
            rows(np.clip(np.nan_to_num(target) - features.trend, -CLIP, CLIP)), rows(kind).round().long())


def validate(model, config, cache: Path) -> Dict:
    networks = {config["model"]["cell"]: model}
    models = {"model": (config["model"]["cell"], networks), "linear": ("linear", None)}
    seed = config["train"]["seed"] + 1
    limit = config.get("validation", {}).get("subjects")  # fewer subjects: a quick test of the trainer
    scores = {"alzheimer_held_out": score_cohort(alzheimer_subjects(cache / "alzheimer.csv", True)[:limit],
                                                 models, seed)}
    for name, recipe in HELD_OUT_COHORTS.items():
        scores[name] = score_cohort(make_cohort(replace(recipe, subjects=limit or recipe.subjects)), models, seed)
    return scores


def train(config_path: Path, out: Path, cache: Path, resume: bool = False, device: str = "cpu") -> Optional[Dict]:
    """Train (or resume) the run in ``out``; returns the run's metadata on rank 0 (None elsewhere)."""
    torch.set_num_threads(1)
    config = json.loads(Path(config_path).read_text())
    settings, data = config["train"], config["data"]
    distributed = start(device)
    torch.manual_seed(settings["seed"])  # the same initial weights on every rank
    if distributed.is_main:
        fetch(cache)
    distributed.barrier()
    real = alzheimer_subjects(cache / "alzheimer.csv", False) if data.get("real_fraction", 0) > 0 else []
    model = build(config)
    if settings.get("init_weights") and not (resume and (Path(out) / "checkpoint.pt").exists()):
        model.load_state_dict(torch.load(settings["init_weights"], map_location="cpu", weights_only=True))
    model = model.to(distributed.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings["steps"])
    loop = TrainingLoop(out, {"model": model, "optimiser": optimiser, "schedule": schedule},
                        LoopSettings.from_config(settings), distributed, "sequence-imputer")

    def one_step(step):
        residual, acquired, features, valid, target, kind = (t.to(distributed.device)
                                                             for t in sample_batch(data, real, loop.rng))
        squared = (model(residual, acquired, features, valid) - target) ** 2
        # Interior cells and forecasts weigh apart: forecast errors are several times larger and
        # would otherwise decide what the network learns about blank cells and missed visits.
        loss = squared.sum() * 0
        for part, weight in ((1, 1.0), (2, data.get("forecast_weight", 1.0))):
            if (kind == part).any():
                loss = loss + weight * squared[kind == part].mean()
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
