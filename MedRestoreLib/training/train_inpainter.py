"""Train the GAN filler (generator + patch discriminator), one command, seed and config in one file.

    medrestore train inpainting --config MedRestoreLib/training/configs/inpaint-gan.json \\
        --out out/train/inpaint-gan [--resume] [--device auto|cpu|cuda] [--max-seconds S]

Each step draws damaged crops (:mod:`.inpainting_data`), takes 2.5-D tiles from them and
updates the critic (non-saturating loss + R1 penalty on real slices) and then the generator:
reconstruction (L1 + gradient L1 over the hole) + ``adversarial_weight`` · non-saturating loss
+ ``covariance_weight`` · column-covariance consistency. The adversarial term starts after
``adversarial_start`` steps (the generator first learns to reconstruct). A checkpoint is
written every ``checkpoint_every`` steps (``--resume`` continues from it, data RNG included);
``snapshot_steps`` keep the generator's weights at those steps, which is how the ablation
variants are compared with the full model at equal steps. Writes ``weights.pt``,
``config.json`` and ``metadata.json`` into ``--out``; copy them into
``MedRestoreLib/models/inpaint-gan-v<version>/`` to ship.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Dict, Optional

import torch

from ..inpainting.gan_discriminator import PatchDiscriminator, patch_weights
from ..inpainting.gan_generator import build_generator
from ..inpainting.gan_losses import (
    covariance_loss,
    discriminator_loss,
    generator_adversarial_loss,
    r1_penalty,
    reconstruction_loss,
)
from ..inpainting.training_tiles import generate, tiles_from_crop
from ..models.folder import sha256_of
from .checkpoint import report, trainer_parser
from .distributed import start
from .fetch_data import fetch
from .inpainting_data import damaged_crop, load_t1
from .loop import LoopSettings, TrainingLoop, optimise
from .run_folder import write_run_folder
from .synthesis import load_label_maps


def batch_of_tiles(volumes, labels, config, rng):
    data, settings = config["data"], config["train"]
    tile = int(data["tiles"][rng.integers(len(data["tiles"]))])
    per_crop = settings["batch"] // settings["crops_per_batch"]
    slabs, truths = [], []
    for _ in range(settings["crops_per_batch"]):
        crop = damaged_crop(volumes, labels, data, config["model"], rng)
        slab, truth = tiles_from_crop(crop, per_crop, tile, config["model"]["half_slab"], rng)
        slabs.append(slab)
        truths.append(truth)
    return torch.cat(slabs), torch.cat(truths)


def learning_rate_factor(step: int, steps: int, warmup: int = 200) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))


class Trainer:
    def __init__(self, config, distributed):
        self.config, self.distributed = config, distributed
        device = distributed.device
        model, settings = config["model"], config["train"]
        self.generator = build_generator(model)
        if settings.get("init_generator"):  # fine-tuning starts from a shipped generator's weights
            self.generator.load_state_dict(torch.load(settings["init_generator"], map_location="cpu",
                                                      weights_only=True))
        self.generator = self.generator.to(device)
        self.critic = PatchDiscriminator(model["critic_width"]).to(device)
        self.g_optimiser = torch.optim.Adam(self.generator.parameters(), lr=settings["learning_rate"],
                                            betas=(0.5, 0.999))
        self.d_optimiser = torch.optim.Adam(self.critic.parameters(), lr=settings["critic_learning_rate"],
                                            betas=(0.5, 0.999))

    def parts(self):
        """What a checkpoint holds (:mod:`.checkpoint`)."""
        return {"generator": self.generator, "critic": self.critic,
                "g_optimiser": self.g_optimiser, "d_optimiser": self.d_optimiser}

    def step(self, slabs, truth, step: int) -> Dict[str, float]:
        settings, half = self.config["train"], self.config["model"]["half_slab"]
        for optimiser, base in ((self.g_optimiser, settings["learning_rate"]),
                                (self.d_optimiser, settings["critic_learning_rate"])):
            for group in optimiser.param_groups:
                group["lr"] = base * learning_rate_factor(step, settings["steps"])
        # The critic learns from the first step (several updates a step, ``critic_steps``); the
        # generator feels it only from ``adversarial_start``, once it tells real from filled.
        critic = settings["adversarial_weight"] > 0
        adversarial = critic and step >= settings["adversarial_start"]
        logs = {}
        fake, mask = generate(self.generator, slabs, half)
        if critic:
            for _ in range(int(settings.get("critic_steps", 1))):
                real = truth.detach().requires_grad_(True)
                real_logits = self.critic(real, mask)
                fake_logits = self.critic(fake.detach(), mask)
                weights = patch_weights(mask, real_logits.shape)
                d_loss = discriminator_loss(real_logits, fake_logits, weights)
                d_total = d_loss + 0.5 * settings["r1_weight"] * r1_penalty(real_logits, real, weights)
                optimise(self.d_optimiser, d_total, self.critic.parameters(), self.distributed, clip=None)
            logs["critic"] = float(d_loss.detach())
        loss = reconstruction_loss(fake, truth, mask, settings["gradient_weight"])
        logs["reconstruction"] = float(loss.detach())
        if settings["covariance_weight"] > 0:
            cov = covariance_loss(fake, truth, mask)
            loss = loss + settings["covariance_weight"] * cov
            logs["covariance"] = float(cov.detach())
        if adversarial:
            fake_logits = self.critic(fake, mask)
            g_adv = generator_adversarial_loss(fake_logits, patch_weights(mask, fake_logits.shape))
            loss = loss + settings["adversarial_weight"] * g_adv
            logs["adversarial"] = float(g_adv.detach())
        optimise(self.g_optimiser, loss, self.generator.parameters(), self.distributed)
        return logs


def train(config_path: Path, out: Path, cache: Path, resume: bool, device: str,
          max_seconds: float = None) -> Optional[Dict]:
    """Train (or resume) the run in ``out``; returns the run's metadata on rank 0 (None elsewhere)."""
    config = json.loads(Path(config_path).read_text())
    settings, data = config["train"], config["data"]
    if max_seconds is not None:
        settings["max_seconds"] = max_seconds
    distributed = start(device)
    torch.manual_seed(settings["seed"])  # the same initial weights on every rank
    if distributed.device == "cpu":
        torch.set_num_threads(int(settings.get("cpu_threads", 1)))
    if distributed.is_main:
        fetch(cache)
    distributed.barrier()
    volumes = load_t1(cache, data["training"], data["spacings_mm"])
    labels = load_label_maps(cache, data["label_maps"])
    trainer = Trainer(config, distributed)
    loop = TrainingLoop(out, trainer.parts(), LoopSettings.from_config(settings), distributed, "inpainting")

    def one_step(step):
        slabs, truth = batch_of_tiles(volumes, labels, config, loop.rng)
        return trainer.step(slabs.to(distributed.device), truth.to(distributed.device), step)

    def snapshot(step):
        if step in settings.get("snapshot_steps", []) and distributed.is_main:
            torch.save(trainer.generator.state_dict(), out / f"generator-step{step}.pt")

    result = loop.run(one_step, resume, after_step=snapshot)
    distributed.close()  # the other ranks are done; rank 0 validates alone
    if not distributed.is_main:
        return None
    generator = trainer.generator.cpu().eval()
    return finish(generator, config, config_path, out, cache, result.seconds, result.steps_done,
                  f"{device} × {distributed.world_size}")


