"""The medrestore command line: real files in, real files out; bad input → status 2, one line,
nothing written."""
import json
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk

from MedRestoreLib.cli import main
from MedRestoreLib.volume import Volume, read_volume, write_volume
from Testing.phantoms import box_mask, head_phantom


@pytest.fixture
def files(tmp_path):
    """A damaged phantom and its defect mask on disk."""
    clean = head_phantom()
    mask = box_mask(clean.shape, (6, 15, 15), (9, 21, 22))
    damaged = clean.array.copy()
    damaged[mask > 0] = 0
    paths = {"clean": tmp_path / "clean.nrrd", "damaged": tmp_path / "damaged.nrrd",
             "mask": tmp_path / "mask.nrrd"}
    write_volume(clean, paths["clean"])
    write_volume(clean.with_array(damaged), paths["damaged"])
    write_volume(clean.with_array(mask), paths["mask"])
    return paths


def run(args, capsys):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_restore_with_known_mask(files, tmp_path, capsys):
    out = tmp_path / "restored.nii.gz"
    status, _, err = run(["restore", files["damaged"], out, "--mask", files["mask"], "--quiet",
                          "--report", tmp_path / "r.json", "--mask-out", tmp_path / "m.nrrd"], capsys)
    assert status == 0, err
    restored, damaged = read_volume(out), read_volume(files["damaged"])
    assert restored.has_same_geometry(damaged, tolerance=1e-5)
    mask = read_volume(files["mask"]).array > 0
    np.testing.assert_array_equal(restored.array[~mask], damaged.array[~mask])
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["frames"][0]["detector"] == "given"
    np.testing.assert_array_equal(read_volume(tmp_path / "m.nrrd").array, mask.astype(np.uint8))


