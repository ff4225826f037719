"""Thin-grid layouts: the geometry conventions of thick and sampled slices, gaps, and errors."""
import numpy as np
import pytest

from MedRestoreLib.errors import InputError
from MedRestoreLib.imputation.interpolation import interpolate
from MedRestoreLib.imputation.layout import (
    Acquisition,
    acquired_geometry,
    factor_layout,
    gap_layout,
    simulate,
    thin_volume_geometry,
)
from MedRestoreLib.volume import Volume


def test_thick_slab_centres_sit_mid_slab_on_the_thin_grid():
    layout = factor_layout(3, 4, Acquisition.THICK)
    assert layout.length == 12
    np.testing.assert_allclose(layout.positions, [1.5, 5.5, 9.5])
    assert not layout.observed.any()
    np.testing.assert_array_equal(layout.slabs, [[0, 4], [4, 8], [8, 12]])


def test_sampled_slices_are_kept_on_the_thin_grid():
    layout = factor_layout(3, 4, Acquisition.SAMPLED)
    assert layout.length == 9
    np.testing.assert_array_equal(np.flatnonzero(layout.observed), [0, 4, 8])


def test_thin_geometry_divides_spacing_and_shifts_origin_for_thick_slices():
    direction = np.array([[0, 0, 1.0], [1.0, 0, 0], [0, 1.0, 0]])  # k along R
    volume = Volume.from_geometry(np.zeros((5, 4, 4)), (1.0, 1.0, 6.0), (10.0, 20.0, 30.0), direction)
    thick = Volume(np.zeros((15, 4, 4)), thin_volume_geometry(volume, 3, Acquisition.THICK))
    np.testing.assert_allclose(thick.spacing, [1, 1, 2])
    # thin slice 1 (centre of slab 0) lies where thick slice 0 lay
    np.testing.assert_allclose(thick.ijk_to_ras @ [0, 0, 1, 1], volume.ijk_to_ras @ [0, 0, 0, 1])
    sampled = Volume(np.zeros((13, 4, 4)), thin_volume_geometry(volume, 3, Acquisition.SAMPLED))
    np.testing.assert_allclose(sampled.origin, volume.origin)
    np.testing.assert_allclose(acquired_geometry(thick, 3, Acquisition.THICK), volume.ijk_to_ras)


def test_simulated_thick_slices_are_slab_means():
    thin = np.arange(12 * 2 * 2, dtype=np.float32).reshape(12, 2, 2)
    acquired, truth, layout = simulate(thin, 3, Acquisition.THICK)
    np.testing.assert_allclose(acquired[1], thin[3:6].mean(0))
    assert truth.shape == (12, 2, 2) and layout.length == 12


def test_interpolation_keeps_acquired_slices_and_is_exact_on_a_ramp():
    thin = np.broadcast_to(np.arange(13, dtype=np.float32)[:, None, None] * 2.0, (13, 3, 3)).copy()
    acquired, truth, layout = simulate(thin, 4, Acquisition.SAMPLED)
    for cubic in (False, True):
        np.testing.assert_allclose(interpolate(acquired, layout, cubic), truth, atol=1e-4)


@pytest.mark.parametrize("missing,message", [(list(range(6)), "all slices"), ([0, 1, 2, 3, 4], "only one"),
                                             ([9], "outside")])
def test_gap_layouts_refuse_what_cannot_be_filled(missing, message):
    with pytest.raises(InputError, match=message):
        gap_layout(6, missing)


def test_a_single_slice_is_refused():
    with pytest.raises(InputError, match="at least 2"):
        factor_layout(1, 4, Acquisition.THICK)
