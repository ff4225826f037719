"""CSV tables as spreadsheets write them, read and written back in their own style."""
import pytest

from MedRestoreLib.errors import InputError
from MedRestoreLib.imputation.table_files import TableStyle, read_table, write_table


@pytest.mark.parametrize("text, style", [
    ("ID,TIME,score\n1,0,1.5\n", TableStyle(",", ".")),
    ("\ufeffID;TIME;score\r\n1;0;1.5\r\n", TableStyle(";", ".")),
    ("ID;TIME;score\n1;0;1,5\n", TableStyle(";", ",")),
    ("ID\tTIME\tscore\n1\t0\t1,5\n", TableStyle("\t", ",")),
    ('ID,TIME,"a;b"\n1,0,2\n', TableStyle(",", ".")),
])
def test_the_separator_and_decimal_mark_are_found(text, style, tmp_path):
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    columns, rows, found = read_table(tmp_path / "t.csv")
    assert found == style and len(columns) == 3 and len(rows[0]) == 3


def test_a_table_is_written_back_in_its_style(tmp_path):
    write_table(["ID", "score"], [["1", "1,5"]], tmp_path / "t.csv", TableStyle(";", ","))
    assert (tmp_path / "t.csv").read_bytes() == b"ID;score\r\n1;1,5\r\n"


def test_a_table_that_is_not_utf8_says_so(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"ID,sc\xe9re\n1,2\n")
    with pytest.raises(InputError, match="not UTF-8 text .byte 0xe9 at position 5.; save the table as UTF-8"):
        read_table(tmp_path / "t.csv")
