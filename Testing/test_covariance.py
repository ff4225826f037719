"""Batched column covariance/correlation against numpy, per slice."""
from __future__ import annotations

import numpy as np
import pytest

from MedRestoreLib import InputError
from MedRestoreLib.covariance import column_correlation, column_covariance

RTOL_FLOAT32 = 1e-5


def numpy_covariance(slices):
    return np.stack([np.cov(np.asarray(s, dtype=np.float64), rowvar=False, bias=True)
                     for s in slices])


def assert_close_per_slice(result, expected, rtol):
    """|result - expected| ≤ rtol · max |expected| of the same slice."""
    scale = np.abs(expected).max(axis=(1, 2), keepdims=True)
    assert np.all(np.abs(result - expected) <= rtol * scale), np.max(np.abs(result - expected) / scale)


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_float32_matches_numpy_cov_with_and_without_a_large_offset(offset):
    slices = offset + np.random.default_rng(0).normal(size=(7, 50, 24))
    result = column_covariance(slices)
    assert result.shape == (7, 24, 24) and result.dtype == np.float32
    assert_close_per_slice(result, numpy_covariance(slices), RTOL_FLOAT32)


def test_int16_input_matches_numpy_cov():
    slices = np.random.default_rng(1).integers(-1024, 3000, size=(5, 40, 32)).astype(np.int16)
    assert_close_per_slice(column_covariance(slices), numpy_covariance(slices), RTOL_FLOAT32)


def test_uint16_and_torch_inputs_are_accepted():
    import torch

    slices = np.random.default_rng(2).integers(0, 60000, size=(3, 20, 10)).astype(np.uint16)
    assert_close_per_slice(column_covariance(slices), numpy_covariance(slices), RTOL_FLOAT32)
    tensor = torch.from_numpy(slices.astype(np.float32))
    assert_close_per_slice(column_covariance(tensor), numpy_covariance(slices), RTOL_FLOAT32)


def test_float64_matches_numpy_cov_to_1e_10():
    import torch

    slices = 1000 + np.random.default_rng(3).normal(size=(6, 33, 17))
    result = column_covariance(slices, dtype=torch.float64)
    assert result.dtype == np.float64
    assert_close_per_slice(result, numpy_covariance(slices), 1e-10)


def test_chunked_processing_gives_the_same_result(monkeypatch):
    import MedRestoreLib.covariance as covariance

    slices = np.random.default_rng(4).normal(size=(9, 12, 8))
    whole = column_covariance(slices)
    monkeypatch.setattr(covariance, "_CHUNK_ELEMENTS", 2 * 12 * 8)  # 2 slices per chunk
    np.testing.assert_array_equal(column_covariance(slices), whole)


def test_one_row_slices_give_zeros():
    result = column_covariance(np.random.default_rng(5).normal(size=(4, 1, 6)))
    np.testing.assert_array_equal(result, np.zeros((4, 6, 6)))


@pytest.mark.parametrize("shape", [(10, 10), (2, 0, 5), (1, 2, 3, 4)])
def test_bad_shapes_are_input_errors(shape):
    with pytest.raises(InputError):
        column_covariance(np.zeros(shape))


def test_correlation_matches_numpy_and_zeroes_constant_columns():
    slices = 500 + np.random.default_rng(6).normal(size=(3, 40, 6))
    slices[1, :, 2] = 0.1  # a constant column whose float64 mean is not exact
    result = column_correlation(slices)
    for k in (0, 2):
        np.testing.assert_allclose(result[k], np.corrcoef(slices[k], rowvar=False), atol=1e-5)
    assert np.all(result[1, 2, :] == 0) and np.all(result[1, :, 2] == 0)
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_allclose(result[1][np.ix_(keep, keep)],
                               np.corrcoef(slices[1][:, keep], rowvar=False), atol=1e-5)
    assert np.all(np.abs(result) <= 1)


def test_device_auto_runs_and_bad_dtype_is_an_input_error():
    slices = np.random.default_rng(7).normal(size=(2, 8, 4))
    assert_close_per_slice(column_covariance(slices, device="auto"), numpy_covariance(slices),
                           RTOL_FLOAT32)
    with pytest.raises(InputError):
        column_covariance(slices, dtype=np.int32)


def test_cuda_matches_cpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    slices = 1000 + np.random.default_rng(8).normal(size=(40, 64, 48))
    expected = numpy_covariance(slices)
    cuda = column_covariance(slices, device="cuda")
    assert_close_per_slice(cuda, expected, RTOL_FLOAT32)
    assert_close_per_slice(cuda, column_covariance(slices), RTOL_FLOAT32)
    assert_close_per_slice(column_correlation(slices, device="cuda"),
                           column_correlation(slices), RTOL_FLOAT32)
    assert_close_per_slice(column_covariance(slices, device="cuda", dtype=torch.float64),
                           expected, 1e-10)


def test_float64_torch_input_is_not_modified():
    import torch

    slices = torch.rand(3, 5, 4, dtype=torch.float64) + 10.0
    before = slices.clone()
    column_covariance(slices)
    column_correlation(slices)
    assert torch.equal(slices, before)
