"""The Gaussian-mixture patch baseline (Dalca et al. 2019) on a smooth seeded phantom."""
import numpy as np

from MedRestoreLib.imputation.gmm import GmmOptions, PatchMixture, impute_gmm
from MedRestoreLib.imputation.layout import Acquisition, simulate


def phantom():
    k, j, i = np.meshgrid(*[np.linspace(-1, 1, n) for n in (25, 24, 24)], indexing="ij")
    return (0.5 + 0.4 * np.sin(3 * i + 2 * k) * np.cos(2 * j - k)).astype(np.float32)


def test_em_with_missing_dimensions_recovers_a_known_gaussian():
    rng = np.random.default_rng(0)
    covariance = np.array([[1.0, 0.8], [0.8, 1.0]])
    samples = rng.multivariate_normal([2.0, -1.0], covariance, 4000)
    # half the samples show only x0, half only x1, a quarter both: EM must learn the correlation
    groups = [(np.array([[1.0, 0.0]]), samples[:1500, :1]), (np.array([[0.0, 1.0]]), samples[1500:3000, 1:]),
              (np.eye(2), samples[3000:])]
    mixture = PatchMixture(GmmOptions(components=1, size=1, iterations=30), window=2).fit(groups, samples)
    np.testing.assert_allclose(mixture.means[0], [2.0, -1.0], atol=0.1)
    np.testing.assert_allclose(mixture.covariances[0], covariance, atol=0.15)
    filled = mixture.conditional_mean(np.array([[1.0, 0.0]]), np.array([[3.0]]))
    np.testing.assert_allclose(filled[0], [3.0, -1.0 + 0.8 * 1.0], atol=0.2)


def test_gmm_fills_sampled_slices_and_keeps_acquired_ones():
    acquired, truth, layout = simulate(phantom(), 3, Acquisition.SAMPLED)
    filled = impute_gmm(acquired, layout, GmmOptions(components=2, samples=400, iterations=4, size=3, stride=2))
    missing = ~layout.observed
    np.testing.assert_array_equal(filled[layout.observed], truth[layout.observed])
    error = np.sqrt(np.mean((filled[missing] - truth[missing]) ** 2))
    assert error < 0.5 * np.sqrt(np.mean((truth[missing] - truth[missing].mean()) ** 2))


def test_gmm_handles_thick_slices():
    acquired, truth, layout = simulate(phantom(), 3, Acquisition.THICK)
    filled = impute_gmm(acquired, layout, GmmOptions(components=2, samples=300, iterations=3, size=3, stride=2))
    assert filled.shape == truth.shape and np.isfinite(filled).all()
    assert np.sqrt(np.mean((filled - truth) ** 2)) < 0.1


def test_long_windows_use_smaller_patches():
    acquired, truth, layout = simulate(phantom(), 6, Acquisition.THICK)
    filled = impute_gmm(acquired, layout, GmmOptions(components=2, samples=200, iterations=2, size=5, stride=3))
    assert filled.shape == truth.shape and np.isfinite(filled).all()
