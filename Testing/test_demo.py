"""make demo's engine, run for real on the bundled MRI."""
import json

import numpy as np
import pytest

from MedRestoreLib.demo import SAMPLE, run_demo
from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import read_volume


def test_bundled_sample_is_a_small_real_mri():
    sample = read_volume(SAMPLE)
    assert SAMPLE.stat().st_size < 3 * 1024 * 1024
    assert sample.array.dtype == np.uint8 and min(sample.shape) >= 64
    np.testing.assert_allclose(sample.spacing, 2.0)
    assert (SAMPLE.parent / "NOTICE.md").read_text().count("Copyright") == 1


def test_demo_writes_volumes_report_and_picture(tmp_path):
    out = tmp_path / "demo"
    report = run_demo(out)
    for name in ("clean", "damaged", "true_mask", "restored_blind", "detected_mask",
                 "defect_probability", "restored_known_mask"):
        assert read_volume(out / f"{name}.nrrd").has_same_geometry(read_volume(SAMPLE))
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["defect_voxels"] == report["defect_voxels"] > 0
    kinds = {defect["kind"] for defect in on_disk["defects"]}
    assert {"dead-pixels", "box", "missing-slice"} <= kinds
    methods = on_disk["methods"]
    damaged = methods["damaged (no repair)"]["psnr_mask"]
    # With the true mask known, the 3-D fill must repair: far above the damaged input.
    assert methods["known mask: biharmonic3d"]["psnr_mask"] > damaged + 10
    assert 0.0 <= on_disk["detection"]["f1"] <= 1.0


def test_demo_into_a_file_is_input_error(tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(InputError, match="not a folder"):
        run_demo(tmp_path / "taken")
