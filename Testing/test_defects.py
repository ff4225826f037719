"""Tests of the defect simulator (MedRestoreLib/defects.py) on seeded synthetic head phantoms."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy import ndimage

from MedRestoreLib.defects import DefectKind, DefectSpec, apply_defects, corrupt, foreground_mask, sample_defects
from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import Volume, VolumeKind

SINGLE_KINDS = [k for k in DefectKind if k is not DefectKind.MIXED]
DTYPES = [np.uint8, np.int16, np.float32]
SCALE = {np.uint8: 1.0, np.int16: 8.0, np.float32: 0.01}


def head_region(shape=(24, 48, 48)) -> np.ndarray:
    """Normalised ellipsoid distance: ≤ 1 inside the phantom's head."""
    k, j, i = np.ogrid[tuple(slice(0, n) for n in shape)]
    centre = (np.asarray(shape) - 1) / 2.0
    radii = np.asarray(shape) * 0.42
    return sum(((g - c) / r) ** 2 for g, c, r in zip((k, j, i), centre, radii))


def make_head(shape=(24, 48, 48), dtype=np.int16, seed=0) -> np.ndarray:
    """A smooth ellipsoid "head" with texture, values ~ 60–200 (× SCALE), on a dim noisy
    background (|N(0, 4)|, as in magnitude MR), so p0.5 of the non-zero voxels is background."""
    rng = np.random.default_rng(seed)
    distance = head_region(shape)
    texture = ndimage.gaussian_filter(rng.normal(size=shape), 1.5)
    texture /= texture.std()
    background = np.abs(rng.normal(0.0, 4.0, size=shape))
    head = np.where(distance <= 1.0, 110.0 + 70.0 * (1.0 - distance) + 12.0 * texture, background)
    return (np.clip(head, 0, 250) * SCALE[dtype]).astype(dtype)


def make_volume(dtype=np.int16, shape=(24, 48, 48), seed=0) -> Volume:
    return Volume.from_geometry(make_head(shape, dtype, seed), spacing=(0.9, 0.9, 2.5), origin=(5, -3, 7))


def intensity_stats(array):
    values = array[array != 0].astype(np.float64)
    lo, hi = np.percentile(values, [0.5, 99.5])
    return lo, hi - lo


def tolerance(dtype) -> float:
    return 0.5 + 1e-6 if np.issubdtype(dtype, np.integer) else 1e-3 * SCALE[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(DefectKind))
def test_every_kind_keeps_invariants(kind, dtype):
    volume = make_volume(dtype)
    original = volume.array.copy()
    damaged, mask, specs = corrupt(volume, kind, seed=4)
    assert np.array_equal(volume.array, original), "the input was modified"
    assert damaged.array.dtype == original.dtype
    assert damaged.has_same_geometry(volume) and mask.has_same_geometry(volume)
    assert mask.kind is VolumeKind.LABEL and mask.array.dtype == np.uint8
    assert set(np.unique(mask.array)) <= {0, 1} and mask.array.any()
    outside = mask.array == 0
    assert np.array_equal(damaged.array[outside], original[outside])
    assert not np.array_equal(damaged.array[~outside], original[~outside])
    stray = mask.array.astype(bool) & ~foreground_mask(original)
    missing = [s.start[0] for s in specs if s.kind is DefectKind.MISSING_SLICE]
    stray[missing] = False
    assert not stray.any(), "defects other than missing slices must lie inside the object"
    assert specs and all(s.kind is not DefectKind.MIXED for s in specs)


@pytest.mark.parametrize("kind", list(DefectKind))
def test_same_seed_same_result_and_different_seed_differs(kind):
    volume = make_volume()
    first = corrupt(volume, kind.value, seed=11)
    again = corrupt(volume, kind.value, seed=11)
    other = corrupt(volume, kind.value, seed=12)
    assert np.array_equal(first[0].array, again[0].array) and np.array_equal(first[1].array, again[1].array)
    assert [dataclasses.asdict(s) for s in first[2]] == [dataclasses.asdict(s) for s in again[2]]
    assert not np.array_equal(first[0].array, other[0].array)


