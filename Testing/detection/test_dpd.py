"""DPD_D features: shapes, the distance on exact predictions and on outliers, the structural
features (column decorrelation, slice departure), the noise floor, and degenerate volumes."""
import numpy as np
import pytest

from MedRestoreLib.detection.dpd import FEATURE_NAMES, NOISE_FLOOR, compute_features, normalise

DPD = FEATURE_NAMES.index("dpd")
COLUMN = FEATURE_NAMES.index("column_decorrelation")
DEPARTURE = FEATURE_NAMES.index("slice_departure")


def ramp(shape=(10, 24, 24)):
    """A linear ramp, never 0 (0 is background for the normalisation): every neighbourhood
    (3×3 median, mean of adjacent slices, 3×3×3 median) predicts its interior exactly."""
    k, j, i = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    return 100.0 + 7.0 * k + 3.0 * j + 2.0 * i


def textured(shape=(8, 32, 32), seed=0):
    rng = np.random.default_rng(seed)
    k, j, i = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    values = (500 + 100 * np.sin(j / 3.0) * np.cos(i / 4.0) + 60 * np.sin((i + j) / 5.0)
              + 40 * np.sin(k / 2.0))
    return values + rng.normal(0, 5, shape)


def test_features_have_the_documented_shape_order_and_dtype():
    array = textured((5, 12, 9))
    features, sigma = compute_features(array)
    assert tuple(features.shape) == (len(FEATURE_NAMES), 5, 12, 9) == (12, 5, 12, 9)
    assert features.dtype.is_floating_point and str(features.dtype) == "torch.float32"
    assert sigma >= NOISE_FLOOR
    values = features.numpy()
    assert np.all(np.isfinite(values))
    # channel 0 is the normalised intensity (v − p0.5)/(p99.5 − p0.5), centred per column (mean
    # over j), as the shipped model was trained on it
    x = normalise(array)
    np.testing.assert_allclose(values[FEATURE_NAMES.index("intensity")],
                               x - x.mean(axis=1, keepdims=True), atol=1e-5)
    # the DPD_D channel is the (compressed) minimum of the three distance channels
    distances = np.abs(values[1:4])
    np.testing.assert_allclose(values[DPD], distances.min(axis=0), atol=1e-5)


def test_clean_ramp_has_zero_dpd_inside():
    features, _ = compute_features(ramp())
    interior = features[DPD].numpy()[1:-1, 1:-1, 1:-1]
    assert np.abs(interior).max() < 1e-4


def test_hot_voxel_in_a_ramp_stands_far_above_its_neighbours():
    array = ramp()
    array[5, 12, 12] = 5000.0
    dpd = features_dpd = compute_features(array)[0][DPD].numpy()  # log1p(distance)
    neighbours = dpd[4:7, 11:14, 11:14].copy()
    neighbours[1, 1, 1] = 0.0
    assert features_dpd[5, 12, 12] > 3.0  # log1p(distance): a distance of more than e³ − 1 ≈ 19 σ
    assert features_dpd[5, 12, 12] > 10 * neighbours.max()
    elsewhere = dpd.copy()
    elsewhere[4:7, 11:14, 11:14] = 0.0
    assert np.abs(elsewhere[1:-1, 1:-1, 1:-1]).max() < 1e-4


def test_sigma_is_floored_on_a_noise_free_volume():
    _, sigma = compute_features(ramp())
    assert sigma == NOISE_FLOOR
    _, noisy_sigma = compute_features(textured() + np.random.default_rng(3).normal(0, 40, (8, 32, 32)))
    assert noisy_sigma > NOISE_FLOOR


