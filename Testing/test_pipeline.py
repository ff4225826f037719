"""The invariants of DESIGN.md for restore(): only masked voxels change, input untouched,
geometry and dtype kept, deterministic, clean volumes (almost) unchanged, bad input rejected."""
import numpy as np
import pytest

from MedRestoreLib import Cancelled, InputError, RestoreOptions, Volume, detect, restore
from MedRestoreLib.detection.localizer import load_localizer
from MedRestoreLib.options import DetectOptions, FillMethod, FillOptions
from MedRestoreLib.volume import VolumeKind, cast_to_dtype
from Testing.phantoms import box_mask, head_phantom

ALL_FILLERS = [method.value for method in FillMethod]


def damaged_phantom(dtype=np.int16):
    clean = head_phantom(dtype=dtype)
    mask = box_mask(clean.shape, (6, 15, 15), (9, 21, 22))
    mask[3, 20, 8:30] = 1  # a line dropout
    damaged = clean.array.copy()
    damaged[mask > 0] = 0
    return clean, clean.with_array(damaged), clean.with_array(mask)


@pytest.mark.parametrize("method", ALL_FILLERS)
@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32])
def test_known_mask_invariants(method, dtype):
    clean, damaged, mask = damaged_phantom(dtype)
    before = damaged.array.copy()
    before_matrix = damaged.ijk_to_ras.copy()
    result = restore(damaged, RestoreOptions.from_dict({"fill": {"method": method}}), mask=mask)
    outside = mask.array == 0
    # Bit-identical outside the mask (compare bytes, so -0.0/NaN tricks cannot hide a change).
    assert result.volume.array[outside].tobytes() == before[outside].tobytes()
    np.testing.assert_array_equal(damaged.array, before)
    np.testing.assert_array_equal(damaged.ijk_to_ras, before_matrix)
    assert result.volume.array.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(result.volume.ijk_to_ras, before_matrix)
    np.testing.assert_array_equal(result.mask.array, mask.array)
    # Every filler must actually fill: masked voxels move towards the clean values.
    inside = ~outside
    error_before = np.abs(before[inside].astype(float) - clean.array[inside]).mean()
    error_after = np.abs(result.volume.array[inside].astype(float) - clean.array[inside]).mean()
    assert error_after < 0.5 * error_before, (method, error_before, error_after)


def test_values_are_clipped_to_the_dtype_range():
    np.testing.assert_array_equal(cast_to_dtype(np.array([-5.0, 3.4, 3.6, 300.0]), np.uint8), [0, 3, 4, 255])
    clean = Volume(np.full((6, 8, 8), 250, np.uint8))
    clean.array[:, :, 4:] = 255
    mask = np.zeros(clean.shape, np.uint8)
    mask[2:4, 3:5, 3:5] = 1
    result = restore(clean, RestoreOptions.from_dict({"fill": {"method": "biharmonic3d"}}),
                     mask=clean.with_array(mask))
    assert result.volume.array.dtype == np.uint8
    assert result.volume.array.max() <= 255


def test_same_seed_same_output():
    _, damaged, _ = damaged_phantom()
    first = restore(damaged, RestoreOptions(seed=3))
    second = restore(damaged, RestoreOptions(seed=3))
    np.testing.assert_array_equal(first.volume.array, second.volume.array)
    np.testing.assert_array_equal(first.probability.array, second.probability.array)


def test_clean_volume_with_empty_mask_is_bit_identical():
    clean = head_phantom()
    result = restore(clean, mask=clean.with_array(np.zeros(clean.shape, np.uint8)))
    assert result.volume.array.tobytes() == clean.array.tobytes()


def test_clean_real_mri_is_almost_unchanged_by_a_blind_restore():
    # The median/MAD baseline flags edges of a clean MRI (about 5 % of voxels at k = 5 on the
    # bundled sample); what it changes must stay small in value: whole-volume PSNR ≥ 35 dB.
    from MedRestoreLib.demo import SAMPLE
    from MedRestoreLib.metrics import psnr
    from MedRestoreLib.volume import read_volume

    clean = read_volume(SAMPLE)
    result = restore(clean, RestoreOptions())
    assert psnr(clean.array, result.volume.array) >= 35.0
    assert result.report.voxels_changed / clean.array.size < 0.10


def test_blind_restore_reports_what_it_did():
    _, damaged, _ = damaged_phantom()
    result = restore(damaged)
    report = result.report
    assert report.detector == "lstm" and report.filler == FillOptions().method.value == "auto"  # the defaults
    assert report.voxels_changed == int(result.mask.array.sum()) > 0
    assert report.device in ("cpu", "cuda")
    names = [m.name for m in report.measurements()]
    assert "voxels changed" in names and all(m.description for m in report.measurements())


