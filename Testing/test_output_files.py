"""Writing outputs: whole or not at all, one line for any OS error, outputs committed together."""
import os

import numpy as np
import pytest

from MedRestoreLib.errors import InputError
from MedRestoreLib.output_files import committed_together, describe_os_error, write_atomically
from MedRestoreLib.volume import Volume, read_volume, write_volume


def test_a_failed_write_leaves_nothing(tmp_path):
    def write(temporary):
        with open(temporary, "w") as handle:
            handle.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="out.json: cannot be written .the disk is full"):
        write_atomically(tmp_path / "out.json", write)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_fails_its_check_is_not_renamed(tmp_path):
    (tmp_path / "out.txt").write_text("earlier")

    def verify(temporary):
        raise InputError(f"{temporary}: the file is damaged (cut short)")

    with pytest.raises(InputError, match=r"out.txt: cannot be written \(the file is damaged"):
        write_atomically(tmp_path / "out.txt", lambda t: open(t, "w").write("new"), verify)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"] and (tmp_path / "out.txt").read_text() == "earlier"


@pytest.mark.parametrize("suffix, data_file", [(".nhdr", "x.raw.gz"), (".mhd", "x.zraw"), (".hdr", "x.img")])
def test_a_detached_header_and_its_data_file_arrive_together_with_their_names(suffix, data_file, tmp_path):
    # Written as a temporary header, these used to name a hidden temporary data file.
    volume = Volume(np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    write_volume(volume, tmp_path / f"x{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"x{suffix}", data_file])
    np.testing.assert_array_equal(read_volume(tmp_path / f"x{suffix}").array, volume.array)


def test_outputs_written_together_appear_only_when_the_block_ends(tmp_path):
    (tmp_path / "b.txt").write_text("earlier")
    with committed_together():
        write_atomically(tmp_path / "a.txt", lambda t: open(t, "w").write("a"))
        write_atomically(tmp_path / "b.txt", lambda t: open(t, "w").write("b"))
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["b.txt"]
        assert (tmp_path / "b.txt").read_text() == "earlier"
    assert (tmp_path / "a.txt").read_text() == "a" and (tmp_path / "b.txt").read_text() == "b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_a_failed_block_changes_no_file(tmp_path):
    (tmp_path / "b.txt").write_text("earlier")
    with pytest.raises(KeyboardInterrupt):
        with committed_together():
            write_atomically(tmp_path / "a.txt", lambda t: open(t, "w").write("a"))
            write_atomically(tmp_path / "b.txt", lambda t: open(t, "w").write("b"))
            raise KeyboardInterrupt("signal 15")
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"] and (tmp_path / "b.txt").read_text() == "earlier"


def test_written_files_have_the_usual_permissions(tmp_path):
    write_atomically(tmp_path / "a.txt", lambda t: open(t, "w").write("a"))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_os_errors_are_said_in_a_few_words():
    assert describe_os_error(OSError(30, "Read-only file system")) == "the folder is on a read-only file system"
    assert describe_os_error(IsADirectoryError(21, "Is a directory")) == "it is a folder"
    assert describe_os_error(OSError(5, "Input/output\nerror")) == "Input/output error"
