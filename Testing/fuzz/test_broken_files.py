"""Broken files of every readable format: refused with one line naming the file, nothing written,
the input left as it was — never read as if whole (SimpleITK reads a .nii.gz cut short as zeros).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from MedRestoreLib.volume import read_volume
from Testing.fuzz.broken_files import MAKERS, cut, damage_matrix, data_file, mutate
from Testing.fuzz.harness import (
    CASES,
    FAST,
    assert_allowed_ending,
    assert_clean_failure,
    folder_state,
    run_cli,
    run_cli_process,
)

MATRIX = damage_matrix()


@pytest.mark.parametrize("fmt, damage_name, damage", MATRIX, ids=[f"{f}: {d}" for f, d, _ in MATRIX])
def test_a_damaged_file_is_refused_by_name(fmt, damage_name, damage, tmp_path):
    CASES["broken file: fixed damage"] += 1
    path = MAKERS[fmt](tmp_path)
    damaged = data_file(path)
    damage(path)
    before = folder_state(tmp_path)
    outcome = run_cli(["restore", path, tmp_path / "out.nrrd", *FAST, "--quiet"])
    assert_clean_failure(outcome, before, folder_state(tmp_path))
    assert str(path) in outcome.lines[0] or str(damaged) in outcome.lines[0], outcome.lines[0]


@pytest.mark.parametrize("command", [
    ["restore", "{input}", "{folder}/out.nrrd", *FAST],
    ["detect", "{input}", "{folder}/mask.nrrd", "--detector", "median-mad"],
    ["impute-slices", "{input}", "{folder}/out.nrrd", "--factor", "2", "--model", "linear"],
    ["impute-sequence", "{input}", "{folder}/out.nrrd", "--model", "linear"],
    ["corrupt", "{input}", "{folder}/out.nrrd", "{folder}/mask.nrrd", "--kind", "blob"],
    ["evaluate", "{input}", "{input}", "{input}"],
])
def test_every_command_refuses_a_cut_nii_gz(command, tmp_path):
    # The bug of issue 14: `restore` and `impute-slices` wrote a "repaired" volume whose missing
    # half was zeros, with status 0.
    CASES["broken file: every command"] += 1
    path = MAKERS["nii.gz"](tmp_path)
    cut(0.6)(path)
    before = folder_state(tmp_path)
    outcome = run_cli([part.format(input=path, folder=tmp_path) for part in command] + ["--quiet"])
    assert_clean_failure(outcome, before, folder_state(tmp_path), names=str(path))
    assert "cut short" in outcome.lines[0]


@pytest.mark.parametrize("fmt, damage", [("nii.gz", cut(0.5)), ("mha (raw)", cut(0.5)), ("dicom folder", cut(0.5)),
                                         ("mha (zlib)", None)])
def test_the_whole_stderr_of_a_refusal_is_one_line(fmt, damage, tmp_path):
    # As a child process: native libraries print on their own (MetaIO's "data not read
    # completely", ITK's "No Series were found" warning); none of it may reach the user.
    CASES["broken file: child process"] += 1
    if damage is None:  # a folder holding no DICOM series
        path = tmp_path / "not-dicom"
        path.mkdir()
        (path / "notes.txt").write_text("no images here")
    else:
        path = MAKERS[fmt](tmp_path)
        damage(path)
    before = folder_state(tmp_path)
    outcome = run_cli_process(["restore", path, tmp_path / "out.nrrd", *FAST])
    assert_clean_failure(outcome, before, folder_state(tmp_path))


EDITS = st.lists(st.tuples(st.sampled_from(["cut", "flip", "insert", "delete", "overwrite"]), st.integers(0, 9),
                           st.floats(0, 1, exclude_max=True), st.integers(1, 64), st.integers(0, 255)),
                 min_size=1, max_size=3)


@given(fmt=st.sampled_from(sorted(MAKERS)), edits=EDITS)
def test_randomly_damaged_files_never_crash_or_write_half(fmt, edits):
    CASES["broken file: random edits"] += 1
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = MAKERS[fmt](folder)
        mutate(path, edits)
        before = folder_state(folder)
        outcome = run_cli(["restore", path, folder / "out.nrrd", *FAST, "--quiet"])
        assert_allowed_ending(outcome)
        CASES[f"broken file: random edits, status {outcome.status}"] += 1
        after = folder_state(folder)
        if outcome.status == 2:
            assert after == before
        else:  # the edit left a valid image (voxel bytes changed, say): a whole output
            assert {k: v for k, v in after.items() if k != "out.nrrd"} == before
            assert read_volume(folder / "out.nrrd").shape == read_volume(path).shape


@pytest.mark.parametrize("name", ["image.mnc", "image.tif", "image.vtk", "image.gipl", "image.mrc"])
def test_formats_that_cannot_be_checked_whole_are_refused(name, tmp_path):
    # SimpleITK reads TIFF, VTK, GIPL and MRC files cut short as zeros, and MINC (HDF5) damaged
    # files as empty images: MedRestore refuses these formats rather than repair a broken scan.
    import SimpleITK as sitk

    from Testing.fuzz.broken_files import sample_volume

    CASES["broken file: unverifiable format"] += 1
    sitk.WriteImage(sitk.GetImageFromArray(sample_volume(dtype="uint8").array), str(tmp_path / name))
    before = folder_state(tmp_path)
    outcome = run_cli(["restore", tmp_path / name, tmp_path / "out.nrrd", *FAST, "--quiet"])
    assert_clean_failure(outcome, before, folder_state(tmp_path), names=name)
    assert "formats MedRestore can check whole" in outcome.lines[0]
