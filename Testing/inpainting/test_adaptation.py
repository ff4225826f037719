"""Test-time adaptation of the GAN filler with the shipped weights on a crop of the bundled MRI:
it changes a copy of the generator only, is reproducible for a seed and a step count, never
lets the real defects' values in, changes only masked voxels, and stops when cancelled."""
import numpy as np
import pytest
import torch

from MedRestoreLib.cli import build_parser
from MedRestoreLib.defects import corrupt
from MedRestoreLib.errors import Cancelled, InputError
from MedRestoreLib.inpainting import filler_for
from MedRestoreLib.inpainting.adaptation import adapt_gan
from MedRestoreLib.inpainting.gan_filler import defect_region, gan_fill
from MedRestoreLib.inpainting.smooth_fill import smooth_fill
from MedRestoreLib.options import FillOptions, RestoreOptions
from MedRestoreLib.progress import Steps
from MedRestoreLib.volume import Volume

STEPS = 2  # a few Adam steps: enough to move every weight, fast on a CPU


@pytest.fixture(scope="module")
def case(blob_case):
    """One 10³ box in the same crop (blobs make every step's smooth fill slower)."""
    damaged, mask, _ = corrupt(Volume(blob_case[0], np.eye(4)), "box", seed=1, count=1, box_size=10)
    return damaged.array.astype(np.float64), mask.array.astype(bool)


@pytest.fixture(scope="module")
def prepared(model, case):
    """The normalised, smoothly pre-filled defect region, as gan_fill hands it to adapt_gan."""
    damaged, mask = case
    settings = model.config["model"]
    region = defect_region(mask, settings)
    known = damaged[~mask]
    normalised = ((np.where(mask, 0.0, damaged) - known.min()) / np.ptp(known))[region].astype(np.float32)
    filled = smooth_fill(torch.from_numpy(normalised), torch.from_numpy(~mask[region]),
                         int(settings["smoothing_iterations"]), settings["smoothing_relaxation"]).numpy()
    return filled, mask[region]


def _weights(generator):
    return {name: value.detach().clone() for name, value in generator.state_dict().items()}


def test_adaptation_changes_a_copy_and_not_the_shipped_model(model, prepared):
    before = _weights(model.generator)
    adaptation = adapt_gan(model, *prepared, seconds=60, max_steps=STEPS)
    assert adaptation.steps == STEPS and len(adaptation.losses) == 2
    assert adaptation.model.generator is not model.generator
    after = _weights(adaptation.model.generator)
    assert all(not torch.equal(after[name], before[name]) for name in before if name.endswith("weight"))
    for name, value in _weights(model.generator).items():
        assert torch.equal(value, before[name])
    assert not model.generator.training and not adaptation.model.generator.training


def test_same_seed_and_steps_give_the_same_weights(model, prepared):
    first = _weights(adapt_gan(model, *prepared, seconds=60, max_steps=STEPS, seed=3).model.generator)
    second = _weights(adapt_gan(model, *prepared, seconds=60, max_steps=STEPS, seed=3).model.generator)
    other = _weights(adapt_gan(model, *prepared, seconds=60, max_steps=STEPS, seed=4).model.generator)
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert not all(torch.equal(first[name], other[name]) for name in first)


def test_the_time_budget_stops_it(model, prepared):
    adaptation = adapt_gan(model, *prepared, seconds=0.5)
    assert 1 <= adaptation.steps and adaptation.seconds < 5


def test_only_masked_voxels_change_and_defect_values_are_never_read(model, case):
    damaged, mask = case
    filled = gan_fill(damaged, mask, model=model, adapt_seconds=60, adapt_steps=STEPS)
    np.testing.assert_array_equal(filled[~mask], damaged[~mask])
    assert np.all(np.isfinite(filled))
    assert not np.array_equal(filled, gan_fill(damaged, mask, model=model))  # the adaptation did something
    garbage = np.where(mask, np.random.default_rng(0).uniform(-1e4, 1e4, mask.shape), damaged)
    np.testing.assert_array_equal(filled, gan_fill(garbage, mask, model=model, adapt_seconds=60, adapt_steps=STEPS))


def test_cancel_stops_the_adaptation(model, case):
    damaged, mask = case
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2  # lets a step or two run first

    with pytest.raises(Cancelled):
        gan_fill(damaged, mask, Steps(cancel=cancel), model=model, adapt_seconds=60)
    assert len(calls) == 3


def test_the_option_round_trips_and_reaches_the_filler(case):
    options = RestoreOptions.from_dict({"fill": {"method": "gan", "adapt_seconds": 1.5}})
    assert RestoreOptions.from_dict(options.to_dict()) == options
    assert filler_for(options.fill).keywords["adapt_seconds"] == 1.5
    assert FillOptions().adapt_seconds == 0  # off by default
    for bad in ({"method": "gan", "adapt_seconds": -1}, {"method": "gan", "adapt_seconds": "5"},
                {"method": "biharmonic3d", "adapt_seconds": 5}):
        with pytest.raises(InputError):
            FillOptions.from_dict(bad)
    args = build_parser().parse_args(["restore", "in.nrrd", "out.nrrd", "--method", "gan", "--adapt-seconds", "2"])
    assert args.adapt_seconds == 2.0


def test_the_benchmark_runs_gan_with_adaptation_beside_the_others_when_asked(blob_case):
    from MedRestoreLib.benchmark.inpainting import inpainting_benchmark

    volumes = {"crop": Volume(blob_case[0], np.eye(4))}
    result = inpainting_benchmark(volumes, [0], "cpu", True, Steps(), adapt_seconds=0.5, cases=["box-16"],
                                  methods=["gan", "gan+tta", "biharmonic3d"])
    assert result["methods"] == ["gan", "gan+tta", "biharmonic3d"] and result["adapt_seconds"] == 0.5
    assert set(result["per_case"]["box-16"]) == set(result["methods"])
    assert result["per_volume"]["crop"] == result["per_case"]