def finish(generator, config, config_path, out: Path, cache: Path, seconds, step, device) -> Dict:
    """Validate on held-out Colin27 crops, then write the run folder (weights, config, metadata)."""
    from .inpainting_validation import validate

    scores = validate(generator, config, cache)
    return write_run_folder(out, generator, config, f"medrestore train inpainting --config {config_path} --out {out}",
                            training_seconds=round(seconds, 1), steps_done=step, device=device, validation=scores)


def ship(out: Path, folder: Path, variants: Dict[str, Path]) -> None:
    """Copy a finished run into a model folder, with the ablation variants' generator weights
    (file name → path) and their SHA-256 listed under ``variants`` in metadata.json."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("weights.pt", "config.json"):
        shutil.copyfile(out / name, folder / name)
    metadata = json.loads((out / "metadata.json").read_text())
    metadata["variants"] = {}
    for name, path in variants.items():
        shutil.copyfile(path, folder / name)
        entry = {"sha256": sha256_of(folder / name), "source": str(path)}
        run_config = Path(path).parent / "config.json"
        if run_config.exists():  # the fill settings the variant was trained with travel with it
            model = json.loads(run_config.read_text())["model"]
            entry["model"] = {key: model.get(key) for key in ("smoothing_iterations", "smoothing_relaxation")}
        metadata["variants"][name] = entry
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")


def main(argv=None):
    parser = trainer_parser("inpainting", __doc__.splitlines()[0])
    parser.add_argument("--fork-from", type=Path, metavar="CHECKPOINT",
                        help="start from another run's checkpoint (weights, optimisers, data RNG, step) "
                             "under this config: how the ablations branch off the shipped run")
    parser.add_argument("--max-seconds", type=float, help="stop after this much training time")
    parser.add_argument("--validate-only", action="store_true",
                        help="recompute metadata.json for the weights already in --out")
    parser.add_argument("--ship", type=Path, metavar="MODEL_DIR",
                        help="copy the finished run in --out into MODEL_DIR (with --variant files)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=PATH",
                        help="an ablation generator shipped beside the model, e.g. "
                             "ablation-no-covariance-step2000.pt=out/train/ablation-no-covariance/weights.pt")
    args = parser.parse_args(argv)
    if args.fork_from:
        import shutil

        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.fork_from, args.out / "checkpoint.pt")
        args.resume = True
    if args.ship:
        ship(args.out, args.ship, dict(item.split("=", 1) for item in args.variant))
        return
    from ..devices import resolve_device

    device = resolve_device(args.device)
    if args.validate_only:
        config = json.loads(args.config.read_text())
        generator = build_generator(config["model"])
        generator.load_state_dict(torch.load(args.out / "weights.pt", weights_only=True))
        previous = json.loads((args.out / "metadata.json").read_text()) if (args.out / "metadata.json").exists() else {}
        print(json.dumps(finish(generator.eval(), config, args.config, args.out, args.cache,
                                previous.get("training_seconds", 0.0), previous.get("steps_done"),
                                previous.get("device", device)), indent=2))
        return
    report(train(args.config, args.out, args.cache, args.resume, device, args.max_seconds))


if __name__ == "__main__":
    main()
