"""Both training commands run a few steps, resume from their checkpoint, and write loadable,
SHA-checked model folders (needs the data cache; skipped without it)."""
import json

import pytest

from MedRestoreLib.cli import main
from MedRestoreLib.imputation.weights import load_model
from MedRestoreLib.training.fetch_data import default_cache

pytestmark = pytest.mark.skipif(not (default_cache() / "ch2bet.nii.gz").exists(), reason="no data cache")


def test_slice_imputer_trains_resumes_and_loads(tmp_path):
    from MedRestoreLib.imputation.slice_net import build

    config = {"model": {"id": "slice-lstm", "version": "0.0.1", "cell": "lstm", "channels": 4, "hidden": 4, "head": 4},
              "data": {"training": ["ch2bet.nii.gz"], "spacings_mm": [2.0], "factors": [2], "acquired_slices": 3,
                       "crop": 32, "synthetic": {"pool": 1, "size": 40, "refresh_every": 2, "fraction": 0.5}},
              "train": {"seed": 3, "steps": 4, "batch": 2, "learning_rate": 0.01, "checkpoint_every": 2,
                        "max_seconds": 60}, "validation": {"factors": [2]}}
    (tmp_path / "c.json").write_text(json.dumps(config))
    config["train"]["steps"] = 2
    (tmp_path / "short.json").write_text(json.dumps(config))
    out = tmp_path / "model"
    assert main(["train", "slice-imputer", "--config", str(tmp_path / "short.json"), "--out", str(out)]) == 0
    assert main(["train", "slice-imputer", "--config", str(tmp_path / "c.json"), "--out", str(out), "--resume"]) == 0
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["steps_done"] == 4 and "thick-2x" in metadata["validation_mni152_2mm_psnr_missing_db"]
    model, resolved = load_model(out, build)
    assert resolved["train"]["seed"] == 3 and model.cell_kind == "lstm"


def test_sequence_imputer_trains_and_loads(tmp_path):
    from MedRestoreLib.imputation.sequence_net import build

    config = {"model": {"id": "sequence-srn", "version": "0.0.1", "cell": "srn", "hidden": 8},
              "data": {"real_fraction": 0.5, "max_cell_rate": 0.3, "max_visit_rate": 0.3, "max_forecast": 2,
                       "forecast_weight": 0.5},
              "train": {"seed": 1, "steps": 3, "batch": 1, "learning_rate": 0.01, "checkpoint_every": 2,
                        "max_seconds": 60}, "validation": {"subjects": 30}}
    (tmp_path / "c.json").write_text(json.dumps(config))
    assert main(["train", "sequence-imputer", "--config", str(tmp_path / "c.json"), "--out", str(tmp_path / "m")]) == 0
    metadata = json.loads((tmp_path / "m" / "metadata.json").read_text())
    from MedRestoreLib.imputation.cohort_generator import HELD_OUT_COHORTS

    assert set(metadata["validation_rmse"]) == {"alzheimer_held_out", *HELD_OUT_COHORTS}
    assert set(metadata["validation_rmse"]["alzheimer_held_out"]["blank cells"]) == {"model", "linear"}
    assert load_model(tmp_path / "m", build)[0].cell_kind == "srn"
