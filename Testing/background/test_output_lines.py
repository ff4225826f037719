"""A child's output bytes, read in arbitrary chunks, decoded into lines without garbling."""
import subprocess
import sys

import pytest

from MedRestoreLib.background.output_lines import OutputLines

TEXT = "début → 40 % … done\nsecond line ✓\r\nno end"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_characters_split_between_reads_arrive_whole(size):
    data = TEXT.encode("utf-8")
    lines = OutputLines()
    received = []
    for start in range(0, len(data), size):
        received += lines.feed(data[start:start + size])
    received += lines.finish()
    assert received == ["début → 40 % … done", "second line ✓", "no end"]
    assert "\ufffd" not in "".join(received)


def test_decoding_each_chunk_alone_would_garble_them():
    # What the panel did before: each read decoded on its own.
    data = "é".encode("utf-8")
    assert data[:1].decode("utf-8", "replace") + data[1:].decode("utf-8", "replace") == "\ufffd\ufffd"
    lines = OutputLines()
    assert lines.feed(data[:1]) == [] and lines.feed(data[1:] + b"\n") == ["é"]


def test_bytes_that_are_not_utf8_do_not_stop_the_panel():
    lines = OutputLines()
    assert lines.feed(b"bad \xff byte\n") == ["bad \ufffd byte"]
    assert lines.feed(b"cut \xe2\x86") == [] and lines.finish() == ["cut \ufffd"]


def test_a_real_child_read_in_small_chunks():
    code = "import sys; sys.stdout.buffer.write('→ é ✓\\nfin'.encode()); sys.stdout.flush()"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    lines, received = OutputLines(), []
    while True:
        chunk = process.stdout.read(1)  # a QProcess hands over whatever bytes are there
        if not chunk:
            break
        received += lines.feed(chunk)
    process.wait(timeout=10)
    assert received + lines.finish() == ["→ é ✓", "fin"]