def test_partial_line_dropout_raises_column_decorrelation_on_that_column():
    array = textured()
    array[4, 4:28, 16] = 0  # a line along j, inside the textured object, in one slice
    column = compute_features(array)[0][COLUMN].numpy()
    clean = compute_features(textured())[0][COLUMN].numpy()
    assert column[4, 10, 16] > 0.5
    assert column[4, 10, 16] > 5 * clean[4, 10, 16]
    assert column[4, 10, 16] > 5 * np.delete(column[4, 10], [15, 16, 17]).max()
    assert column[3, 10, 16] < 0.2 and column[5, 10, 16] < 0.2  # other slices unaffected


def test_full_length_zero_column_shows_on_its_neighbours():
    # A column that is 0 over its whole length is flat, and flat columns (background) are given
    # 0 by design; the collapse of correlation shows on the two columns beside it.
    array = textured()
    array[4, :, 16] = 0
    column = compute_features(array)[0][COLUMN].numpy()
    assert column[4, 10, 15] > 0.3 and column[4, 10, 17] > 0.3
    assert column[3, 10, 15] < 0.1 and column[3, 10, 17] < 0.1


def test_blanked_slice_raises_slice_departure():
    array = textured()
    array[4] = 0
    departure = compute_features(array)[0][DEPARTURE].numpy()
    assert np.all(departure == departure[:, :1, :1])  # one value per slice
    per_slice = departure[:, 0, 0]
    assert int(np.argmax(per_slice)) == 4
    clean = compute_features(textured())[0][DEPARTURE].numpy()[:, 0, 0]
    assert per_slice[4] > 3 * clean[4]
    assert per_slice[4] > 2 * per_slice[[0, 1, 7]].max()  # slices away from the blank one


@pytest.mark.parametrize("shape", [(1, 20, 20), (2, 20, 20), (1, 1, 20), (20, 1, 1), (3, 1, 7),
                                   (1, 2, 1)])
def test_thin_volumes(shape):
    features, sigma = compute_features(textured(shape))
    assert tuple(features.shape) == (len(FEATURE_NAMES),) + shape
    assert np.all(np.isfinite(features.numpy())) and np.isfinite(sigma)


def test_hot_pixel_in_a_single_slice_image_is_far_from_every_prediction():
    # a 2-D image has no adjacent slices; DPD_D must still see an outlier in the plane
    array = textured((1, 32, 32))
    array[0, 16, 16] = 5000.0
    dpd = compute_features(array)[0][DPD].numpy()
    distance = np.expm1(dpd)  # the channel is log1p-compressed
    assert distance[0, 16, 16] > 20.0
    assert distance[0, 16, 16] > 5 * np.delete(distance.ravel(), 16 * 32 + 16).max()


def test_two_slice_volume_sees_a_hot_voxel():
    array = textured((2, 32, 32))
    array[1, 10, 20] = 5000.0
    dpd = compute_features(array)[0][DPD].numpy()
    assert dpd[1, 10, 20] > 3.0


@pytest.mark.parametrize("value", [0, 7, -3, 1000])
def test_constant_volumes_give_finite_zero_distances(value):
    features, sigma = compute_features(np.full((4, 9, 11), value, np.float32))
    values = features.numpy()
    assert np.all(np.isfinite(values)) and np.isfinite(sigma)
    assert np.all(values[1:6] == 0)


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32])
def test_input_dtypes_give_the_same_float32_features(dtype):
    base = np.clip(textured((4, 16, 16)) / 4.0, 1, 250).round()
    reference, _ = compute_features(base.astype(np.float32))
    features, _ = compute_features(base.astype(dtype))
    assert str(features.dtype) == "torch.float32"
    np.testing.assert_allclose(features.numpy(), reference.numpy(), atol=1e-5)


def test_features_are_the_same_for_float32_and_float64_input_and_leave_it_unchanged():
    array = textured((6, 20, 16))
    before = array.copy()
    wide, _ = compute_features(array)
    narrow, _ = compute_features(array.astype(np.float32))
    np.testing.assert_array_equal(array, before)
    np.testing.assert_allclose(wide.numpy(), narrow.numpy(), atol=1e-4)
