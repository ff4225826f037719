"""Classical fillers on cases whose right answer is known exactly."""
import numpy as np
import pytest

from MedRestoreLib.inpainting import adjacent_slices, biharmonic_2d, biharmonic_3d, neighbour_median, opencv_inpaint


def linear_ramp(shape=(9, 16, 16)):
    k, j, i = np.indices(shape).astype(float)
    return 10.0 + 2.0 * k + 3.0 * j + 1.5 * i


def test_adjacent_slices_is_the_mean_of_the_two_neighbours_for_one_slice():
    array = np.random.default_rng(0).normal(100, 10, (5, 6, 7))
    mask = np.zeros(array.shape, bool)
    mask[2, 1:4, 2:5] = True
    filled = adjacent_slices(array, mask)
    expected = (array[1] + array[3]) / 2
    np.testing.assert_allclose(filled[2][mask[2]], expected[mask[2]])
    np.testing.assert_array_equal(filled[~mask], array[~mask])


def test_adjacent_slices_interpolates_linearly_across_a_gap():
    array = linear_ramp()
    mask = np.zeros(array.shape, bool)
    mask[3:6, 4:8, 4:8] = True
    damaged = np.where(mask, -999.0, array)
    np.testing.assert_allclose(adjacent_slices(damaged, mask), array)


def test_adjacent_slices_copies_the_only_known_side_at_the_volume_edge():
    array = linear_ramp()
    mask = np.zeros(array.shape, bool)
    mask[0, 5, 5] = True
    assert adjacent_slices(array, mask)[0, 5, 5] == array[1, 5, 5]


@pytest.mark.parametrize("filler", [biharmonic_2d, biharmonic_3d])
def test_biharmonic_reproduces_a_linear_image(filler):
    # A linear function is biharmonic, so the fill must equal it.
    array = linear_ramp()
    mask = np.zeros(array.shape, bool)
    mask[3:6, 5:9, 6:10] = True
    damaged = np.where(mask, 0.0, array)
    np.testing.assert_allclose(filler(damaged, mask), array, atol=1e-6)


def test_biharmonic_2d_falls_back_for_a_whole_missing_slice():
    array = linear_ramp()
    mask = np.zeros(array.shape, bool)
    mask[4] = True
    filled = biharmonic_2d(np.where(mask, 0.0, array), mask)
    assert np.all(np.isfinite(filled[4]))
    assert np.abs(filled[4] - array[4]).mean() < 3.0  # from the adjacent slices, not from zeros


def test_neighbour_median_of_a_constant_is_the_constant():
    array = np.full((6, 7, 8), 42.0)
    mask = np.zeros(array.shape, bool)
    mask[1:5, 2:6, 2:6] = True
    np.testing.assert_array_equal(neighbour_median(np.where(mask, 0.0, array), mask), array)


def test_neighbour_median_with_nothing_known_gives_zeros():
    array = np.ones((2, 3, 4))
    np.testing.assert_array_equal(neighbour_median(array, np.ones(array.shape, bool)), 0.0)


@pytest.mark.parametrize("method", ["telea", "navier-stokes"])
def test_opencv_fill_is_within_one_grey_level_on_a_constant(method):
    array = np.full((3, 20, 20), 500.0)
    array[:, :, 0] = 0.0  # gives the volume an intensity range to map onto 0–255
    mask = np.zeros(array.shape, bool)
    mask[1, 8:12, 8:12] = True
    filled = opencv_inpaint(np.where(mask, 0.0, array), mask, method=method)
    assert np.abs(filled[mask] - 500.0).max() <= 500.0 / 255 + 1e-9
