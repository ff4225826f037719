"""Detectors through the public API and the CLI on awkward volumes: never a traceback, exit 0
with a sensible mask or exit 2 with one line."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from MedRestoreLib import detect
from MedRestoreLib.cli import main
from MedRestoreLib.options import DetectOptions
from MedRestoreLib.volume import Volume, read_volume, write_volume
from Testing.phantoms import head_phantom

DETECTORS = ["lstm", "dpd", "median-mad"]


def smooth_phantom(shape=(32, 64, 64), noise=5.0, seed=0):
    """A smooth (blurred) ellipsoid with slowly varying contrast and mild noise (≈1 % of 600)."""
    rng = np.random.default_rng(seed)
    k, j, i = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    radius = np.sqrt((k / 1.3) ** 2 + (j / 0.8) ** 2 + (i / 0.7) ** 2)
    base = ndimage.gaussian_filter(np.where(radius < 1, 600 + 200 * np.cos(2 * j) * np.sin(1.5 * i), 0.0), 2.0)
    return (base + np.where(base > 50, rng.normal(0, noise, shape), 0.0)).astype(np.int16)


def run_detect(array, tmp_path, detector, spacing=(1.0, 1.0, 1.0), extra=(), capsys=None):
    """Write ``array``, run ``medrestore detect`` and return (status, stderr, mask, probability)."""
    source = tmp_path / "in.nrrd"
    mask_path, probability_path = tmp_path / "mask.nrrd", tmp_path / "prob.nrrd"
    for path in (mask_path, probability_path):
        if path.exists():
            path.unlink()
    write_volume(Volume.from_geometry(array, spacing=spacing), source)
    status = main(["detect", str(source), str(mask_path), "--prob-out", str(probability_path),
                   "--detector", detector, "--quiet", *extra])
    err = capsys.readouterr().err if capsys is not None else ""
    if status != 0:
        return status, err, None, None
    return status, err, read_volume(mask_path).array, read_volume(probability_path).array


def assert_one_line(err):
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("value", [0, 250])
def test_constant_volume_gives_an_empty_mask(detector, value, tmp_path, capsys):
    status, err, mask, probability = run_detect(np.full((6, 20, 20), value, np.int16), tmp_path,
                                                detector, capsys=capsys)
    assert status == 0, err
    assert mask.shape == (6, 20, 20) and not mask.any()
    assert np.all(np.isfinite(probability)) and probability.max() < 0.1  # the LSTM's is not 0


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("kind", ["uniform-noise", "sparse"])
def test_volume_that_is_all_defect(detector, kind, tmp_path, capsys):
    rng = np.random.default_rng(3)
    if kind == "uniform-noise":
        array = rng.integers(0, 1001, (8, 24, 24)).astype(np.int16)
    else:
        array = np.zeros((8, 24, 24), np.int16)
        array[2, 3, 4], array[5, 10, 10], array[7, 23, 0] = 500, 700, 30000
    status, err, mask, probability = run_detect(array, tmp_path, detector, capsys=capsys)
    if status == 2:
        assert_one_line(err)
        return
    assert status == 0, err
    assert mask.shape == array.shape and set(np.unique(mask)) <= {0, 1}
    assert np.all(np.isfinite(probability))
    assert probability.min() >= 0 and probability.max() <= 1


@pytest.mark.parametrize("detector", DETECTORS)
def test_single_voxel_is_bad_input(detector, tmp_path, capsys):
    status, err, _, _ = run_detect(np.full((1, 1, 1), 5, np.int16), tmp_path, detector, capsys=capsys)
    assert status == 2
    assert_one_line(err)
    assert not (tmp_path / "mask.nrrd").exists()


def phantom_slices(count):
    """``count`` slices from the middle of the head phantom (a 2-D image for count = 1)."""
    array = head_phantom((9, 48, 48), noise=2.0).array
    return np.ascontiguousarray(array[4 - count // 2: 4 - count // 2 + count])


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("count", [1, 2])
def test_thin_volumes_are_processed_and_see_a_hot_pixel(detector, count, tmp_path, capsys):
    array = phantom_slices(count)
    assert array.shape == (count, 48, 48) and (array > 0).mean() > 0.3
    status, err, mask, probability = run_detect(array, tmp_path, detector, capsys=capsys)
    assert status == 0, err
    assert mask.shape == array.shape and np.all(np.isfinite(probability))
    assert mask.mean() < (0.05 if detector == "median-mad" else 0.02)  # the baseline: 2 % here
    damaged = array.copy()
    damaged[count - 1, 24, 24] = 30000
    status, err, mask, _ = run_detect(damaged, tmp_path, detector, capsys=capsys)
    assert status == 0, err
    assert mask[count - 1, 24, 24] == 1


@pytest.mark.parametrize("detector", DETECTORS)
def test_anisotropic_spacing_gives_the_same_mask(detector, tmp_path, capsys):
    array = head_phantom((12, 32, 32)).array.copy()
    array[6, 10:20, 16] = 0
    array[3, 16, 16] = 3000
    _, _, isotropic, p_iso = run_detect(array, tmp_path, detector, (1.0, 1.0, 1.0), capsys=capsys)
    status, err, anisotropic, p_aniso = run_detect(array, tmp_path, detector, (0.5, 0.5, 8.0),
                                                   capsys=capsys)
    assert status == 0, err
    np.testing.assert_array_equal(anisotropic, isotropic)
    np.testing.assert_array_equal(p_aniso, p_iso)
    assert isotropic[3, 16, 16] == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("detector", DETECTORS)
def test_cuda_request_on_a_cpu_only_machine_is_one_line(detector, tmp_path, capsys):
    status, err, _, _ = run_detect(head_phantom((4, 16, 16)).array, tmp_path, detector,
                                   extra=("--device", "cuda"), capsys=capsys)
    assert status == 2
    assert_one_line(err)
    assert "cuda" in err
    assert not (tmp_path / "mask.nrrd").exists()


def test_default_detector_finds_a_hot_pixel_in_an_int16_phantom():
    volume = head_phantom()
    array = volume.array.copy()
    array[8, 20, 20] = 30000
    mask, probability = detect(volume.with_array(array), device="cpu")
    assert DetectOptions().method.value == "lstm"
    assert mask.array[8, 20, 20] == 1
    assert probability.array[8, 20, 20] >= 0.7


def test_default_detector_flags_almost_nothing_on_a_clean_smooth_phantom():
    array = smooth_phantom()
    mask, probability = detect(Volume(array), device="cpu")
    flagged_percent = 100.0 * mask.array.mean()
    assert flagged_percent <= 0.01, f"{flagged_percent:.4f} % of clean voxels flagged"
    assert np.all(np.isfinite(probability.array))
