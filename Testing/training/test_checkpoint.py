"""A checkpoint brings a run back exactly: weights, optimiser and schedule state, both random
generators and the progress entries — so a resumed run takes the steps the whole run would have."""
import numpy as np
import torch

from MedRestoreLib.training.checkpoint import load_checkpoint, save_checkpoint, trainer_parser


def _run(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 2)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, 10)
    return model, optimiser, schedule


def _step(model, optimiser, schedule, rng):
    inputs = torch.as_tensor(rng.normal(size=(4, 3)), dtype=torch.float32) + torch.randn(4, 3)
    loss = model(inputs).square().mean()
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    schedule.step()


def test_resumed_run_matches_the_uninterrupted_one(tmp_path):
    model, optimiser, schedule = _run()
    rng = np.random.default_rng(5)
    for _ in range(3):
        _step(model, optimiser, schedule, rng)
    parts = {"model": model, "optimiser": optimiser, "schedule": schedule}
    save_checkpoint(tmp_path / "checkpoint.pt", parts, rng, step=3, seconds=1.5)
    for _ in range(3):
        _step(model, optimiser, schedule, rng)
    whole = model.weight.detach().clone()

    resumed_model, resumed_optimiser, resumed_schedule = _run(seed=1)  # other weights, other RNG
    resumed_rng = np.random.default_rng(99)
    progress = load_checkpoint(tmp_path / "checkpoint.pt", {"model": resumed_model, "optimiser": resumed_optimiser,
                                                            "schedule": resumed_schedule}, resumed_rng)
    assert progress == {"step": 3, "seconds": 1.5}
    for _ in range(3):
        _step(resumed_model, resumed_optimiser, resumed_schedule, resumed_rng)
    assert torch.equal(resumed_model.weight, whole)
    assert resumed_schedule.last_epoch == 6


def test_every_trainer_shares_the_same_options(tmp_path):
    args = trainer_parser("detector", "d").parse_args(["--config", "c.json", "--out", str(tmp_path), "--resume"])
    assert args.resume and args.out == tmp_path and args.config.name == "c.json" and args.cache is not None
    assert trainer_parser("inpainting", "d").prog == "medrestore train inpainting"
