"""Self-supervised tuning on the scan's in-plane data: a tuned copy within the budget, the
shipped network untouched, the written-out Adam equal to torch's."""
import numpy as np
import pytest
import torch

from MedRestoreLib.imputation.slice_adapt import _Adam, adapt
from MedRestoreLib.imputation.slices import load_slice_network


def test_written_out_adam_takes_torch_adam_steps():
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    theirs.load_state_dict(ours.state_dict())
    mine, reference = _Adam(list(ours.parameters()), rate=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    data = torch.randn(16, 4)
    for _ in range(5):
        for network, optimiser in ((ours, mine), (theirs, reference)):
            network.zero_grad()
            (network(data) ** 2).mean().backward()
            optimiser.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b)


def test_tuning_changes_a_copy_within_the_budget():
    network = load_slice_network("lstm")
    before = {k: v.clone() for k, v in network.state_dict().items()}
    rng = np.random.default_rng(0)
    k, j, i = np.meshgrid(np.arange(20), np.arange(64), np.arange(64), indexing="ij")
    acquired = (0.5 + 0.3 * np.sin(j / 4.0 + k) * np.cos(i / 6.0) + rng.normal(0, 0.02, k.shape)).astype(np.float32)
    tuned, report = adapt(network, acquired, 4, "thick", seconds=1.0)
    assert tuned is not network and report.steps >= 1
    assert any(not torch.equal(before[k], v) for k, v in tuned.state_dict().items())
    assert all(torch.equal(before[k], v) for k, v in network.state_dict().items())


@pytest.mark.parametrize("shape, seconds", [((20, 64, 64), 0.0), ((10, 64, 64), 1.0)])
def test_no_budget_or_a_tiny_scan_keeps_the_shipped_network(shape, seconds):
    network = load_slice_network("lstm")
    tuned, report = adapt(network, np.random.default_rng(0).random(shape, dtype=np.float32), 4, "sampled", seconds)
    assert tuned is network and report.steps == 0
