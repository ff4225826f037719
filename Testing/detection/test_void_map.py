"""Signal voids: runs of the void level inside the object are found; background is left alone."""
import numpy as np
import pytest

from MedRestoreLib.defects import corrupt
from MedRestoreLib.detection.void_map import void_levels, void_map
from MedRestoreLib.volume import Volume
from Testing.phantoms import head_phantom


def skull_stripped(noise=2.0):
    """A head phantom whose background is exactly 0 and whose edge fades over two voxels, as a
    skull-stripped scan's does (partial volume at the brain's surface)."""
    from scipy import ndimage

    volume = head_phantom(noise=noise)
    array = volume.array.astype(np.float32)
    inside = array > 0.2 * array.max()
    edge = ndimage.distance_transform_edt(inside)
    fade = np.clip(edge / 2.5, 0, 1)
    return volume.with_array(np.where(inside, np.maximum(array * fade, 1.0), 0.0).astype(np.float32))


def test_levels_are_the_minimum_and_zero_when_zero_is_in_range():
    assert void_levels(np.array([[[3.0, 5.0]]])) == [3.0]
    assert void_levels(np.array([[[-1000.0, 0.0, 40.0]]])) == [-1000.0, 0.0]


def test_a_clean_skull_stripped_volume_has_no_void():
    assert not void_map(skull_stripped().array).any()


@pytest.mark.parametrize("centre", [(8, 18, 20), (6, 22, 16), (9, 16, 22)])
def test_an_interior_void_box_is_found_exactly(centre):
    volume = skull_stripped()
    array = volume.array.copy()
    k, j, i = centre
    array[k - 2:k + 3, j - 3:j + 3, i - 3:i + 3] = 0  # well inside the object
    truth = (array == 0) & (volume.array != 0)
    found = void_map(array)
    assert truth.sum() == 5 * 6 * 6 and np.array_equal(found, truth)


def test_a_void_cut_into_the_objects_edge_is_found_and_the_background_left():
    # Measured: 128 of 194 voxels (66 %); the rest is the cut's outer rim in the edge's fade,
    # which nothing tells from the background around a rounded edge.
    volume = skull_stripped()
    array = volume.array.copy()
    inside = np.argwhere(array > 0)
    k = int(np.median(inside[:, 0]))
    top = int(inside[:, 1].min())  # the object's first row: cut a block into its edge
    middle = int(np.median(inside[:, 2]))
    array[k - 2:k + 3, top:top + 6, middle - 4:middle + 4] = 0
    truth = (volume.array != 0) & (array == 0)
    found = void_map(array)
    assert (found & truth).sum() >= 0.6 * truth.sum()
    assert not (found & (volume.array == 0)).any(), "background flagged"


def test_a_dropped_slice_between_slices_with_object_is_a_void_and_blank_end_slices_are_not():
    array = skull_stripped().array.copy()
    array[:1] = 0  # the field of view's empty margin
    array[8] = 0  # a dropped slice
    found = void_map(array)
    assert found[8].all() and not found[0].any() and not found[9:].any() and not found[1:8].any()


def test_zero_runs_in_a_noisy_background_are_not_voids():
    rng = np.random.default_rng(0)
    array = skull_stripped().array
    background = array == 0
    noise = np.clip(rng.normal(0, 3, array.shape), 0, None).astype(np.float32)  # clipped: scattered zeros
    array = np.round(np.where(background, noise, array))
    assert not void_map(array).any()


def test_ct_voids_at_the_minimum_are_found():
    volume = head_phantom(noise=1.0)
    rng = np.random.default_rng(1)
    hu = volume.array.astype(np.float32) * 4 - 1000 + rng.normal(0, 10, volume.shape)  # noisy air at -1000
    damaged, mask, _ = corrupt(Volume(np.round(hu).astype(np.int16)), "void", seed=4, count=1, box_size=5)
    found = void_map(damaged.array)
    assert (found & mask.array.astype(bool)).sum() >= 0.9 * mask.array.sum()
