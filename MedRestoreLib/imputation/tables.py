"""Blank cells of a longitudinal table: one row per visit, one column per measurement, optional
``ID`` (subject) and ``TIME`` columns (names matched case-insensitively).

Every subject's visits are imputed at once — all its measurements, along time (visit order =
``TIME``, else row order; equal times keep row order) — by :mod:`.visits`, each measurement
standardised over the whole column so one network serves every table; ``auto`` picks the model
per column by held-out cells (:mod:`.visits_auto`). Rows and columns keep
their order; observed cells keep their text. An extra last column ``imputed`` marks what was
computed: the names of the imputed columns of a row joined by ``;`` (empty when none), or
``forecast`` on the rows appended by ``forecast`` (after all input rows, subject by subject, each
one typical interval after the subject's last visit). A subject with no observed value in a
column gets the column's population trend there (a quadratic in time through every subject's
values).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from .time_series import SequenceModel, typical_interval
from .visits_auto import impute_any

MISSING_TEXT = {"", "na", "nan", "n/a", "none", "null"}
MARK_COLUMN = "imputed"


def _column(columns: Sequence[str], name: str):
    matches = [n for n, c in enumerate(columns) if c.strip().upper() == name]
    return matches[0] if matches else None


def parse_number(text: str, column: str, row: int, decimal: str = ".") -> float:
    """A cell's number (NaN for a blank or NA cell); ``decimal`` is the table's decimal mark."""
    if text.strip().lower() in MISSING_TEXT:
        return np.nan
    try:
        value = float(text.replace(",", ".") if decimal == "," else text)
    except ValueError:
        hint = " (decimal commas need a ';' or tab separated table)" if "," in text and decimal == "." else ""
        raise InputError(f"column '{column}' is not numeric: '{text[:40]}' in data row {row + 1}{hint}") from None
    if not np.isfinite(value):
        raise InputError(f"column '{column}' has a non-finite value in data row {row + 1}")
    return value


def _format(value: float, decimal: str = ".") -> str:
    text = f"{value:.7g}"
    return text.replace(".", ",") if decimal == "," else text


def _finite(value: float, what: str) -> float:
    if not np.isfinite(value):
        raise InputError(f"{what} exceeds the range of 64-bit numbers (values near ±1.8e308)")
    return value


def standardised(values: np.ndarray, names: Sequence[str]):
    """(values standardised per column, the function that maps standardised values back).

    Columns are first divided by their largest magnitude, so that neither the variance (a sum
    of squares) nor the way back overflows for values near the float64 limit (±1.8e308); a
    result that still leaves the float64 range (a forecast beyond it) is refused by name.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        magnitude = np.nanmax(np.abs(values), 0)
        magnitude[~(magnitude > 0)] = 1.0
        unit = values / magnitude
        mean, spread = np.nanmean(unit, 0), np.nanstd(unit, 0)
    spread[~(spread > 0)] = 1.0

    def back(standard: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            result = (standard * spread + mean) * magnitude
        for n in np.flatnonzero(~np.isfinite(result).all(axis=0)):
            _finite(np.inf, f"an imputed value of column '{names[n]}'")
        return result

    return (unit - mean) / spread, back


def impute_table(columns: List[str], rows: List[List[str]], model, forecast: int = 0,
                 missing_rows: Sequence[int] = (), networks: Optional[Dict[str, object]] = None,
                 report: Optional[dict] = None, decimal: str = ".") -> Tuple[List[str], List[List[str]]]:
    """The table with its blank measurement cells filled and ``forecast`` rows per subject.

    Args:
        columns: header names; rows: cell texts (row lengths must match the header).
        model: :class:`SequenceModel`. missing_rows: 0-based data rows whose measurements are
            treated as blank (to re-impute a visit).
        networks: loaded recurrent networks by cell name (the shipped ones when absent).
        report: filled with the model used and, for ``auto``, its choice per column and the
            held-out errors (:class:`~.visits_auto.VisitChoice`).
        decimal: the table's decimal mark ("." or ","; see ``table_files.read_table``); the
            computed cells are written with it.

    Raises:
        InputError: no measurement column, a non-numeric cell, a column without any observed
            value, a blank or non-numeric TIME, a ragged row.
    """
    if not rows:
        raise InputError("the table has no data rows")
    for number, row in enumerate(rows):
        if len(row) != len(columns):
            raise InputError(f"data row {number + 1} has {len(row)} cells, the header {len(columns)}")
    id_column, time_column = _column(columns, "ID"), _column(columns, "TIME")
    measured = [n for n in range(len(columns)) if n not in (id_column, time_column)]
    if not measured:
        raise InputError("the table has no measurement column (only ID/TIME)")
    values = np.array([[parse_number(row[c], columns[c], r, decimal) for c in measured] for r, row in enumerate(rows)])
    for r in missing_rows:
        if not 0 <= r < len(rows):
            raise InputError(f"--missing row {r} outside 0…{len(rows) - 1}")
        values[r] = np.nan
    empty = [columns[c] for n, c in enumerate(measured) if np.isnan(values[:, n]).all()]
    if empty:
        raise InputError(f"column '{empty[0]}' has no observed value")
    subjects = {}
    for r, row in enumerate(rows):
        subjects.setdefault(row[id_column] if id_column is not None else "", []).append(r)
    times = np.zeros(len(rows))
    for members in subjects.values():
        for position, r in enumerate(members):
            if time_column is None:
                times[r] = position
            else:
                times[r] = parse_number(rows[r][time_column], columns[time_column], r, decimal)
                if np.isnan(times[r]):
                    raise InputError(f"TIME is blank in data row {r + 1}")
    orders = {name: sorted(members, key=lambda r: times[r]) for name, members in subjects.items()}
    interval = typical_interval([times[o] for o in orders.values()])
    standard, unstandardise = standardised(values, [columns[c] for c in measured])
    names = list(orders)
    results, choice = impute_any([(times[orders[name]], standard[orders[name]]) for name in names],
                                 SequenceModel(model).value, forecast, networks)
    if report is not None:
        report["model"] = SequenceModel(model).value
        if choice is not None:
            report["auto"] = choice.to_dict([columns[c] for c in measured])
            report["summary"] = choice.summary([columns[c] for c in measured])
    filled = standard.copy()
    future = {}
    for name, (_, result) in zip(names, results):
        filled[orders[name]] = result[:len(orders[name])]
        future[name] = result[len(orders[name]):]
    filled = unstandardise(filled)
    output = []
    for r, row in enumerate(rows):
        cells, marks = list(row), []
        for n, c in enumerate(measured):
            if np.isnan(values[r, n]):
                cells[c] = _format(filled[r, n], decimal)
                marks.append(columns[c])
        output.append(cells + [";".join(marks)])
    for name, order in orders.items():
        last = times[order[-1]]
        predicted = unstandardise(future[name])
        for step in range(forecast):
            cells = [""] * len(columns)
            if id_column is not None:
                cells[id_column] = name
            if time_column is not None:
                cells[time_column] = _format(_finite(last + interval * (step + 1), "the forecast TIME"), decimal)
            for n, c in enumerate(measured):
                cells[c] = _format(predicted[step, n], decimal)
            output.append(cells + ["forecast"])
    return list(columns) + [MARK_COLUMN], output
