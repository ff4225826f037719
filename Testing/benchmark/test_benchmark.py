"""Smoke test of `medrestore benchmark --quick`: real detectors, real restores, files written."""
import json

from MedRestoreLib.cli import main

# Kinds where the calibrated defect-lstm v2.0.0 is behind median/MAD on the bundled 2 mm volume
# (seed 0, measured 2026-11-30: F1 box 0.007 vs 0.092 — a noisy dark box is not a plateau, so the
# void map does not see it; blob 0.010 vs 0.051). Open gaps of issue 11, not accepted behaviour.
KNOWN_DETECTION_GAPS = {"box", "blob"}


def test_quick_benchmark_writes_tables_targets_and_figure(tmp_path, capsys):
    assert main(["benchmark", "--quick", "--out", str(tmp_path / "bench"), "--quiet"]) == 0
    result = json.loads((tmp_path / "bench" / "benchmark.json").read_text())
    per_kind = result["detection"]["per_kind"]
    assert set(per_kind) >= {"dead-pixels", "line-dropout", "box", "missing-slice"}
    for scores in per_kind.values():
        assert set(scores) == {"median-mad", "dpd", "dpd+mlp", "lstm"}
    # The learned detector must beat the classical baseline it replaces on every kind but the
    # known gaps; a gap that closes must leave this list, so the list cannot hide a regression.
    behind = {kind for kind, s in per_kind.items() if s["lstm"]["f1"] <= s["median-mad"]["f1"]}
    assert behind == KNOWN_DETECTION_GAPS, {k: (s["lstm"]["f1"], s["median-mad"]["f1"]) for k, s in per_kind.items()}
    assert result["blind_restore"]["gain_db"] > 0
    verdicts = {row["target"]: row["verdict"] for row in result["targets"]}
    assert all(v == "met" or v.startswith("missed by") for v in verdicts.values())
    table = (tmp_path / "bench" / "benchmark.md").read_text()
    assert "| F1 box |" in table and "## Targets" in table
    assert (tmp_path / "bench" / "detection.png").read_bytes()[:4] == b"\x89PNG"


def test_a_candidate_model_folder_is_scored_beside_the_shipped_gan():
    """--candidate scores a training run's folder in the same run, on the same defects: the
    shipped folder given as candidate must score exactly as "gan" does."""
    import numpy as np

    from MedRestoreLib.benchmark.inpainting import inpainting_benchmark
    from MedRestoreLib.data import SAMPLE
    from MedRestoreLib.models.catalog import current_folder
    from MedRestoreLib.progress import Steps
    from MedRestoreLib.volume import Volume, read_volume

    sample = read_volume(SAMPLE)
    crop = Volume(np.ascontiguousarray(sample.array[20:60, 24:72, 18:58]), sample.ijk_to_ras)
    result = inpainting_benchmark({"crop": crop}, [0], "cpu", True, Steps(), cases=["blob"],
                                  methods=["gan", "gan candidate"], candidate=current_folder("inpaint-gan"))
    scores = result["per_case"]["blob"]
    assert set(scores) == {"gan", "gan candidate"}
    assert scores["gan candidate"]["psnr_mask"] == scores["gan"]["psnr_mask"]
