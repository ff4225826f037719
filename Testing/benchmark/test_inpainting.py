"""The filling benchmark finds the archived ablation generators in a source checkout, and scores
the rest with a clear note when the model archive is absent (an installed package has none)."""
from MedRestoreLib.benchmark.inpainting import ABLATIONS, build_fillers
from MedRestoreLib.models import catalog


def test_the_ablation_rows_come_from_the_model_archive():
    notes = []
    fillers = build_fillers("cpu", quick=False, notes=notes)
    assert set(ABLATIONS) <= set(fillers) and notes == []
    model = fillers["gan no covariance @1600"].keywords["model"]
    assert model.generator is not fillers["gan"].keywords["model"].generator


def test_without_the_archive_the_ablation_rows_are_left_out_and_it_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "ARCHIVE_DIR", tmp_path / "model-archive")
    notes = []
    fillers = build_fillers("cpu", quick=False, notes=notes)
    assert not set(ABLATIONS) & set(fillers)
    assert {"gan", "biharmonic3d", "telea"} <= set(fillers)
    assert len(notes) == 1 and "ablation rows left out" in notes[0] and "model-archive" in notes[0]
