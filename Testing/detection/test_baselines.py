"""The median/MAD baseline detector: the rule as documented, on arrays built for it."""
import numpy as np

from MedRestoreLib.detection import median_mad_probability


def test_flags_outliers_and_keeps_smooth_noise():
    rng = np.random.default_rng(0)
    array = 1000.0 + rng.normal(0, 5, (6, 30, 30))
    hot = [(1, 5, 5), (3, 20, 11), (5, 28, 28)]
    for index in hot:
        array[index] = 2000.0
    probability = median_mad_probability(array, threshold=5.0)
    flagged = probability >= 0.5
    assert all(flagged[index] for index in hot)
    assert flagged.sum() <= len(hot) + 0.001 * array.size


def test_probability_grows_linearly_with_the_residual_until_clipped():
    rng = np.random.default_rng(1)
    base = 1000.0 + rng.normal(0, 5, (3, 40, 40))
    probabilities = []
    for jump in (10.0, 15.0, 20.0, 400.0):  # the voxel is already the largest of its 3×3
        array = base.copy()
        array[1, 20, 20] += jump
        probabilities.append(median_mad_probability(array, threshold=5.0)[1, 20, 20])
    first, second, third, huge = probabilities
    assert first < 0.5 < third  # crosses the decision threshold
    np.testing.assert_allclose(second - first, third - second, rtol=1e-3)  # linear in |residual|
    assert huge == 1.0


def test_constant_volume_flags_nothing():
    assert not median_mad_probability(np.full((3, 4, 5), 9.0)).any()
