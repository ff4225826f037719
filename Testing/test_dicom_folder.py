"""A DICOM folder is read only when it holds one whole, evenly spaced series."""
import numpy as np
import pytest

from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import Volume, read_volume
from Testing.dicom_files import write_dicom_series


def series(folder, slices=6):
    volume = Volume.from_geometry(np.arange(slices * 8 * 7, dtype=np.int16).reshape(slices, 8, 7), (0.8, 0.8, 2.0))
    return volume, write_dicom_series(volume, folder)


def test_a_whole_series_is_read(tmp_path):
    volume, _ = series(tmp_path)
    np.testing.assert_array_equal(read_volume(tmp_path).array, volume.array)


def test_a_damaged_slice_is_named_instead_of_left_out(tmp_path):
    # GDCM skips a file it cannot read, and ITK stacks the rest as if nothing was missing.
    _, files = series(tmp_path)
    files[3].write_bytes(files[3].read_bytes()[:-500])
    with pytest.raises(InputError, match="slice003.dcm: a DICOM file of the series is damaged"):
        read_volume(tmp_path)


def test_a_missing_slice_is_refused(tmp_path):
    _, files = series(tmp_path)
    files[2].unlink()
    with pytest.raises(InputError, match="unevenly spaced: 4 mm between"):
        read_volume(tmp_path)


def test_two_series_in_one_folder_are_refused(tmp_path):
    series(tmp_path)
    other = Volume.from_geometry(np.zeros((3, 8, 7), np.int16), origin=(0, 0, 100))
    write_dicom_series(other, tmp_path, "other", series_uid="1.2.826.0.1.3680043.2.1125.9")
    with pytest.raises(InputError, match="holds 2 DICOM series .6 and 3 files|holds 2 DICOM series .3 and 6 files"):
        read_volume(tmp_path)


def test_a_folder_without_dicom_is_one_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images")
    with pytest.raises(InputError, match="holds no DICOM series"):
        read_volume(tmp_path)