def test_blind_restore_writes_probability_and_preview(files, tmp_path, capsys):
    status, _, err = run(["restore", files["damaged"], tmp_path / "o.nrrd", "--prob-out",
                          tmp_path / "p.nrrd", "--preview", tmp_path / "p.png", "--method",
                          "biharmonic2d"], capsys)
    assert status == 0, err
    probability = read_volume(tmp_path / "p.nrrd").array
    assert probability.dtype == np.float32 and probability.max() <= 1.0
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_restore_of_a_series(files, tmp_path, capsys):
    from MedRestoreLib.volume import read_series, write_series

    frame = read_volume(files["damaged"])
    write_series([frame, frame.with_array(frame.array // 2)], tmp_path / "s.nrrd")
    status, _, err = run(["restore", tmp_path / "s.nrrd", tmp_path / "o.nrrd", "--mask",
                          files["mask"]], capsys)
    assert status == 0, err
    assert len(read_series(tmp_path / "o.nrrd")) == 2


def test_detect(files, tmp_path, capsys):
    status, _, err = run(["detect", files["damaged"], tmp_path / "m.nrrd", "--prob-out",
                          tmp_path / "p.nrrd"], capsys)
    assert status == 0, err
    assert set(np.unique(read_volume(tmp_path / "m.nrrd").array)) <= {0, 1}


def test_corrupt_is_reproducible(files, tmp_path, capsys):
    for name in ("a", "b"):
        status, _, err = run(["corrupt", files["clean"], tmp_path / f"{name}.nrrd",
                              tmp_path / f"{name}_mask.nrrd", "--kind", "mixed", "--seed", "7",
                              "--specs-out", tmp_path / f"{name}.json"], capsys)
        assert status == 0, err
    np.testing.assert_array_equal(read_volume(tmp_path / "a.nrrd").array,
                                  read_volume(tmp_path / "b.nrrd").array)
    assert read_volume(tmp_path / "a_mask.nrrd").array.any()
    assert json.loads((tmp_path / "a.json").read_text())


def test_evaluate_json(files, tmp_path, capsys):
    status, out, err = run(["evaluate", files["clean"], files["damaged"], files["mask"], "--json"],
                           capsys)
    assert status == 0, err
    scores = json.loads(out)
    assert scores["psnr_mask"] < 10 and scores["mask_voxels"] == 3 * 6 * 7


def test_evaluate_of_identical_images_is_strict_json(files, capsys):
    status, out, _ = run(["evaluate", files["clean"], files["clean"], files["mask"], "--json"], capsys)
    assert status == 0
    assert json.loads(out)["psnr_mask"] == "inf"


@pytest.mark.parametrize("command", ["restore", "detect", "corrupt", "evaluate", "demo", "benchmark"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--device" in capsys.readouterr().out


def test_train_help_lists_targets_and_each_target_has_its_own_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    assert "slice-imputer" in capsys.readouterr().out
    for target in ("detector", "inpainting", "slice-imputer", "sequence-imputer"):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", target, "--help"])
        assert exit_info.value.code == 0
        assert f"medrestore train {target}" in capsys.readouterr().out


def _bad_inputs(tmp_path, files):
    tiny = tmp_path / "tiny.nrrd"
    write_volume(Volume(np.ones((1, 1, 1), np.int16)), tiny)
    nan = tmp_path / "nan.nrrd"
    array = np.ones((4, 5, 6), np.float32)
    array[1, 2, 3] = np.nan
    write_volume(Volume(array), nan)
    rgb = tmp_path / "rgb.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 5, 6, 3), np.uint8), isVector=True), str(rgb))
    garbage = tmp_path / "garbage.nrrd"
    garbage.write_bytes(b"NRRD0004\nnonsense\n")
    other_grid = tmp_path / "other_mask.nrrd"
    write_volume(Volume(np.zeros((3, 3, 3), np.uint8)), other_grid)
    shifted = tmp_path / "shifted_mask.nrrd"
    mask = read_volume(files["mask"])
    mask.ijk_to_ras[2, 3] += 10.0
    write_volume(mask, shifted)
    out = tmp_path / "out.nrrd"
    return {
        "missing file": ["restore", tmp_path / "absent.nrrd", out],
        "unreadable file": ["restore", garbage, out],
        "one voxel": ["restore", tiny, out],
        "NaN voxels": ["restore", nan, out],
        "RGB image": ["restore", rgb, out],
        "mask of another shape": ["restore", files["damaged"], out, "--mask", other_grid],
        "mask of another geometry": ["restore", files["damaged"], out, "--mask", shifted],
        "missing output folder": ["restore", files["damaged"], tmp_path / "no" / "out.nrrd"],
        "output overwrites input": ["restore", files["damaged"], files["damaged"]],
        "unknown method": ["restore", files["damaged"], out, "--method", "magic"],
        "unknown kind": ["corrupt", files["clean"], out, tmp_path / "m.nrrd", "--kind", "magic"],
        "evaluate mismatch": ["evaluate", files["clean"], other_grid, files["mask"]],
        "no command": [],
        "prob-out with mask": ["restore", files["damaged"], out, "--mask", files["mask"],
                               "--prob-out", tmp_path / "p.nrrd"],
    }


@pytest.mark.parametrize("case", [
    "missing file", "unreadable file", "one voxel", "NaN voxels", "RGB image",
    "mask of another shape", "mask of another geometry", "missing output folder",
    "output overwrites input", "unknown method", "unknown kind", "evaluate mismatch", "no command",
    "prob-out with mask",  # found after the output was written: it used to stay
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, files, tmp_path, capsys):
    args = _bad_inputs(tmp_path, files)[case]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    status, out, err = run(args, capsys)
    assert status == 2, (case, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in err, err
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert after == before, "a failed command must not write or touch any file"


def test_module_entry_point_reports_bad_input_without_traceback(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "MedRestoreLib", "restore",
                                str(tmp_path / "absent.nrrd"), str(tmp_path / "out.nrrd")],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "no such file" in completed.stderr
