"""Training under ``torchrun --nproc_per_node=2`` (gloo on the CPU), a few steps of tiny configs
of the GAN, detector, slice- and sequence-imputer trainers:
every rank holds the same weights, a run stopped and resumed on the same world size ends exactly
where the uninterrupted run ends, and a checkpoint resumes on another world size. Real torchrun,
real data (the cache of ``make data``; skipped without it)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from MedRestoreLib.training.distributed import weights_digest
from MedRestoreLib.training.fetch_data import default_cache

pytestmark = pytest.mark.skipif(not (default_cache() / "ch2bet.nii.gz").exists(), reason="no data cache")

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "MedRestoreLib" / "training" / "configs"


def tiny_gan_config(path: Path, **train) -> Path:
    """The shipped GAN config shrunk to seconds: narrow networks, one crop of one volume, 4 steps,
    the critic (and its R1 penalty) on from step 1."""
    config = json.loads((CONFIGS / "inpaint-gan.json").read_text())
    config["model"].update(width=4, critic_width=8)
    config["data"].update(training=["ch2bet.nii.gz"], validation=["ch2better.nii.gz"], spacings_mm=[2.0],
                          label_maps=["aal.nii.gz"], synthetic_fraction=0.5, tiles=[16], crop=40)
    config["train"].update(steps=4, batch=2, crops_per_batch=1, adversarial_start=1, checkpoint_every=2,
                           snapshot_steps=[], max_seconds=None, **train)
    config["validation"].update(crops_per_kind=1, spacings_mm=[2.0], kinds=["box"])
    path.write_text(json.dumps(config))
    return path


def tiny_detector_config(path: Path, **train) -> Path:
    """The detector's config shrunk to seconds: a tiny localizer, one volume and one atlas, small
    regions, three kinds, 4 steps."""
    config = json.loads((CONFIGS / "defect-lstm-v2.json").read_text())
    config["model"].update(hidden=4, lstm_hidden=2)
    config["data"].update(training=["ch2bet.nii.gz"], spacings_mm=[2.0], atlases=["aal.nii.gz"], region=[16, 48, 48],
                          crop=[8, 24, 24], kinds=["box", "dead-pixels", "clean"], kind_weights={})
    config["train"].update(steps=4, batch=2, checkpoint_every=2, max_seconds=None, **train)
    config["validation"].update(episodes_per_kind=1)
    path.write_text(json.dumps(config))
    return path


def tiny_slice_config(path: Path) -> Path:
    config = {"model": {"id": "slice-lstm", "version": "0.0.1", "cell": "lstm", "channels": 4, "hidden": 4, "head": 4},
              "data": {"training": ["ch2bet.nii.gz"], "spacings_mm": [2.0], "factors": [2], "acquired_slices": 3,
                       "crop": 32},
              "train": {"seed": 3, "steps": 4, "batch": 2, "learning_rate": 0.01, "checkpoint_every": 2},
              "validation": {"factors": [2]}}
    path.write_text(json.dumps(config))
    return path


def train(target: str, config: Path, out: Path, *extra: str, ranks: int = 2) -> str:
    """``torchrun --standalone --nproc_per_node=ranks -m MedRestoreLib train ...`` (plain python
    for one rank); returns its output."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ranks}"] \
        if ranks > 1 else [sys.executable]
    completed = subprocess.run(launcher + ["-m", "MedRestoreLib", "train", target, "--config", str(config),
                                           "--out", str(out), "--device", "cpu", *extra],
                               cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout + completed.stderr


def checkpoint(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)


def assert_ranks_held_the_saved_weights(state: dict, networks, ranks: int) -> None:
    digests = state["rank_weights_sha256"]
    assert state["world_size"] == ranks and len(digests) == ranks and len(set(digests)) == 1
    assert digests[0] == weights_digest({name: state[name] for name in networks})


def assert_same(first, second, where="") -> None:
    """Nested state dicts equal exactly (tensors bit for bit)."""
    if isinstance(first, torch.Tensor):
        assert torch.equal(first, second), where
    elif isinstance(first, dict):
        assert first.keys() == second.keys(), where
        for key in first:
            assert_same(first[key], second[key], f"{where}.{key}")
    elif isinstance(first, (list, tuple)):
        assert len(first) == len(second), where
        for n, (a, b) in enumerate(zip(first, second)):
            assert_same(a, b, f"{where}[{n}]")
    else:
        assert first == second, where


# target, tiny config, its networks, every part of its checkpoint
TRAINERS = {"inpainting": (tiny_gan_config, ("generator", "critic"), ("g_optimiser", "d_optimiser")),
            "detector": (tiny_detector_config, ("model",), ("optimiser", "schedule"))}


@pytest.mark.parametrize("target", sorted(TRAINERS))
def test_a_trainer_on_two_ranks_keeps_them_identical_and_resumes_exactly(tmp_path, target):
    tiny, networks, others = TRAINERS[target]
    config = tiny(tmp_path / "config.json")
    train(target, config, tmp_path / "whole")
    whole = checkpoint(tmp_path / "whole")
    assert whole["step"] == 4
    assert_ranks_held_the_saved_weights(whole, networks, 2)
    metadata = json.loads((tmp_path / "whole" / "metadata.json").read_text())
    assert metadata["steps_done"] == 4 and metadata["device"] == "cpu × 2"

    train(target, tiny(tmp_path / "half.json", stop_after_steps=2), tmp_path / "resumed")
    halfway = checkpoint(tmp_path / "resumed")
    first = networks[0]
    assert halfway["step"] == 2 and not any(
        torch.equal(halfway[first][k], whole[first][k]) for k in whole[first] if "weight" in k)
    (tmp_path / "other-world").mkdir()
    shutil.copyfile(tmp_path / "resumed" / "checkpoint.pt", tmp_path / "other-world" / "checkpoint.pt")
    train(target, config, tmp_path / "resumed", "--resume")
    resumed = checkpoint(tmp_path / "resumed")
    assert resumed["step"] == 4
    for part in networks + others:
        assert_same(resumed[part], whole[part], part)
    assert_same(resumed["rank_states"], whole["rank_states"], "rank_states")

    if target != "inpainting":
        return  # the same loop resumes every trainer; one trainer shows it on another world size
    # The step-2 checkpoint of two ranks goes on in one process: its own stream, the same weights to start.
    log = train(target, config, tmp_path / "other-world", "--resume", ranks=1)
    assert "resumed at step 2" in log
    alone = checkpoint(tmp_path / "other-world")
    assert alone["step"] == 4 and alone["world_size"] == 1
    assert_ranks_held_the_saved_weights(alone, networks, 1)
    assert json.loads((tmp_path / "other-world" / "metadata.json").read_text())["steps_done"] == 4


def test_slice_imputer_on_two_ranks_holds_one_set_of_weights(tmp_path):
    train("slice-imputer", tiny_slice_config(tmp_path / "slice.json"), tmp_path / "run")
    state = checkpoint(tmp_path / "run")
    assert state["step"] == 4
    assert_ranks_held_the_saved_weights(state, ("model",), 2)
    metadata = json.loads((tmp_path / "run" / "metadata.json").read_text())
    assert metadata["steps_done"] == 4 and metadata["device"] == "cpu × 2"


def test_sequence_imputer_on_two_ranks_holds_one_set_of_weights(tmp_path):
    config = {"model": {"id": "sequence-srn", "version": "0.0.1", "cell": "srn", "hidden": 8},
              "data": {"real_fraction": 0.5, "max_cell_rate": 0.3, "max_visit_rate": 0.3, "max_forecast": 2,
                       "forecast_weight": 0.5},
              "train": {"seed": 1, "steps": 4, "batch": 2, "learning_rate": 0.01, "checkpoint_every": 2},
              "validation": {"subjects": 30}}
    (tmp_path / "sequence.json").write_text(json.dumps(config))
    train("sequence-imputer", tmp_path / "sequence.json", tmp_path / "run")
    state = checkpoint(tmp_path / "run")
    assert state["step"] == 4
    assert_ranks_held_the_saved_weights(state, ("model",), 2)
