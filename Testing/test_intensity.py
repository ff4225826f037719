"""The intensity window, written once: the protocol's normalisation by hand, and the choices
callers make when there is no window."""
from __future__ import annotations

import numpy as np
import pytest

from MedRestoreLib import InputError
from MedRestoreLib.intensity import display_window, intensity_window, nonzero_window, normalise_intensity
from MedRestoreLib.volume import Volume


def test_normalisation_maps_percentiles_of_nonzero_voxels_to_0_and_1():
    # 201 non-zero values 0..200 shifted to 1..201, plus zeros that must be ignored.
    values = np.concatenate([np.arange(1, 202, dtype=np.float64), np.zeros(50)])
    # np.percentile (linear) of 1..201: index 0.005 * 200 = 1 → 2; index 0.995 * 200 = 199 → 200.
    low, high = 2.0, 200.0
    assert np.percentile(values[values != 0], [0.5, 99.5]) == pytest.approx([low, high])
    normalised = normalise_intensity(values)
    assert normalised[0] == 0.0            # 1 is below p0.5 → clipped
    assert normalised[1] == 0.0            # 2 = p0.5
    assert normalised[100] == pytest.approx((101 - 2) / 198)
    assert normalised[199] == 1.0          # 200 = p99.5
    assert normalised[200] == 1.0          # 201 clipped
    assert np.all(normalised[201:] == 0.0)  # zeros stay at the bottom


def test_normalisation_matches_numpy_percentile_on_random_data():
    rng = np.random.default_rng(3)
    array = rng.gamma(2.0, 100.0, size=(6, 20, 20))
    array[:, :5] = 0
    low, high = np.percentile(array[array != 0], [0.5, 99.5])
    expected = np.clip((array - low) / (high - low), 0, 1)
    np.testing.assert_allclose(normalise_intensity(array), expected, rtol=0, atol=1e-12)


def test_test_volume_is_normalised_with_the_reference_percentiles():
    reference = np.concatenate([np.arange(1, 202, dtype=np.float64), np.zeros(5)])
    test = reference * 2
    # p0.5 = 2, p99.5 = 200 from the reference; test value 2 * 51 = 102 → (102 - 2) / 198.
    assert normalise_intensity(test, reference)[50] == pytest.approx(100 / 198)


@pytest.mark.parametrize("reference", [np.zeros((3, 4, 4)), np.full((3, 4, 4), 7.0)])
def test_constant_reference_is_an_input_error(reference):
    with pytest.raises(InputError, match="reference"):
        normalise_intensity(np.ones((3, 4, 4)), reference)


def test_the_window_is_numpys_percentiles_of_the_unconverted_non_zero_voxels():
    values = np.linspace(-3, 1000, 4097, dtype=np.float32)
    values[::7] = 0
    low, high = nonzero_window(values)
    np.testing.assert_array_equal([low, high], np.percentile(values[values != 0], [0.5, 99.5]))


def test_without_non_zero_voxels_there_is_no_window_and_each_caller_chooses():
    zeros = np.zeros((2, 3, 4))
    assert nonzero_window(zeros) is None
    assert display_window(zeros) == (0.0, 1.0)  # a figure still shows something
    with pytest.raises(InputError, match="all zeros"):
        intensity_window(zeros)  # the protocol refuses


def test_non_finite_voxels_are_refused_by_the_protocol_and_left_out_of_a_display():
    array = np.arange(1.0, 201.0)
    array[5] = np.nan
    with pytest.raises(InputError, match="NaN"):
        intensity_window(array)
    low, high = display_window(array)
    assert np.isfinite(low) and np.isfinite(high) and high > low


def test_a_constant_image_gets_a_minimal_display_width_and_volumes_are_accepted():
    low, high = display_window(np.full((3, 3, 3), 7.0))
    assert low == 7.0 and 7.0 < high < 7.001
    volume = Volume(np.arange(1, 28, dtype=np.int16).reshape(3, 3, 3))
    assert intensity_window(volume) == pytest.approx(tuple(np.percentile(np.arange(1, 28), [0.5, 99.5])))