def test_detect_returns_mask_and_probability():
    clean = head_phantom(noise=1.0)
    damaged = clean.array.copy()
    damaged[8, 20, 20] = 4000  # a hot pixel far above the phantom's range
    mask, probability = detect(clean.with_array(damaged))
    assert mask.array[8, 20, 20] == 1
    assert probability.array.dtype == np.float32
    assert 0.0 <= probability.array.min() and probability.array.max() <= 1.0
    # The volume calibrates its own threshold, never below the validated one: the mask is the
    # probability above some threshold t ≥ the validated threshold.
    validated = load_localizer().threshold
    flagged = probability.array[mask.array == 1]
    assert flagged.min() >= validated and (probability.array[mask.array == 0] < flagged.min()).all()
    mask, probability = detect(clean.with_array(damaged), DetectOptions(calibrate=False))
    np.testing.assert_array_equal(mask.array, probability.array >= validated)
    mask, probability = detect(clean.with_array(damaged), DetectOptions(method="median-mad"))
    np.testing.assert_array_equal(mask.array, probability.array >= 0.5)


def test_constant_volume_is_left_alone():
    volume = Volume(np.full((4, 5, 6), 7, np.int16))
    result = restore(volume)
    np.testing.assert_array_equal(result.volume.array, volume.array)
    assert result.report.voxels_changed == 0


def test_cancel_raises_cancelled():
    _, damaged, mask = damaged_phantom()
    with pytest.raises(Cancelled):
        restore(damaged, mask=mask, cancel=lambda: True)


def test_progress_is_reported_in_order():
    _, damaged, _ = damaged_phantom()
    seen = []
    restore(damaged, progress=lambda fraction, message: seen.append(fraction))
    assert seen and seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.parametrize("array, message", [
    (np.zeros((1, 1, 1), np.int16), "at least 2"),
    (np.array([[[1.0, np.nan], [2.0, 3.0]]]), "NaN or infinite"),
    (np.array([[[1.0, np.inf], [2.0, 3.0]]]), "NaN or infinite"),
    (np.zeros((2, 2, 2), bool), "not a real scalar"),
])
def test_bad_volumes_are_input_errors(array, message):
    with pytest.raises(InputError, match=message):
        restore(Volume(array))


def test_mask_with_other_geometry_is_input_error():
    _, damaged, mask = damaged_phantom()
    shifted = Volume(mask.array, mask.ijk_to_ras.copy())
    shifted.ijk_to_ras[0, 3] += 5.0
    with pytest.raises(InputError, match="geometry"):
        restore(damaged, mask=shifted)
    with pytest.raises(InputError, match="shape"):
        restore(damaged, mask=Volume(np.zeros((2, 2, 2), np.uint8)))


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="fill method"):
        RestoreOptions.from_dict({"fill": {"method": "magic"}})
    with pytest.raises(InputError, match="unknown option"):
        RestoreOptions.from_dict({"colour": "blue"})
    with pytest.raises(InputError, match="threshold"):
        RestoreOptions.from_dict({"detect": {"threshold": -1}})


def test_options_round_trip_through_json():
    import json

    options = RestoreOptions.from_dict({"fill": {"method": "telea"}, "device": "cpu", "seed": 4})
    again = RestoreOptions.from_dict(json.loads(json.dumps(options.to_dict())))
    assert again == options


def test_cuda_request_without_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    _, damaged, mask = damaged_phantom()
    with pytest.raises(InputError, match="cuda"):
        restore(damaged, RestoreOptions(device="cuda"), mask=mask)


@pytest.mark.parametrize("scale", [1e300, 1e19, 1e-300])
def test_float_volumes_far_outside_the_float32_range_are_restored_without_overflow(scale):
    # Detectors and fills compute in float32: values are scaled into its range and back.
    import warnings

    rng = np.random.default_rng(0)
    base = 1.0 + 0.01 * rng.standard_normal((8, 16, 16))
    mask = np.zeros(base.shape, np.uint8)
    mask[3:5, 6:9, 6:9] = 1
    volume = Volume(base * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        result = restore(volume, RestoreOptions.from_dict({"fill": {"method": "biharmonic3d"}}),
                         mask=volume.with_array(mask, VolumeKind.LABEL))
        detect(volume, DetectOptions(method="median-mad"))
    filled = result.volume.array[mask > 0] / scale
    assert np.all(np.isfinite(filled)) and np.all(np.abs(filled - 1.0) < 0.1)
