"""The LSTM localizer network: output shapes, next-defect targets, and the candidate-only scans."""
import numpy as np
import pytest
import torch

from MedRestoreLib.detection.lstm import AXES, build_localizer, next_defect_targets, scan_along


@pytest.mark.parametrize("shape", [(4, 6, 5), (1, 9, 7), (5, 1, 3), (3, 4, 1), (1, 1, 1)])
def test_output_shapes(shape):
    torch.manual_seed(0)
    model = build_localizer(11, hidden=16, lstm_hidden=8).eval()
    with torch.no_grad():
        outputs = model(torch.randn(2, 11, *shape), gate=0.0)  # every voxel a candidate
    assert tuple(outputs["logit"].shape) == (2, 1) + shape
    assert tuple(outputs["next_logit"].shape) == (2, len(AXES)) + shape
    assert tuple(outputs["gate_logit"].shape) == (2, 1) + shape
    assert all(torch.isfinite(value).all() for value in outputs.values())


def test_next_defect_targets_shift_the_mask_back_by_one_along_each_axis():
    mask = torch.zeros(1, 1, 3, 4, 5)
    mask[0, 0, 1, 2, 3] = 1
    mask[0, 0, 0, 0, 0] = 1
    targets = next_defect_targets(mask)
    assert tuple(targets.shape) == (1, 3, 3, 4, 5)
    expected = np.zeros((3, 3, 4, 5))
    # channel 0: along i (rows) — 1 at the voxel before each defect along i
    expected[0, 1, 2, 2] = 1
    # channel 1: along j (columns)
    expected[1, 1, 1, 3] = 1
    # channel 2: along k (slices)
    expected[2, 0, 2, 3] = 1
    # the defect at (0, 0, 0) has no voxel before it on any axis
    np.testing.assert_array_equal(targets[0].numpy(), expected)


def test_next_defect_targets_of_length_one_axes_are_zero():
    mask = torch.ones(1, 1, 1, 1, 4)
    targets = next_defect_targets(mask)[0]
    np.testing.assert_array_equal(targets[0, 0, 0].numpy(), [1, 1, 1, 0])
    assert not targets[1:].any()


@pytest.mark.parametrize("axis", AXES)
def test_scan_runs_only_the_sequences_with_a_candidate(axis):
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(4, 3, batch_first=True, bidirectional=True)
    embedded = torch.randn(1, 4, 3, 5, 6)
    candidates = torch.zeros(1, 1, 3, 5, 6, dtype=torch.bool)
    candidates[0, 0, 1, 2, 4] = True
    with torch.no_grad():
        output = scan_along(lstm, embedded, candidates, axis)
    assert tuple(output.shape) == (1, 6, 3, 5, 6)
    # the one sequence through (1, 2, 4) along the axis is scanned, the others are zeros
    index = [slice(None), slice(None), 1, 2, 4]
    index[axis] = slice(None)
    scanned = output[tuple(index)]
    assert (scanned != 0).all()
    rest = output.clone()
    rest[tuple(index)] = 0
    assert not rest.any()
    # and it equals the LSTM run along that sequence alone
    sequence = embedded[tuple(index)]  # (1, C, L)
    with torch.no_grad():
        alone = lstm(sequence.transpose(1, 2))[0].transpose(1, 2)
    torch.testing.assert_close(scanned, alone, atol=1e-6, rtol=1e-5)


def test_scan_without_candidates_is_zero():
    lstm = torch.nn.LSTM(4, 3, batch_first=True, bidirectional=True)
    embedded = torch.randn(2, 4, 2, 3, 4)
    candidates = torch.zeros(2, 1, 2, 3, 4, dtype=torch.bool)
    for axis in AXES:
        assert not scan_along(lstm, embedded, candidates, axis).any()
