"""impute-sequence on odd CSV tables: what spreadsheets write (BOM, ';' or tab separators,
decimal commas, quoted numbers, CRLF), extreme and signed-zero values, duplicated visits, a
subject with one visit. A table is imputed (observed cells kept as text, every blank cell a
finite number, written with the input's separator and decimal mark) or refused in one line.
"""
from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from Testing.fuzz.harness import CASES, assert_allowed_ending, assert_clean_failure, folder_state, run_cli

ODD_TABLES = {
    "byte-order mark": ("\ufeffID,TIME,score\n1,0,1\n1,1,\n1,2,3\n", ",", "."),
    "semicolons": ("ID;TIME;score\n1;0;1.5\n1;1;\n1;2;3.5\n", ";", "."),
    "semicolons and decimal commas": ("ID;TIME;score\n1;0;1,5\n1;1;\n1;2;3,5\n", ";", ","),
    "tabs": ("ID\tTIME\tscore\n1\t0\t1\n1\t1\t\n1\t2\t3\n", "\t", "."),
    "quoted numbers": ('ID,TIME,score\n"1","0","1.5"\n"1","1",""\n"1","2"," 3.5 "\n', ",", "."),
    "CRLF line ends": ("ID,TIME,score\r\n1,0,1\r\n1,1,\r\n1,2,3\r\n", ",", "."),
    "values near 1e300": ("ID,TIME,score\n1,0,1e300\n1,1,\n1,2,1.5e300\n2,0,-1e300\n2,1,1e-300\n", ",", "."),
    "negative zeros": ("ID,TIME,score\n1,0,-0\n1,1,\n1,2,-0.0\n", ",", "."),
    "a duplicated visit": ("ID,TIME,score\n1,0,1\n1,0,2\n1,1,\n1,2,4\n", ",", "."),
    "a subject with one visit": ("ID,TIME,score\n1,0,1\n1,1,\n1,2,3\n2,5,\n3,0,7\n", ",", "."),
    "no ID or TIME column": ("a,b\n1,\n,2\n3,4\n", ",", "."),
}
REFUSED = {
    "not UTF-8": (b"ID,TIME,sc\xe9re\n1,0,1\n1,1,\n", "save the table as UTF-8"),
    "decimal commas in a comma table": (b'ID,TIME,score\n1,0,"1,5"\n1,1,\n', "decimal commas"),
    "an infinite value": (b"ID,TIME,score\n1,0,inf\n1,1,\n", "non-finite"),
    "a forecast beyond float64": (b"ID,TIME,score\n1,0,-1.7e308\n1,1,1.7e308\n", "exceeds the range"),
    "only a header": (b"ID,TIME,score\n", "no data rows"),
    "a ragged row": (b"ID,TIME,score\n1,0,1,5\n", "cells"),
    "a blank TIME": (b"ID,TIME,score\n1,0,1\n1,,\n", "TIME is blank"),
    "a column never observed": (b"ID,TIME,score\n1,0,\n1,1,\n", "no observed value"),
}


def parse(text: str, decimal: str) -> float:
    return float(text.replace(",", ".") if decimal == "," else text)


def check_imputed(source: str, output: Path, delimiter: str, decimal: str, forecast: int) -> None:
    rows_in = [r for r in csv.reader(io.StringIO(source.lstrip("\ufeff")), delimiter=delimiter)
               if any(c.strip() for c in r)]
    rows_out = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8")), delimiter=delimiter))
    header, data = rows_in[0], rows_in[1:]
    assert rows_out[0] == header + ["imputed"]
    subjects = {row[0] for row in data} if header[0] == "ID" else {""}
    assert len(rows_out) == 1 + len(data) + forecast * len(subjects)
    measured = [n for n, name in enumerate(header) if name not in ("ID", "TIME")]
    for before, after in zip(data, rows_out[1:]):
        marks = after[-1].split(";") if after[-1] else []
        for n in measured:
            if before[n].strip():
                assert after[n] == before[n] and header[n] not in marks  # observed text kept
            else:
                assert math.isfinite(parse(after[n], decimal)) and header[n] in marks
    for row in rows_out[1 + len(data):]:
        assert row[-1] == "forecast" and all(math.isfinite(parse(row[n], decimal)) for n in measured)


@pytest.mark.parametrize("name", sorted(ODD_TABLES))
@pytest.mark.parametrize("model", ["linear", "lstm"])
def test_odd_tables_are_imputed_in_their_own_style(name, model, tmp_path):
    CASES["odd table"] += 1
    text, delimiter, decimal = ODD_TABLES[name]
    (tmp_path / "in.csv").write_bytes(text.encode("utf-8"))
    before = folder_state(tmp_path)
    outcome = run_cli(["impute-sequence", tmp_path / "in.csv", tmp_path / "out.csv", "--model", model,
                       "--forecast", "1", "--quiet"])
    assert outcome.status == 0, outcome.stderr
    assert outcome.lines == []
    assert folder_state(tmp_path)["in.csv"] == before["in.csv"]
    check_imputed(text, tmp_path / "out.csv", delimiter, decimal, forecast=1)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_tables_that_cannot_be_imputed_are_refused_in_one_line(name, tmp_path):
    CASES["odd table: refused"] += 1
    data, reason = REFUSED[name]
    (tmp_path / "in.csv").write_bytes(data)
    before = folder_state(tmp_path)
    outcome = run_cli(["impute-sequence", tmp_path / "in.csv", tmp_path / "out.csv", "--model", "linear",
                       "--forecast", "2", "--quiet"])
    assert_clean_failure(outcome, before, folder_state(tmp_path))
    assert reason in outcome.lines[0], outcome.lines[0]


VALUES = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([1e300, -1e300, 1e-300, -0.0, 0.0, 1.7e308, 5e-324]))


@st.composite
def tables(draw):
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    decimal = draw(st.sampled_from([".", ","])) if delimiter != "," else "."
    columns = draw(st.integers(1, 3))
    header = ["ID", "TIME"] + [f"m{n}" for n in range(columns)]
    rows = []
    for subject in range(draw(st.integers(1, 4))):
        times = draw(st.lists(st.integers(-5, 50), min_size=1, max_size=6))
        for time in times:
            cells = [draw(VALUES) for _ in range(columns)]
            text = ["" if v is None else (repr(v).replace(".", ",") if decimal == "," else repr(v)) for v in cells]
            rows.append([f"s{subject}", str(time)] + text)
    quote = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quote,
               lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header] + rows)
    return draw(st.sampled_from(["", "\ufeff"])) + buffer.getvalue(), delimiter, decimal


@given(table=tables(), model=st.sampled_from(["linear", "lstm", "srn"]), forecast=st.integers(0, 2))
def test_random_tables_are_imputed_or_refused_cleanly(table, model, forecast):
    CASES["odd table: random"] += 1
    text, delimiter, decimal = table
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "in.csv").write_bytes(text.encode("utf-8"))
        before = folder_state(folder)
        outcome = run_cli(["impute-sequence", folder / "in.csv", folder / "out.csv", "--model", model,
                           "--forecast", str(forecast), "--quiet"])
        assert_allowed_ending(outcome)
        CASES[f"odd table: random, status {outcome.status}"] += 1
        if outcome.status == 2:
            assert folder_state(folder) == before
        else:
            assert folder_state(folder)["in.csv"] == before["in.csv"]
            check_imputed(text, folder / "out.csv", delimiter, decimal, forecast)
