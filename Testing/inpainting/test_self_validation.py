"""auto: probe copies of each defect region in intact tissue decide, per group, which fill wins."""
import numpy as np
import pytest

from MedRestoreLib.inpainting import adjacent_slices, biharmonic_2d, neighbour_median
from MedRestoreLib.inpainting.self_validation import auto_fill, place_probes
from MedRestoreLib.options import RestoreOptions
from MedRestoreLib.pipeline import restore
from MedRestoreLib.volume import Volume
from Testing.phantoms import head_phantom


def columns_volume(seed=0):
    """Every slice the same image: the mean of the adjacent slices is exact, 2-D fills are not."""
    rng = np.random.default_rng(seed)
    plane = 100 + 50 * rng.random((48, 48))
    return np.repeat(plane[None], 12, axis=0)


def test_probes_copy_each_region_into_known_tissue_away_from_the_defects():
    array = head_phantom(noise=2.0).array.astype(np.float64)
    mask = np.zeros(array.shape, bool)
    mask[6:10, 14:22, 14:22] = True  # a box of 256 voxels: scored on its own
    mask[4, 10, 10] = mask[10, 25, 20] = True  # pixels
    probes, groups, regions = place_probes(array, mask, np.random.default_rng(1))
    assert not (probes & mask).any()
    box = [name for name in regions if name.startswith("region")]
    assert box == ["region 2 (4×8×8)"] and set(groups) == set(regions) == {"pixels", box[0]}
    assert groups["pixels"].sum() == 2 and groups[box[0]].sum() >= 0.8 * 4 * 8 * 8
    # A region this small is copied several times, so its score does not rest on one spot of tissue.
    copies = count_regions(groups[box[0]])
    assert 2 <= copies <= 4
    from scipy import ndimage
    assert not (ndimage.binary_dilation(mask, iterations=2) & probes).any(), "probes keep a margin"


def count_regions(mask) -> int:
    from scipy import ndimage

    return ndimage.label(mask, np.ones((3, 3, 3), bool))[1]


def test_auto_picks_the_fill_that_is_exact_on_this_image_and_changes_only_masked_voxels():
    array = columns_volume()
    mask = np.zeros(array.shape, bool)
    mask[5:7, 10:18, 10:18] = True
    candidates = {"biharmonic2d": biharmonic_2d, "adjacent-slices": adjacent_slices,
                  "neighbour-median": neighbour_median}
    filled, choices = auto_fill(array, mask, candidates)
    assert len(choices) == 1 and choices[0].method == "adjacent-slices"
    assert choices[0].scores["adjacent-slices"] > choices[0].scores["biharmonic2d"]
    np.testing.assert_array_equal(filled[~mask], array[~mask])
    np.testing.assert_allclose(filled[mask], array[mask])


def test_a_blend_is_chosen_only_when_it_scores_better_than_each_fill():
    array = head_phantom(noise=3.0).array.astype(np.float64)
    mask = np.zeros(array.shape, bool)
    mask[5:8, 12:18, 12:18] = True
    filled, choices = auto_fill(array, mask, {"biharmonic2d": biharmonic_2d, "neighbour-median": neighbour_median})
    choice = choices[0]
    assert choice.scores[choice.method] == max(choice.scores.values())


def test_a_region_too_large_to_copy_uses_the_pooled_probes_or_the_first_candidate():
    array = head_phantom(noise=2.0).array.astype(np.float64)
    mask = np.zeros(array.shape, bool)
    mask[:, 5:35, 5:35] = True  # most of the object: no intact place holds a copy
    filled, choices = auto_fill(array, mask, {"neighbour-median": neighbour_median, "biharmonic2d": biharmonic_2d})
    assert choices[0].probe_voxels == 0 and choices[0].method == "neighbour-median"
    assert np.isfinite(filled).all()


@pytest.mark.parametrize("slices", [1, 3])
def test_restore_auto_fills_thin_volumes_and_reports_its_choices(slices):
    volume = head_phantom(noise=2.0)
    array = np.ascontiguousarray(volume.array[8 - slices // 2: 8 - slices // 2 + slices])
    thin = Volume(array, volume.ijk_to_ras)
    mask = np.zeros(array.shape, np.uint8)
    mask[:, 20:24, 18:22] = 1
    result = restore(thin, RestoreOptions.from_dict({"fill": {"method": "auto"}}),
                     mask=thin.with_array(mask))
    assert result.report.filler == "auto" and result.report.fill_choices
    assert all(c["method"] for c in result.report.fill_choices)
    np.testing.assert_array_equal(result.volume.array[mask == 0], array[mask == 0])
    names = [m.name for m in result.report.measurements()]
    assert any(name.startswith("fill: ") for name in names)
