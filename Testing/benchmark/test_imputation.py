"""The imputation benchmark's targets and docs section, from a result of the benchmark's shape."""
import pytest

from MedRestoreLib.benchmark.common import verdict
from MedRestoreLib.benchmark.imputation import BEGIN, END, write_docs_section
from MedRestoreLib.benchmark.imputation_slices import SLICE_MODELS, slice_targets
from MedRestoreLib.benchmark.imputation_visits import visit_targets


def row(**psnr):
    return {m: {"psnr": psnr.get(m, 30.0), "ssim": 0.9, "seconds": 1.0} for m in SLICE_MODELS}


def test_slice_targets_compare_auto_with_the_better_interpolation_per_case():
    scores = {"A": {"thick": {"2x": row(linear=30, cubic=31, auto=32.5), "4x": row(linear=25, cubic=24, auto=24.8)}},
              "B": {"thick": {"2x": row(linear=20, cubic=19, auto=20.5), "4x": row(linear=22, cubic=22, auto=23.0)}}}
    rows = {r[0]: r for r in slice_targets(scores, verdict)}
    mean_2x = rows["slices 2x: auto − max(linear, cubic), mean over 2 cases"]
    assert mean_2x[2] == "+1.00 dB" and mean_2x[3] == "met"
    worst_4x = rows["slices 4x: auto − max(linear, cubic), worst case (A thick)"]
    assert worst_4x[2] == "-0.20 dB" and worst_4x[3] == "missed by 0.1"


def test_visit_targets_use_the_linear_regression_ratio():
    scores = {s: {"linear": {"rmse": 0.1}, "lstm": {"rmse": 0.08}, "auto": {"rmse": 0.101}}
              for s in ("blank cells", "missed visits")}
    rows = visit_targets({"cohort": scores}, {"rows": 2000, "lstm": 1.0, "auto": 6.0}, verdict)
    verdicts = {r[0]: r[3] for r in rows}
    assert verdicts["cohort, blank cells: LSTM / linear RMSE"] == "met"
    assert verdicts["cohort, missed visits: auto / linear RMSE"].startswith("missed by")
    assert verdicts["impute a 2000-row table (auto; load 0.0)"] == "missed by 1"


def test_docs_section_is_replaced_between_the_markers_only(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"intro\n{BEGIN}\nold numbers\n{END}\nafter\n")
    write_docs_section(page, "| new | table |\n")
    assert page.read_text() == f"intro\n{BEGIN}\n| new | table |\n\n{END}\nafter\n"
    (tmp_path / "bare.md").write_text("no markers\n")
    with pytest.raises(SystemExit):
        write_docs_section(tmp_path / "bare.md", "x")
