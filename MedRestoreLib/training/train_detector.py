"""Train the LSTM defect localizer on domain-randomised images (one command, seed and config in one file).

    medrestore train detector --config MedRestoreLib/training/configs/defect-lstm.json \\
        --out out/train/defect-lstm [--resume] [--device cpu|cuda]
    torchrun --standalone --nproc_per_node=N -m MedRestoreLib train detector ...   (several ranks)

Data (DESIGN.md's training data only, ``make data``): synthetic images of the shared synthesis
module (:mod:`.synthesis`: four atlases, random contrast, 0.5–5 mm, noise, bias, ghosting, CT and
negative ranges, 2-D slices and thin volumes) and regions of Colin27 (``ch2``, ``ch2bet``) with new
appearances (:mod:`.colin`). Each step damages one image with one or two random kinds of the
simulator (or leaves it clean) and trains on crops of its features (:mod:`.detector_data`).

Validation on ``ch2better`` and on synthetic images of other seeds picks the decision threshold:
the best mean F1 over kinds among thresholds that flag at most ``max_clean_flagged_percent`` of
the clean validation voxels. Each volume may raise it at run time (:mod:`MedRestoreLib.detection
.calibration`). Writes ``weights.pt``, ``config.json`` (with ``threshold``, ``dpd_threshold`` and
``features``) and ``metadata.json`` into ``--out``; copy them into ``MedRestoreLib/models/<id>-v<version>/``
to ship. A checkpoint every ``checkpoint_every`` steps; ``--resume`` continues from it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch

from ..detection.dpd import FEATURE_NAMES, compute_features
from ..detection.lstm import build_localizer, next_defect_targets
from ..metrics import mask_scores
from .checkpoint import report, trainer_parser
from .colin import load_volumes
from .detector_data import crops, episode
from .distributed import start
from .fetch_data import fetch
from .loop import LoopSettings, TrainingLoop, optimise
from .run_folder import write_run_folder
from .synthesis import TRAINING_ATLASES, load_label_maps


def loss_of(model, features, mask, config):
    import torch.nn.functional as F

    outputs = model(features, config["model"]["gate"])
    weight = torch.tensor(config["train"]["positive_weight"], device=features.device)
    loss = F.binary_cross_entropy_with_logits(outputs["logit"], mask, pos_weight=weight)
    loss = loss + config["train"]["gate_weight"] * F.binary_cross_entropy_with_logits(
        outputs["gate_logit"], mask, pos_weight=weight)
    loss = loss + config["train"]["next_weight"] * F.binary_cross_entropy_with_logits(
        outputs["next_logit"], next_defect_targets(mask))
    return loss


def _best_threshold(per_kind, thresholds, max_clean_percent):
    """Threshold with the best mean F1 over kinds among those flagging at most
    ``max_clean_percent`` of clean voxels (the best mean F1 overall if none does)."""
    best = None
    for threshold in thresholds:
        clean_flagged = 100.0 * float((per_kind["clean"][1] >= threshold).mean())
        f1 = {kind: mask_scores(t, p >= threshold)["f1"] for kind, (t, p) in per_kind.items()
              if kind != "clean"}
        mean_f1 = float(np.mean(list(f1.values())))
        key = (clean_flagged <= max_clean_percent, mean_f1)
        if best is None or key > best[0]:
            best = (key, {"threshold": float(threshold), "clean_flagged_percent": clean_flagged,
                          "f1": f1, "mean_f1": mean_f1})
    return best[1]


def validate(model, colin_volumes, label_maps, config) -> Dict[str, object]:
    """The decision thresholds of the LSTM's probability and of DPD_D alone, with their F1 per
    kind, on validation episodes (held-out Colin27, synthetic images of other seeds)."""
    from ..detection.localizer import predict_probability

    rng = np.random.default_rng(config["train"]["seed"] + 1)
    data = dict(config["data"])
    lstm, dpd = {}, {}
    for kind in data["kinds"]:
        data["kinds"] = [kind]
        truths, probabilities, distances = [], [], []
        for _ in range(config["validation"]["episodes_per_kind"]):
            item = episode(data, colin_volumes, label_maps, rng)
            features, _ = compute_features(item.damaged)
            with torch.no_grad():
                probabilities.append(predict_probability(model, features, config["model"]["gate"]).ravel())
            distances.append(np.expm1(features[FEATURE_NAMES.index("dpd")].numpy()).ravel())
            truths.append(item.mask.ravel())
        truth = np.concatenate(truths)
        lstm[kind] = (truth, np.concatenate(probabilities))
        dpd[kind] = (truth, np.concatenate(distances))
    limit = config["validation"]["max_clean_flagged_percent"]
    return {"lstm": _best_threshold(lstm, np.round(np.arange(0.3, 0.96, 0.05), 2), limit),
            "dpd": _best_threshold(dpd, [3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0], limit)}


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
    colin_volumes = load_volumes(cache, data["training"], data["spacings_mm"])
    label_maps = load_label_maps(cache, data.get("atlases", TRAINING_ATLASES))
    model = build_localizer(len(FEATURE_NAMES), config["model"]["hidden"], config["model"]["lstm_hidden"])
    model = model.to(distributed.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings["steps"])
    loop = TrainingLoop(out, {"model": model, "optimiser": optimiser, "schedule": schedule},
                        LoopSettings.from_config(settings), distributed, "detector")

    def one_step(step):
        item = episode(data, colin_volumes, label_maps, loop.rng)
        features, _ = compute_features(item.damaged)
        batch, masks = crops(features, item.mask, data["crop"], settings["batch"], loop.rng)
        loss = loss_of(model, batch.to(distributed.device), masks.to(distributed.device), config)
        optimise(optimiser, loss, model.parameters(), distributed)
        schedule.step()
        return {"loss": float(loss.detach())}

    result = loop.run(one_step, resume)
    distributed.close()  # the other ranks are done; rank 0 validates alone
    if not distributed.is_main:
        return None
    return finish(model.cpu().eval(), config, config_path, out, cache, result.seconds, result.steps_done,
                  f"{device} × {distributed.world_size}")


def finish(model, config, config_path, out: Path, cache: Path, seconds, step, device) -> Dict:
    """Validate, then write the run folder (config with the thresholds and features, metadata)."""
    data = config["data"]
    scores = validate(model, load_volumes(cache, data["validation"], data["spacings_mm"]),
                      load_label_maps(cache, data.get("atlases", TRAINING_ATLASES)), config)
    return write_run_folder(out, model, config, f"medrestore train detector --config {config_path} --out {out}",
                            resolved={"threshold": scores["lstm"]["threshold"],
                                      "dpd_threshold": scores["dpd"]["threshold"], "features": list(FEATURE_NAMES)},
                            training_seconds=round(seconds, 1), steps_done=step, device=device,
                            validation=scores)


def main(argv=None):
    parser = trainer_parser("detector", __doc__.splitlines()[0])
    parser.add_argument("--validate-only", action="store_true",
                        help="recompute thresholds and metadata for the weights in --out")
    args = parser.parse_args(argv)
    from ..devices import resolve_device

    if args.validate_only:
        config = json.loads(args.config.read_text())
        model = build_localizer(len(FEATURE_NAMES), config["model"]["hidden"], config["model"]["lstm_hidden"])
        model.load_state_dict(torch.load(args.out / "weights.pt", weights_only=True))
        previous = json.loads((args.out / "metadata.json").read_text()) if (args.out / "metadata.json").exists() else {}
        report(finish(model.eval(), config, args.config, args.out, args.cache, previous.get("training_seconds", 0.0),
                      previous.get("steps_done"), previous.get("device")))
        return
    report(train(args.config, args.out, args.cache, args.resume, resolve_device(args.device)))


if __name__ == "__main__":
    main()