@pytest.mark.parametrize("kind", list(DefectKind))
def test_specs_round_trip_through_json_and_replay(kind):
    array = make_head()
    specs = sample_defects(array, kind, np.random.default_rng(3))
    text = json.dumps([dataclasses.asdict(s) for s in specs])
    replayed = [DefectSpec.from_dict(d) for d in json.loads(text)]
    assert [dataclasses.asdict(s) for s in replayed] == [dataclasses.asdict(s) for s in specs]
    assert all(np.array_equal(a, b) for a, b in zip(apply_defects(array, specs), apply_defects(array, replayed)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dead_pixels_take_any_value_far_from_the_truth_and_hot_pixels_are_bright(dtype):
    array = make_head(dtype=dtype)
    lo, r = intensity_stats(array)
    eps = tolerance(dtype)
    damaged, mask, specs = corrupt(Volume(array), "dead-pixels", seed=1, count=200)
    inside = mask.array == 1
    values, truth = damaged.array[inside].astype(np.float64), array[inside].astype(np.float64)
    span = float(array.max()) - float(array.min())
    assert mask.array.sum() == 200 and len(specs[0].voxels) == mask.array.sum()
    assert values.min() >= float(array.min()) - eps and values.max() <= float(array.max()) + eps
    assert np.all(np.abs(values - truth) >= 0.2 * span - eps)
    # any value of the range: both darker and brighter than the truth occur
    assert (values < truth).any() and (values > truth).any()
    damaged, mask, _ = corrupt(Volume(array), "hot-pixels", seed=1, count=40)
    values = damaged.array[mask.array == 1].astype(np.float64)
    assert mask.array.sum() == 40 and values.min() >= lo + 0.85 * r - eps
    assert len(np.unique(values)) > 5, "pixel values must be random, not one constant"


def test_hot_pixels_clip_to_the_dtype_range_without_wrapping():
    head = make_head(dtype=np.float32).astype(np.float64)
    array = (head * 254 / head.max()).astype(np.uint8)
    damaged, mask, _ = corrupt(Volume(array), "hot-pixels", seed=2, count=200)
    values = damaged.array[mask.array == 1]
    assert values.max() == 255 and values.min() > 150


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_attenuation_multiplies_by_the_factor(dtype, seed):
    array = make_head(dtype=dtype)
    damaged, mask, specs = corrupt(Volume(array), "attenuation", seed=seed, count=1)
    factor = specs[0].factor
    assert 0.1 <= factor <= 0.6
    inside = mask.array == 1
    expected = array[inside].astype(np.float64) * factor
    assert np.allclose(damaged.array[inside], expected, rtol=1e-6, atol=tolerance(dtype))
    assert 1 <= np.count_nonzero(inside.any(axis=(1, 2))) <= 4


@pytest.mark.parametrize("kind", ["blob", "box"])
@pytest.mark.parametrize("seed", range(6))
def test_blobs_and_boxes_span_several_slices(kind, seed):
    array = make_head()
    lo, r = intensity_stats(array)
    damaged, mask, specs = corrupt(Volume(array), kind, seed=seed, count=1)
    assert np.count_nonzero(mask.array.any(axis=(1, 2))) >= 2
    values = damaged.array[mask.array == 1].astype(np.float64)
    spread = values.std()
    if kind == "box":
        assert values.mean() <= lo + 0.05 * r + 0.01 * r and 0.005 * r < spread < 0.04 * r
    else:
        assert specs[0].level <= lo + 0.15 * r or specs[0].level >= lo + 0.85 * r
        assert abs(values.mean() - specs[0].level) < 0.02 * r and spread < 0.06 * r


def test_box_size_is_respected():
    array = make_head()
    _, mask, specs = corrupt(Volume(array), "box", seed=0, count=1, box_size=(4, 10, 12))
    assert [b - a for a, b in zip(specs[0].start, specs[0].stop)] == [4, 10, 12]
    where = np.nonzero(mask.array)
    assert [int(w.max() - w.min() + 1) for w in where] <= [4, 10, 12]


@pytest.mark.parametrize("kind", ["line-dropout", "partial-line"])
@pytest.mark.parametrize("seed", range(6))
def test_line_dropouts_follow_one_row_or_column(kind, seed):
    array = make_head()
    lo, r = intensity_stats(array)
    foreground = foreground_mask(array)
    damaged, mask, specs = corrupt(Volume(array), kind, seed=seed, count=1)
    (start, stop), marked = (specs[0].start, specs[0].stop), mask.array.astype(bool)
    sizes = [b - a for a, b in zip(start, stop)]
    assert sizes[0] == 1 and min(sizes[1:]) == 1 and np.count_nonzero(marked) == max(sizes)
    k = start[0]
    line = (np.s_[k, start[1], :] if sizes[2] > 1 else np.s_[k, :, start[2]])
    if kind == "line-dropout":
        assert np.array_equal(marked[line], foreground[line]), "a full line covers the object's extent"
    else:
        assert 0.1 * foreground[line].sum() - 1 <= marked[line].sum() <= 0.5 * foreground[line].sum() + 1
    values = damaged.array[marked].astype(np.float64)
    assert values.max() <= lo + 0.1 * r + 5 * 0.02 * r and values.min() >= lo - 5 * 0.02 * r


def test_noise_blobs_are_uniform_over_the_whole_intensity_range():
    array = make_head(dtype=np.float32)
    damaged, mask, specs = corrupt(Volume(array), "noise-burst", seed=5, count=3)
    inside = mask.array == 1
    values = damaged.array[inside].astype(np.float64)
    low, high = float(array.min()), float(array.max())
    assert specs[0].value_range == [low, high]
    assert inside.sum() > 100 and values.min() >= low and values.max() <= high
    # uniform: the mean sits mid-range and each quarter of the range holds about a quarter
    assert abs(values.mean() - (low + high) / 2) < 0.1 * (high - low)
    quarters = np.histogram(values, bins=4, range=(low, high))[0] / len(values)
    assert np.all(np.abs(quarters - 0.25) < 0.08)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(6))
def test_voids_are_exactly_zero_or_the_minimum(dtype, seed):
    array = make_head(dtype=dtype)
    if np.issubdtype(array.dtype, np.signedinteger) or array.dtype.kind == "f":
        array = array - array.max() // 4  # a negative minimum, as on CT, makes both levels possible
    damaged, mask, specs = corrupt(Volume(array), "void", seed=seed)
    inside = mask.array == 1
    assert inside.any() and all(s.kind.value == "void" for s in specs)
    levels = {float(s.level) for s in specs}
    assert levels <= {0.0, float(array.min())}
    assert set(np.unique(damaged.array[inside]).astype(np.float64)) <= levels
    assert np.array_equal(damaged.array[~inside], array[~inside])


def test_void_boxes_take_the_given_size_and_whole_slice_voids_include_the_background():
    array = make_head()
    _, mask, specs = corrupt(Volume(array), "void", seed=2, count=1, box_size=8)
    assert specs[0].shape == "box" and np.subtract(specs[0].stop, specs[0].start).tolist() == [8, 8, 8]
    rng = np.random.default_rng(0)
    for _ in range(40):
        specs = sample_defects(array, "void", rng, count=1)
        if specs[0].shape in ("slice", "slab"):
            _, mask = apply_defects(array, specs)
            k0, k1 = specs[0].start[0], specs[0].stop[0]
            assert mask[k0:k1].all() and mask.sum() == mask[k0:k1].size
            break
    else:
        pytest.fail("no whole-slice void in 40 draws")


@pytest.mark.parametrize("kind", ["dead-pixels", "line-dropout", "attenuation", "noise-burst", "void", "blob", "box"])
@pytest.mark.parametrize("slices", [1, 2, 5])
def test_every_kind_damages_single_slices_and_thin_volumes(kind, slices):
    array = make_head()[array_middle(make_head(), slices)]
    damaged, mask, _ = corrupt(Volume(array), kind, seed=1)
    assert mask.array.shape == array.shape and mask.array.any()
    assert np.array_equal(damaged.array[mask.array == 0], array[mask.array == 0])


def array_middle(array, slices):
    middle = array.shape[0] // 2
    return slice(middle - slices // 2, middle - slices // 2 + slices)


def test_missing_slice_is_one_whole_broad_slice():
    array = make_head()
    lo, r = intensity_stats(array)
    damaged, mask, _ = corrupt(Volume(array), "missing-slice", seed=7)
    per_slice = mask.array.sum(axis=(1, 2))
    (k,) = np.flatnonzero(per_slice)
    assert per_slice[k] == array.shape[1] * array.shape[2]
    area = foreground_mask(array).sum(axis=(1, 2))
    assert area[k] >= 0.5 * area.max()
    assert abs(damaged.array[k].astype(np.float64).mean() - lo) < 0.02 * r


def test_mixed_contains_every_kind_and_at_most_one_missing_slice():
    array = make_head()
    for seed in range(3):
        specs = sample_defects(array, DefectKind.MIXED, np.random.default_rng(seed))
        kinds = [s.kind for s in specs]
        assert set(kinds) == set(SINGLE_KINDS)
        assert kinds.count(DefectKind.MISSING_SLICE) == 1


@pytest.mark.parametrize("shape", [(1, 16, 16), (2, 8, 8), (3, 12, 10)])
@pytest.mark.parametrize("kind", list(DefectKind))
def test_tiny_volumes_do_not_crash(shape, kind):
    volume = make_volume(np.int16, shape)
    damaged, mask, specs = corrupt(volume, kind, seed=1)
    assert mask.array.any() and damaged.array.shape == shape
    assert np.array_equal(damaged.array[mask.array == 0], volume.array[mask.array == 0])
    if shape[0] == 1 and kind is DefectKind.MIXED:
        assert DefectKind.MISSING_SLICE not in [s.kind for s in specs]


@pytest.mark.parametrize("array", [np.zeros((4, 16, 16), np.int16), np.full((4, 16, 16), 7, np.uint8)])
def test_empty_or_constant_volume_raises_input_error(array):
    with pytest.raises(InputError, match="no object"):
        corrupt(Volume(array), "blob")


def test_bad_kind_count_and_dtype_raise_input_error():
    array = make_head()
    with pytest.raises(InputError, match="unknown defect kind"):
        corrupt(Volume(array), "scratches")
    with pytest.raises(InputError, match="at least 1"):
        sample_defects(array, "box", np.random.default_rng(0), count=0)
    with pytest.raises(InputError, match="box size"):
        sample_defects(array, "box", np.random.default_rng(0), box_size=(0, 4, 4))
    with pytest.raises(InputError, match="grey-level"):
        sample_defects(array > 0, "box", np.random.default_rng(0))


def test_foreground_is_the_object_with_holes_filled():
    array = make_head()
    hollow = array.copy()
    hollow[10:14, 20:28, 20:28] = 0
    truth = head_region() <= 1.0
    for image in (array, hollow):
        foreground = foreground_mask(image)
        assert foreground[10:14, 20:28, 20:28].all()
        assert (foreground & truth).sum() / (foreground | truth).sum() > 0.8
    assert not foreground_mask(array)[:, 0, 0].any()
