"""Faults on the output side: a read-only folder or mount, a full disk, an output that is a
folder, a missing folder. Each is one line and status 2, and no file anywhere changes: not the
inputs, not an earlier version of an output, no temporary file left behind.

The read-only mount and the full disk are real: small tmpfs mounts, made when the tests run as
root (CI containers do); elsewhere they are skipped with the reason.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from MedRestoreLib.volume import Volume, VolumeKind, write_volume
from Testing.fuzz.harness import CASES, assert_clean_failure, folder_state, run_cli

IMAGE_FORMATS = (".nrrd", ".nii.gz", ".nii", ".mha", ".nhdr", ".mhd", ".hdr")


@contextlib.contextmanager
def tmpfs(mountpoint: Path, size: str):
    """A real tmpfs of ``size`` at ``mountpoint`` (root only), unmounted after."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux (CI runs as root); not root here")
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


@pytest.fixture
def inputs(tmp_path):
    """A noisy volume (it compresses badly) and a known mask, in their own folder."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    volume = Volume.from_geometry(rng.integers(-3000, 3000, (16, 48, 48)).astype(np.int16), (0.9, 0.9, 2.0))
    mask = np.zeros(volume.shape, np.uint8)
    mask[6:9, 20:26, 20:26] = 1
    write_volume(volume, folder / "in.nrrd")
    write_volume(volume.with_array(mask, VolumeKind.LABEL), folder / "mask.nrrd")
    return folder


def fill(disk: Path, leave: int = 0) -> None:
    """Fill the file system at ``disk`` until at most ``leave`` bytes are free."""
    with open(disk / "filler", "wb") as handle:
        while True:
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            if free <= leave:
                break
            try:
                handle.write(b"\0" * min(free - leave, 1 << 16))
                handle.flush()
            except OSError:
                break


def restore_into(inputs: Path, output: Path, *extra) -> list:
    return ["restore", inputs / "in.nrrd", output, "--mask", inputs / "mask.nrrd", "--method", "biharmonic3d",
            "--quiet", *extra]


def assert_nothing_changed(outcome, states_before, folders, reason):
    CASES["output fault"] += 1
    after = {folder: folder_state(folder) for folder in folders}
    assert_clean_failure(outcome, states_before, after)
    assert reason in outcome.lines[0], outcome.lines[0]


@pytest.mark.parametrize("suffix", IMAGE_FORMATS + (".json", ".png", ".csv"))
def test_a_full_disk_is_one_line_and_leaves_the_earlier_output_whole(suffix, inputs, tmp_path):
    # The disk fills while the output is written: SimpleITK's NIfTI writer does not even notice
    # (it writes a short file and returns); the check after writing does.
    with tmpfs(tmp_path / "small", "256k") as disk:
        (disk / f"out{suffix}").write_bytes(b"an earlier version, to keep")
        fill(disk)
        states = {folder: folder_state(folder) for folder in (inputs, disk)}
        if suffix == ".csv":
            (inputs / "visits.csv").write_text("ID,TIME,score\n" + "".join(f"{s},{t},{'' if t == 1 else s * t}\n"
                                                                         for s in range(400) for t in range(3)))
            states[inputs] = folder_state(inputs)
            args = ["impute-sequence", inputs / "visits.csv", disk / "out.csv", "--model", "linear", "--quiet"]
        elif suffix in (".json", ".png"):
            flag = "--report" if suffix == ".json" else "--preview"
            args = restore_into(inputs, tmp_path / "restored.nrrd", flag, disk / f"out{suffix}")
            states[tmp_path] = folder_state(tmp_path)
        else:
            args = restore_into(inputs, disk / f"out{suffix}")
        outcome = run_cli(args)
        assert_nothing_changed(outcome, states, list(states), "the disk is full")


def test_a_full_disk_leaves_no_file_behind_with_several_outputs(inputs, tmp_path):
    # Room for the first outputs, not for the last: none of them may appear (outputs are renamed
    # together at the end), and the earlier versions stay.
    probe = tmp_path / "probe"
    probe.mkdir()
    outputs = ["out.nrrd", "defects.nrrd", "preview.png"]
    extra = ["--mask-out", "{}/defects.nrrd", "--preview", "{}/preview.png"]
    assert run_cli(restore_into(inputs, probe / "out.nrrd", *[e.format(probe) for e in extra])).status == 0
    sizes = [(probe / name).stat().st_size for name in outputs]
    with tmpfs(tmp_path / "small", "1m") as disk:
        for name in outputs:
            (disk / name).write_bytes(b"an earlier version, to keep")
        fill(disk, leave=sizes[0] + sizes[1] + 16 * 1024)  # the image and the mask fit, the preview not
        states = {folder: folder_state(folder) for folder in (inputs, disk)}
        outcome = run_cli(restore_into(inputs, disk / "out.nrrd", *[e.format(disk) for e in extra]))
        assert_nothing_changed(outcome, states, list(states), "the disk is full")


def test_a_read_only_mount_is_refused_before_any_work(inputs, tmp_path):
    with tmpfs(tmp_path / "ro", "64k") as mount:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        states = {folder: folder_state(folder) for folder in (inputs, mount)}
        outcome = run_cli(restore_into(inputs, mount / "out.nrrd"))
        assert_nothing_changed(outcome, states, list(states), "read-only file system")


def test_a_read_only_mount_for_the_report_leaves_the_image_output_unwritten(inputs, tmp_path):
    (tmp_path / "restored.nrrd").write_bytes(b"an earlier version, to keep")
    with tmpfs(tmp_path / "ro", "64k") as mount:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        states = {folder: folder_state(folder) for folder in (inputs, tmp_path)}
        outcome = run_cli(restore_into(inputs, tmp_path / "restored.nrrd", "--report", mount / "report.json"))
        assert_nothing_changed(outcome, states, list(states), "read-only file system")


def test_a_read_only_folder_is_refused(inputs, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders anyway; the read-only mount tests cover root")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        states = {f: folder_state(f) for f in (inputs, folder)}
        outcome = run_cli(restore_into(inputs, folder / "out.nrrd"))
        assert_nothing_changed(outcome, states, list(states), "permission denied")
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("where", ["output", "--mask-out", "--report", "--preview", "--prob-out"])
def test_an_output_that_is_a_folder_is_refused(where, inputs, tmp_path):
    folder = tmp_path / "a folder"
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    output = folder if where == "output" else tmp_path / "out.nrrd"
    extra = [] if where == "output" else [where, folder]
    args = ["restore", inputs / "in.nrrd", output, "--detector", "median-mad", "--method", "biharmonic3d",
            "--quiet", *extra]
    states = {f: folder_state(f) for f in (inputs, tmp_path)}
    outcome = run_cli(args)
    assert_nothing_changed(outcome, states, list(states), "it is a folder")


@pytest.mark.parametrize("output, reason", [
    ("missing/out.nrrd", "does not exist"),
    ("a file/out.nrrd", "does not exist"),
    ("out.tif", "formats MedRestore can check whole"),
    ("out", "formats MedRestore can check whole"),
])
def test_impossible_output_paths_are_refused_before_any_work(output, reason, inputs, tmp_path):
    (tmp_path / "a file").write_text("a file, not a folder")
    states = {f: folder_state(f) for f in (inputs, tmp_path)}
    outcome = run_cli(restore_into(inputs, tmp_path / output))
    assert_nothing_changed(outcome, states, list(states), reason)
