"""impute-sequence on CSV tables: order kept, cells marked, forecasts, per-subject imputation, errors."""
import csv

import numpy as np
import pytest

from MedRestoreLib.cli import main
from MedRestoreLib.errors import InputError
from MedRestoreLib.imputation.tables import impute_table
from MedRestoreLib.imputation.time_series import impute_series

HEADER = ["ID", "TIME", "score", "volume"]


def write(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def read(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def cohort_rows():
    """Two subjects on straight lines (score = 1 + 2t, volume = 10 - t), visits interleaved."""
    rows = [HEADER]
    for t in range(5):
        for name, offset in (("a", 0.0), ("b", 5.0)):
            rows.append([name, f"{t + offset}", f"{1 + 2 * t}", f"{10 - t}"])
    rows[5][2] = ""      # subject a, t = 2: score missing
    rows[8][3] = "NA"    # subject b, t = 3: volume missing
    return rows


def test_linear_model_fills_straight_lines_exactly_and_marks_cells(tmp_path, capsys):
    write(tmp_path / "in.csv", cohort_rows())
    assert main(["impute-sequence", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"),
                 "--model", "linear", "--quiet"]) == 0
    out = read(tmp_path / "out.csv")
    assert out[0] == HEADER + ["imputed"] and len(out) == len(cohort_rows())
    original = cohort_rows()
    for before, after in zip(original[1:], out[1:]):
        assert after[:2] == before[:2]  # rows in order, ID/TIME kept
    assert float(out[5][2]) == pytest.approx(5.0) and out[5][4] == "score"
    assert float(out[8][3]) == pytest.approx(7.0) and out[8][4] == "volume"
    assert out[1][4] == "" and out[1][2:4] == original[1][2:4]  # observed text untouched


def test_forecast_rows_are_appended_per_subject(tmp_path):
    write(tmp_path / "in.csv", cohort_rows())
    assert main(["impute-sequence", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"),
                 "--model", "linear", "--forecast", "2", "--quiet"]) == 0
    out = read(tmp_path / "out.csv")
    extra = out[len(cohort_rows()):]
    assert [row[0] for row in extra] == ["a", "a", "b", "b"] and all(row[4] == "forecast" for row in extra)
    assert float(extra[0][1]) == pytest.approx(5.0) and float(extra[0][2]) == pytest.approx(11.0, abs=1e-4)


@pytest.mark.parametrize("model", ["lstm", "srn"])
def test_recurrent_models_fill_every_blank_near_the_trajectory(model):
    columns, rows = cohort_rows()[0], cohort_rows()[1:]
    columns, filled = impute_table(columns, rows, model, forecast=1)
    assert filled[4][2] != "" and abs(float(filled[4][2]) - 5.0) < 2.0
    assert len(filled) == len(rows) + 2


def test_recurrent_series_keep_observed_values():
    times = np.arange(6.0)
    values = np.array([0.1, np.nan, 0.3, 0.35, np.nan, 0.5])
    (out_times, out_values), = impute_series([(times, values)], "lstm", forecast=2)
    assert len(out_times) == 8 and not np.isnan(out_values).any()
    np.testing.assert_array_equal(out_values[[0, 2, 3, 5]], values[[0, 2, 3, 5]])


def test_bad_tables_exit_2_with_one_line(tmp_path, capsys):
    rows = cohort_rows()
    rows[3][2] = "high"
    write(tmp_path / "text.csv", rows)
    assert main(["impute-sequence", str(tmp_path / "text.csv"), str(tmp_path / "o.csv"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert "not numeric" in error and "score" in error and len(error.splitlines()) == 1
    rows = cohort_rows()
    for row in rows[1:]:
        row[3] = ""
    write(tmp_path / "empty.csv", rows)
    assert main(["impute-sequence", str(tmp_path / "empty.csv"), str(tmp_path / "o.csv"), "--quiet"]) == 2
    assert "no observed value" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_table_without_measurements_is_refused():
    with pytest.raises(InputError, match="no measurement column"):
        impute_table(["ID", "TIME"], [["a", "1"]], "linear")


def test_values_near_the_float64_limit_are_imputed_without_overflow():
    # The scaling used to overflow (values squared in the variance): NaN/inf cells, status 0.
    columns = ["ID", "TIME", "big"]
    rows = [["a", "0", "1e300"], ["a", "1", ""], ["a", "2", "1.5e300"], ["b", "0", "-1.7e308"], ["b", "1", "1.7e308"]]
    _, filled = impute_table(columns, rows, "linear")
    assert float(filled[1][2]) == pytest.approx(1.25e300)
    assert all(np.isfinite(float(row[2])) for row in filled)


def test_a_forecast_beyond_the_float64_range_is_refused_by_name():
    rows = [["a", "0", "-1.7e308"], ["a", "1", "1.7e308"]]
    with pytest.raises(InputError, match="column 'big' exceeds the range of 64-bit numbers"):
        impute_table(["ID", "TIME", "big"], rows, "linear", forecast=1)


def test_auto_is_the_default_and_reports_its_choice_beside_the_output(tmp_path, capsys):
    import json

    from MedRestoreLib.imputation.time_series import DEFAULT_SEQUENCE_MODEL

    assert DEFAULT_SEQUENCE_MODEL.value == "auto"
    write(tmp_path / "in.csv", cohort_rows())
    assert main(["impute-sequence", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), "--quiet"]) == 0
    said = capsys.readouterr().out.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("auto chose per gap kind and column")
    report = json.loads((tmp_path / "out.csv.json").read_text())
    assert set(report["auto"]["models"]["cell"]) == {"score", "volume"}
    assert set(report["auto"]["held_out_rmse_standardised"]["cell"]) == {"lstm", "srn", "linear"}
    assert read(tmp_path / "out.csv")[5][4] == "score"


def test_one_visit_subjects_single_values_and_duplicated_times_get_values(tmp_path):
    rows = [HEADER, ["a", "0", "1", "10"], ["a", "1", "", "9"], ["a", "1", "3", ""], ["a", "2", "5", "8"],
            ["b", "4", "", "7"], ["c", "0", "2", ""], ["c", "0", "", "6"]]
    for model in ("auto", "lstm", "linear"):
        columns, filled = impute_table(rows[0], rows[1:], model)
        for row in filled:
            assert all(np.isfinite(float(cell)) for cell in row[2:4])
        assert [row[4] for row in filled] == ["", "score", "volume", "", "score", "volume", "score"]
    assert float(impute_table(rows[0], rows[1:], "linear")[1][1][2]) == pytest.approx(3.0)  # a's line 1 + 2t
