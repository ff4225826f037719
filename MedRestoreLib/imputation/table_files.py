"""CSV tables of visits as spreadsheets write them: comma, semicolon or tab separated, with or
without a byte-order mark, quoted or not, and (with ';' or tab separators) decimal commas.

The output keeps the input's separator and decimal mark, so that a table goes back to the
program it came from as it was, with its blank cells filled.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from ..errors import InputError
from ..output_files import write_atomically

_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+([eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class TableStyle:
    """How a CSV file separates cells and writes decimals."""

    delimiter: str = ","
    decimal: str = "."


def read_table(path) -> Tuple[List[str], List[List[str]], TableStyle]:
    """(header, data rows, style) of a CSV file; blank lines are skipped.

    Raises:
        InputError: a missing, empty, non-UTF-8 or unreadable file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at position "
                         f"{error.start}); save the table as UTF-8 CSV") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    delimiter = max(",;\t", key=lambda mark: (_count_outside_quotes(header, mark), mark == ","))
    try:
        rows = [row for row in csv.reader(lines, delimiter=delimiter) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise InputError(f"{path}: cannot be read as CSV ({error})") from None
    if not rows:
        raise InputError(f"{path}: the table is empty")
    decimal = "," if delimiter != "," and any(_DECIMAL_COMMA.match(cell) for row in rows[1:] for cell in row) else "."
    return rows[0], rows[1:], TableStyle(delimiter, decimal)


def _count_outside_quotes(line: str, mark: str) -> int:
    return len(re.sub(r'"[^"]*"', "", line).split(mark)) - 1


def write_table(columns: List[str], rows: List[List[str]], path, style: TableStyle = TableStyle()) -> None:
    """Write the CSV atomically (``output_files.write_atomically``) in ``style``."""
    def write(temporary: str) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=style.delimiter)
            writer.writerow(columns)
            writer.writerows(rows)

    write_atomically(path, write)
