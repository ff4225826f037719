"""Train the LSTM defect localizer (one command, seed and config in one file).

Training code may import torch at module level: ``import MedRestoreLib`` never imports it.

    python -m MedRestoreLib.training.train_detector \\
        --config MedRestoreLib/training/configs/defect-lstm.json --out out/train/defect-lstm [--resume]

Data: the training volumes of the config (Colin27 from the data cache, ``make data``), resampled
to each listed spacing; every step damages a random region of one of them with the simulator
(a random kind, or none) and trains on crops of its DPD_D features. Validation on the held-out
volume picks the decision threshold (best mean F1 over kinds with clean volumes flagged at most
``max_clean_flagged_percent``). Writes ``weights.pt``, ``config.json`` and ``metadata.json``
into ``--out`` — copy them into ``MedRestoreLib/models/<id>-v<version>/`` to ship. A checkpoint
is saved every ``checkpoint_every`` steps; ``--resume`` continues from it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from ..defects import apply_defects, foreground_mask, sample_defects
from ..detection.dpd import FEATURE_NAMES, compute_features
from ..detection.lstm import build_localizer, next_defect_targets
from ..metrics import mask_scores
from ..volume import read_volume, sitk_from_volume, volume_from_sitk
from .checkpoint import load_checkpoint, save_checkpoint, trainer_parser
from .fetch_data import fetch
from .run_folder import write_run_folder


def resample(volume, spacing: float) -> np.ndarray:
    import SimpleITK as sitk

    image = sitk.Cast(sitk_from_volume(volume), sitk.sitkFloat32)
    if spacing > min(image.GetSpacing()):
        image = sitk.SmoothingRecursiveGaussian(image, 0.4 * spacing)
    size = [max(1, int(round(n * s / spacing))) for n, s in zip(image.GetSize(), image.GetSpacing())]
    out = sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(),
                        [spacing] * 3, image.GetDirection(), 0.0, sitk.sitkFloat32)
    return volume_from_sitk(out).array


def load_volumes(cache: Path, names: List[str], spacings: List[float]) -> List[np.ndarray]:
    return [resample(read_volume(cache / name), spacing) for name in names for spacing in spacings]


def damaged_region(volume: np.ndarray, kind: str, region, rng: np.random.Generator):
    """A random region of the object, damaged with ``kind`` ('clean': untouched)."""
    object_mask = foreground_mask(volume)
    centre = np.argwhere(object_mask)[rng.integers(object_mask.sum())]
    start = [int(np.clip(c - r // 2, 0, max(n - r, 0))) for c, r, n in zip(centre, region, volume.shape)]
    box = tuple(slice(s, s + r) for s, r in zip(start, region))
    array = volume[box].copy()
    if kind == "clean":
        return array, np.zeros(array.shape, np.uint8)
    specs = sample_defects(array, kind, rng)
    return apply_defects(array, specs)


def crops(features, mask, size, count, rng):
    """``count`` crops of ``size``: half centred on defect voxels when there are any."""
    shape = mask.shape
    size = [min(s, n) for s, n in zip(size, shape)]
    defects = np.argwhere(mask)
    batch_features, batch_masks = [], []
    for n in range(count):
        if len(defects) and n % 2 == 0:
            centre = defects[rng.integers(len(defects))]
        else:
            centre = [rng.integers(d) for d in shape]
        start = [int(np.clip(c - s // 2, 0, d - s)) for c, s, d in zip(centre, size, shape)]
        box = tuple(slice(a, a + s) for a, s in zip(start, size))
        batch_features.append(features[(slice(None),) + box])
        batch_masks.append(torch.as_tensor(mask[box], dtype=torch.float32)[None])
    return torch.stack(batch_features), torch.stack(batch_masks)


def _volumes(config, cache: Path, arrays: Path = None):
    """(training, validation) volumes: from the data cache, or from an --export-arrays file
    (for machines without SimpleITK)."""
    if arrays is not None:
        stored = np.load(arrays)
        return tuple([stored[f"{role}_{n}"].astype(np.float32) for n in range(int(stored[f"{role}_count"]))]
                     for role in ("training", "validation"))
    fetch(cache)
    data = config["data"]
    return (load_volumes(cache, data["training"], data["spacings_mm"]),
            load_volumes(cache, data["validation"], data["spacings_mm"]))


class Episodes(torch.utils.data.IterableDataset):
    """Endless training batches; worker n of a DataLoader draws from seed + 1000·(n + 1)."""

    def __init__(self, volumes, config, seed):
        super().__init__()
        self.volumes, self.config, self.seed = volumes, config, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng(self.seed + 1000 * (info.id + 1 if info else 0))
        torch.set_num_threads(1)
        data = self.config["data"]
        while True:
            weights = np.array([data.get("kind_weights", {}).get(k, 1.0) for k in data["kinds"]])
            kind = data["kinds"][rng.choice(len(data["kinds"]), p=weights / weights.sum())]
            volume = self.volumes[rng.integers(len(self.volumes))]
            damaged, mask = damaged_region(volume, kind, data["region"], rng)
            features, _ = compute_features(damaged)
            yield crops(features, mask, data["crop"], self.config["train"]["batch"], rng)


def batches(volumes, config, seed, workers: int):
    episodes = Episodes(volumes, config, seed)
    if workers == 0:
        return iter(episodes)
    loader = torch.utils.data.DataLoader(episodes, batch_size=None, num_workers=workers,
                                         prefetch_factor=4, persistent_workers=True)
    return iter(loader)


def loss_of(model, features, mask, config):
    import torch.nn.functional as F

    outputs = model(features, config["model"]["gate"])
    weight = torch.tensor(config["train"]["positive_weight"])
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


def validate(model, volumes, config, seed) -> Dict[str, object]:
    """On damaged regions of the validation volumes, the decision thresholds of the LSTM's
    probability and of DPD_D alone, with their F1 per kind."""
    from ..detection.localizer import predict_probability

    rng = np.random.default_rng(seed)
    lstm, dpd = {}, {}
    for kind in config["data"]["kinds"]:
        truths, probabilities, distances = [], [], []
        for _ in range(config["validation"]["episodes_per_kind"]):
            volume = volumes[rng.integers(len(volumes))]
            damaged, mask = damaged_region(volume, kind, config["data"]["region"], rng)
            features, _ = compute_features(damaged)
            with torch.no_grad():
                probabilities.append(predict_probability(model, features, config["model"]["gate"]).ravel())
            distances.append(np.expm1(features[4].numpy()).ravel())
            truths.append(mask.ravel())
        truth = np.concatenate(truths)
        lstm[kind] = (truth, np.concatenate(probabilities))
        dpd[kind] = (truth, np.concatenate(distances))
    limit = config["validation"]["max_clean_flagged_percent"]
    return {"lstm": _best_threshold(lstm, np.round(np.arange(0.3, 0.96, 0.05), 2), limit),
            "dpd": _best_threshold(dpd, [3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0], limit)}


def train(config_path: Path, out: Path, cache: Path, resume: bool = False, device: str = "cpu",
          workers: int = 0, arrays: Path = None) -> Dict:
    config = json.loads(Path(config_path).read_text())
    settings = config["train"]
    torch.manual_seed(settings["seed"])
    rng = np.random.default_rng(settings["seed"])
    training, validation = _volumes(config, cache, arrays)
    model = build_localizer(len(FEATURE_NAMES), config["model"]["hidden"],
                            config["model"]["lstm_hidden"]).to(device)
    if settings.get("init_weights"):  # fine-tuning starts from a shipped model's weights
        model.load_state_dict(torch.load(settings["init_weights"], map_location=device, weights_only=True))
    optimiser = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings["steps"])
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.pt"
    step = 0
    parts = {"model": model, "optimiser": optimiser, "schedule": schedule}
    if resume and checkpoint.exists():
        step = load_checkpoint(checkpoint, parts, rng)["step"]
    started = time.time()
    running = []
    stream = batches(training, config, settings["seed"] + step, workers)
    # The schedule spans "steps"; "stop_after_steps" ends earlier (how a time-bounded run is replayed).
    while step < settings.get("stop_after_steps", settings["steps"]):
        if settings.get("max_seconds") and time.time() - started > settings["max_seconds"]:
            print(f"stopping at step {step}: max_seconds {settings['max_seconds']} reached", flush=True)
            break
        batch, masks = next(stream)
        loss = loss_of(model, batch.to(device), masks.to(device), config)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running.append(float(loss.detach()))
        if step % settings["checkpoint_every"] == 0 or step == settings["steps"]:
            save_checkpoint(checkpoint, parts, rng, step=step)
            print(f"step {step}/{settings['steps']} loss {np.mean(running):.4f} "
                  f"{time.time() - started:.0f} s", flush=True)
            running = []
    model = model.cpu().eval()
    return finish(model, config, config_path, out, validation, started, step, device)


def finish(model, config, config_path, out: Path, validation, started, step, device) -> Dict:
    """Validate, then write the run folder (config with the thresholds, metadata)."""
    scores = validate(model, validation, config, config["train"]["seed"] + 1)
    return write_run_folder(out, model, config, f"medrestore train detector --config {config_path} --out {out}",
                            resolved={"threshold": scores["lstm"]["threshold"],
                                      "dpd_threshold": scores["dpd"]["threshold"], "features": list(FEATURE_NAMES)},
                            training_seconds=round(time.time() - started, 1), steps_done=step, device=device,
                            validation=scores)


def main(argv=None):
    parser = trainer_parser("detector", __doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=0, help="data worker processes")
    parser.add_argument("--arrays", type=Path, help="volumes prepared by --export-arrays")
    parser.add_argument("--export-arrays", type=Path, help="only write the resampled volumes (npz)")
    parser.add_argument("--validate-only", action="store_true",
                        help="recompute thresholds and metadata for the weights in --out")
    args = parser.parse_args(argv)
    if args.export_arrays:
        export_arrays(args.config, args.cache, args.export_arrays)
        return
    if args.validate_only:
        print(json.dumps(revalidate(args.config, args.out, args.cache, args.arrays), indent=2))
        return
    from ..devices import resolve_device

    print(json.dumps(train(args.config, args.out, args.cache, args.resume, resolve_device(args.device),
                           args.workers, args.arrays), indent=2))


def revalidate(config_path: Path, out: Path, cache: Path, arrays: Path = None) -> Dict:
    config = json.loads(Path(config_path).read_text())
    _, validation = _volumes(config, cache, arrays)
    model = build_localizer(len(FEATURE_NAMES), config["model"]["hidden"], config["model"]["lstm_hidden"])
    model.load_state_dict(torch.load(out / "weights.pt", weights_only=True))
    previous = json.loads((out / "metadata.json").read_text()) if (out / "metadata.json").exists() else {}
    return finish(model.eval(), config, config_path, out, validation, time.time()
                  - previous.get("training_seconds", 0.0), previous.get("steps_done"), previous.get("device"))


def export_arrays(config_path: Path, cache: Path, target: Path) -> None:
    """Resampled training/validation volumes as float16 npz (normalised to p99.5 = 1000)."""
    config = json.loads(Path(config_path).read_text())
    fetch(cache)
    stored = {}
    for role in ("training", "validation"):
        volumes = load_volumes(cache, config["data"][role], config["data"]["spacings_mm"])
        for n, volume in enumerate(volumes):
            scale = 1000.0 / max(float(np.percentile(volume[volume > 0], 99.5)), 1e-6)
            stored[f"{role}_{n}"] = (volume * scale).astype(np.float16)
        stored[f"{role}_count"] = np.array(len(volumes))
    np.savez_compressed(target, **stored)


if __name__ == "__main__":
    main()
