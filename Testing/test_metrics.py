"""The evaluation protocol against numbers worked out by hand on small arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest

from MedRestoreLib import InputError
from MedRestoreLib.intensity import normalise_intensity
from MedRestoreLib.metrics import (
    SCORE_INFO,
    evaluate_files,
    mask_scores,
    psnr,
    restoration_scores,
    ssim,
    ssim_map,
)
from MedRestoreLib.volume import Volume, VolumeKind, write_volume


def ramp_volume(shape=(12, 16, 16)):
    """Values 1..N (no zeros), so the percentiles are those of 1..N."""
    return np.arange(1, np.prod(shape) + 1, dtype=np.float64).reshape(shape)


def test_psnr_over_a_four_voxel_mask_by_hand():
    reference = ramp_volume((4, 10, 10))  # 1..400: p0.5 = 2.995, p99.5 = 398.005
    low, high = np.percentile(reference, [0.5, 99.5])
    assert (low, high) == pytest.approx((2.995, 398.005))
    scale = high - low  # 395.01
    test = reference.copy()
    mask = np.zeros(reference.shape, dtype=np.uint8)
    errors = [0.1 * scale, 0.2 * scale, -0.1 * scale, 0.0]  # in normalised units 0.1, 0.2, -0.1, 0
    for index, error in zip([(1, 3, 3), (1, 3, 4), (2, 5, 5), (2, 6, 6)], errors):
        mask[index] = 1
        test[index] += error
    # MSE = (0.01 + 0.04 + 0.01 + 0) / 4 = 0.015 → PSNR = 10 log10(1 / 0.015) = 18.2391 dB.
    expected = 10 * math.log10(1 / 0.015)
    assert expected == pytest.approx(18.2391, abs=1e-4)
    assert psnr(reference, test, mask) == pytest.approx(expected, abs=1e-9)
    # Whole volume: the same squared errors over 400 voxels → MSE = 0.06 / 400.
    assert psnr(reference, test) == pytest.approx(10 * math.log10(400 / 0.06), abs=1e-9)


def test_psnr_of_identical_volumes_is_inf_and_of_an_empty_mask_nan():
    reference = ramp_volume()
    assert psnr(reference, reference) == math.inf
    assert math.isnan(psnr(reference, reference + 1, np.zeros(reference.shape)))


def test_ssim_of_identical_volumes_is_one():
    reference = np.random.default_rng(0).uniform(1, 100, size=(12, 16, 16))
    assert ssim(reference, reference) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(ssim_map(normalise_intensity(reference),
                                        normalise_intensity(reference)), 1.0, atol=1e-12)


def test_ssim_of_constant_patches_is_the_luminance_term_by_hand():
    # Constant volumes: all variances and the covariance are 0, so the structure terms are
    # (0 + C2) / (0 + C2) = 1 and SSIM = (2 mx my + C1) / (mx^2 + my^2 + C1), C1 = 0.01^2.
    mx, my = 0.5, 0.6
    c1 = 0.01 ** 2
    expected = (2 * 0.5 * 0.6 + 0.0001) / (0.25 + 0.36 + 0.0001)  # 0.6001 / 0.6101
    assert expected == pytest.approx(0.983609, abs=1e-6)
    full = ssim_map(np.full((12, 12, 12), mx), np.full((12, 12, 12), my))
    np.testing.assert_allclose(full, (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1), atol=1e-12)
    np.testing.assert_allclose(full, expected, atol=1e-12)


def test_ssim_map_is_2d_for_a_one_slice_volume():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(1)
    ref, test = rng.uniform(size=(1, 20, 20)), rng.uniform(size=(1, 20, 20))
    full = ssim_map(ref, test)
    _, expected = structural_similarity(ref[0], test[0], gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=1, full=True)
    assert full.shape == (1, 20, 20)
    np.testing.assert_allclose(full[0], expected, atol=1e-12)


def test_ssim_map_matches_scikit_image_in_3d():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(2)
    ref, test = rng.uniform(size=(12, 14, 16)), rng.uniform(size=(12, 14, 16))
    _, expected = structural_similarity(ref, test, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=1, full=True)
    np.testing.assert_allclose(ssim_map(ref, test), expected, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 20, 20), (2, 5, 30), (4, 4, 4), (1, 1, 6)])
def test_ssim_of_volumes_smaller_than_the_window_does_not_crash(shape):
    rng = np.random.default_rng(4)
    ref = rng.uniform(1, 10, size=shape)
    value = ssim(ref, ref * 1.1)
    assert np.isfinite(value) and -1 <= value <= 1
    assert ssim(ref, ref) == pytest.approx(1.0)


def test_ssim_map_of_a_single_voxel_is_the_luminance_term():
    # (A one-voxel reference has no intensity scale, so only the map itself is defined.)
    full = ssim_map(np.full((1, 1, 1), 0.5), np.full((1, 1, 1), 0.6))
    assert full.shape == (1, 1, 1)
    assert full[0, 0, 0] == pytest.approx(0.6001 / 0.6101, abs=1e-12)


def test_mask_scores_on_a_2x2x2_example_counted_by_eye():
    truth = np.array([[[1, 1], [0, 0]], [[1, 0], [0, 0]]])
    predicted = np.array([[[1, 0], [1, 0]], [[1, 0], [0, 1]]])
    # TP: (0,0,0), (1,0,0) → 2;  FP: (0,1,0), (1,1,1) → 2;  FN: (0,0,1) → 1.
    scores = mask_scores(truth, predicted)
    assert (scores["true_positives"], scores["false_positives"], scores["false_negatives"]) == (2, 2, 1)
    assert scores["precision"] == pytest.approx(2 / 4)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))  # 4/7
    assert scores["dice"] == pytest.approx(4 / 7)


def test_mask_scores_conventions_for_empty_masks():
    empty, some = np.zeros((2, 2, 2)), np.zeros((2, 2, 2))
    some[0, 0, 0] = 1
    both_empty = mask_scores(empty, empty)
    assert all(both_empty[key] == 1.0 for key in ("precision", "recall", "f1", "dice"))
    for truth, predicted in ((some, empty), (empty, some)):
        scores = mask_scores(truth, predicted)
        assert all(scores[key] == 0.0 for key in ("precision", "recall", "f1", "dice"))


def test_restoration_scores_reuse_one_normalisation_and_accept_volumes():
    rng = np.random.default_rng(5)
    reference = rng.uniform(10, 100, size=(12, 16, 16))
    restored = reference + rng.normal(0, 2, size=reference.shape)
    mask = np.zeros(reference.shape, dtype=np.uint8)
    mask[4:8, 4:10, 4:10] = 1
    scores = restoration_scores(Volume(reference), Volume(restored), Volume(mask))
    assert set(scores) <= set(SCORE_INFO)
    assert scores["psnr_mask"] == pytest.approx(psnr(reference, restored, mask))
    assert scores["psnr"] == pytest.approx(psnr(reference, restored))
    assert scores["ssim_mask"] == pytest.approx(ssim(reference, restored, mask))
    assert scores["ssim"] == pytest.approx(ssim(reference, restored))
    assert scores["mask_voxels"] == 144


def test_shape_mismatch_is_an_input_error():
    with pytest.raises(InputError, match="shape"):
        psnr(ramp_volume((2, 3, 4)), ramp_volume((2, 4, 3)))


def test_evaluate_files_scores_restorations_and_masks(tmp_path):
    rng = np.random.default_rng(6)
    reference = rng.uniform(10, 100, size=(12, 16, 16)).astype(np.float32)
    mask = np.zeros(reference.shape, dtype=np.uint8)
    mask[2:6, 3:9, 3:9] = 1
    restored = reference.copy()
    restored[mask == 1] += 5
    for name, array in (("ref", reference), ("restored", restored)):
        write_volume(Volume.from_geometry(array, spacing=(0.8, 0.8, 2.0)), tmp_path / f"{name}.nrrd")
    write_volume(Volume.from_geometry(mask, spacing=(0.8, 0.8, 2.0), kind=VolumeKind.LABEL),
                 tmp_path / "mask.nrrd")
    scores = evaluate_files(tmp_path / "ref.nrrd", tmp_path / "restored.nrrd", tmp_path / "mask.nrrd")
    assert scores == pytest.approx(restoration_scores(reference, restored, mask))
    assert "f1" not in scores

    predicted = mask.copy()
    predicted[2, 3, 3] = 0
    write_volume(Volume.from_geometry(predicted, spacing=(0.8, 0.8, 2.0), kind=VolumeKind.LABEL),
                 tmp_path / "predicted.nrrd")
    scores = evaluate_files(tmp_path / "ref.nrrd", tmp_path / "predicted.nrrd", tmp_path / "mask.nrrd")
    assert scores["true_positives"] == 143 and scores["false_negatives"] == 1
    assert scores["precision"] == 1.0


def test_evaluate_files_with_mismatched_geometry_names_the_files(tmp_path):
    array = np.random.default_rng(7).uniform(1, 10, size=(12, 16, 16)).astype(np.float32)
    write_volume(Volume.from_geometry(array, spacing=(1, 1, 1)), tmp_path / "ref.nrrd")
    write_volume(Volume.from_geometry(array, spacing=(1, 1, 3)), tmp_path / "test.nrrd")
    write_volume(Volume.from_geometry((array > 5).astype(np.uint8)), tmp_path / "mask.nrrd")
    with pytest.raises(InputError, match="test.nrrd.*ref.nrrd") as error:
        evaluate_files(tmp_path / "ref.nrrd", tmp_path / "test.nrrd", tmp_path / "mask.nrrd")
    assert "\n" not in str(error.value)
