"""Random valid volumes through read → restore / detect / impute-slices → write → read.

Every dtype, shapes from 1×1×2 voxels up, spacings from 1 µm to 1 m, oblique and left-handed
orientations, values from 1e-30 to 1e300, in every writable format. A run may refuse an input it
cannot work on (one line, status 2, nothing written); when it succeeds, the output keeps the
input's grid and voxel type, every voxel outside the mask is bit for bit the input's, and the
input file is unchanged.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import Volume, VolumeKind, read_volume, write_volume
from Testing.fuzz.harness import CASES, FAST, assert_allowed_ending, assert_clean_failure, folder_state, run_cli
from Testing.fuzz.strategies import FORMATS, is_sheared, masks, volumes


def write_input(volume: Volume, path: Path) -> Volume:
    """Write the input and read it back. NIfTI cannot store sheared axes: that write must be
    refused (nothing written) and the case is dropped."""
    if is_sheared(volume) and path.name.endswith((".nii", ".nii.gz")):
        with pytest.raises(InputError, match="cannot store the image's geometry"):
            write_volume(volume, path)
        assert list(path.parent.iterdir()) == []
        CASES["valid volume: sheared geometry refused by the NIfTI writer"] += 1
        reject()
    write_volume(volume, path)
    back = read_volume(path)
    assert same_grid(back, volume) and np.array_equal(bits(back.array), bits(volume.array))
    return back


def same_grid(a: Volume, b: Volume) -> bool:
    """Same shape and IJK→RAS, within float32 precision (NIfTI stores geometry as float32)."""
    size = max(1.0, float(np.abs(a.ijk_to_ras).max()))
    return a.shape == b.shape and np.allclose(a.ijk_to_ras, b.ijk_to_ras, rtol=1e-5, atol=1e-5 * size)


def bits(array: np.ndarray) -> np.ndarray:
    """The raw bytes of each voxel, so that -0.0 ≠ 0.0 and NaN payloads count."""
    return np.ascontiguousarray(array).view(np.uint8).reshape(array.shape + (-1,))


def assert_kept_outside(original: Volume, result: Volume, mask: np.ndarray) -> None:
    assert result.array.dtype == original.array.dtype, (result.array.dtype, original.array.dtype)
    assert same_grid(original, result), (original.ijk_to_ras, result.ijk_to_ras)
    keep = mask == 0
    assert np.array_equal(bits(result.array)[keep], bits(original.array)[keep])
    if np.issubdtype(result.array.dtype, np.floating):
        assert np.all(np.isfinite(result.array))


def check_outcome(outcome, before, folder, inputs):
    """A refusal changes nothing; a success leaves every input file as it was."""
    assert_allowed_ending(outcome)
    CASES[f"valid volume: status {outcome.status}"] += 1
    if outcome.status == 2:
        assert_clean_failure(outcome, before, folder_state(folder))
    after = folder_state(folder)
    for name in inputs:
        assert after[name] == before[name], f"input {name} was modified"


@given(volume=volumes(), data=st.data(), source=st.sampled_from(FORMATS), target=st.sampled_from(FORMATS))
def test_restore_with_a_known_mask_keeps_every_other_voxel(volume, data, source, target):
    CASES["valid volume: restore with a known mask"] += 1
    mask = data.draw(masks(volume.shape))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        original = write_input(volume, folder / f"in{source}")
        write_volume(volume.with_array(mask, VolumeKind.LABEL), folder / "mask.nrrd")
        before = folder_state(folder)
        outcome = run_cli(["restore", folder / f"in{source}", folder / f"out{target}", "--mask", folder / "mask.nrrd",
                           "--method", "biharmonic3d", "--mask-out", folder / "defects.nrrd", "--quiet"])
        check_outcome(outcome, before, folder, [f"in{source}", "mask.nrrd"])
        if outcome.status == 0:
            assert_kept_outside(original, read_volume(folder / f"out{target}"), mask)
            assert np.array_equal(read_volume(folder / "defects.nrrd").array, mask)


@given(volume=volumes(), source=st.sampled_from(FORMATS), target=st.sampled_from(FORMATS))
def test_blind_restore_changes_only_what_it_reports(volume, source, target):
    CASES["valid volume: blind restore"] += 1
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        original = write_input(volume, folder / f"in{source}")
        before = folder_state(folder)
        outcome = run_cli(["restore", folder / f"in{source}", folder / f"out{target}", *FAST,
                           "--mask-out", folder / f"defects{target}", "--prob-out", folder / "p.nrrd", "--quiet"])
        check_outcome(outcome, before, folder, [f"in{source}"])
        if outcome.status == 0:
            mask = read_volume(folder / f"defects{target}")
            assert same_grid(original, mask) and set(np.unique(mask.array)) <= {0, 1}
            assert_kept_outside(original, read_volume(folder / f"out{target}"), mask.array)
            probability = read_volume(folder / "p.nrrd").array
            assert probability.dtype == np.float32 and np.all((probability >= 0) & (probability <= 1))


@given(volume=volumes(), source=st.sampled_from(FORMATS))
def test_detect_gives_a_binary_mask_on_the_same_grid(volume, source):
    CASES["valid volume: detect"] += 1
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_input(volume, folder / f"in{source}")
        before = folder_state(folder)
        outcome = run_cli(["detect", folder / f"in{source}", folder / "mask.nii.gz", "--detector", "median-mad",
                           "--quiet"])
        check_outcome(outcome, before, folder, [f"in{source}"])
        if outcome.status == 0:
            mask = read_volume(folder / "mask.nii.gz")
            assert same_grid(volume, mask) and mask.array.dtype == np.uint8
            assert set(np.unique(mask.array)) <= {0, 1}


@given(volume=volumes(), data=st.data(), source=st.sampled_from(FORMATS), target=st.sampled_from(FORMATS))
def test_imputed_slices_keep_the_others(volume, data, source, target):
    CASES["valid volume: impute-slices"] += 1
    slices = volume.shape[0]
    missing = sorted(data.draw(st.sets(st.integers(0, slices - 1), min_size=1, max_size=max(1, slices - 1))))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        original = write_input(volume, folder / f"in{source}")
        before = folder_state(folder)
        outcome = run_cli(["impute-slices", folder / f"in{source}", folder / f"out{target}", "--missing",
                           ",".join(map(str, missing)), "--model", "linear", "--quiet"])
        check_outcome(outcome, before, folder, [f"in{source}"])
        if outcome.status == 0:
            mask = np.zeros(volume.shape, np.uint8)
            mask[missing] = 1
            assert_kept_outside(original, read_volume(folder / f"out{target}"), mask)
