"""The header-versus-bytes check of image files: whole files pass in every layout, damaged ones
are named (the full matrix of formats and damages runs in Testing/fuzz/test_broken_files.py)."""
import gzip

import numpy as np
import pytest
import SimpleITK as sitk

from MedRestoreLib.errors import InputError
from MedRestoreLib.file_integrity import check_image_file
from MedRestoreLib.image_headers import data_layout, image_format

LAYOUTS = [("x.nrrd", True), ("x.nrrd", False), ("x.nhdr", True), ("x.nhdr", False), ("x.nii", False),
           ("x.nii.gz", True), ("x.hdr", False), ("x.mha", True), ("x.mha", False), ("x.mhd", True),
           ("x.mhd", False)]


@pytest.mark.parametrize("name, compressed", LAYOUTS)
@pytest.mark.parametrize("array", [np.arange(3 * 4 * 5, dtype=np.int16).reshape(3, 4, 5),
                                   np.ones((2, 3, 4, 3), np.float64)], ids=["int16", "float64 RGB"])
def test_whole_files_pass_in_every_layout(name, compressed, array, tmp_path):
    image = sitk.GetImageFromArray(array, isVector=array.ndim == 4)
    sitk.WriteImage(image, str(tmp_path / name), compressed)
    check_image_file(tmp_path / name)
    assert data_layout(tmp_path / name).expected == array.nbytes


def test_a_cut_gzip_stream_is_refused_though_simpleitk_reads_it_as_zeros(tmp_path):
    path = tmp_path / "x.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.random.default_rng(0).normal(size=(20, 30, 40))), str(path))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert sitk.GetArrayFromImage(sitk.ReadImage(str(path))).shape == (20, 30, 40)  # the reader's leniency
    with pytest.raises(InputError, match="x.nii.gz: the file is damaged .cut short"):
        check_image_file(path)


def test_concatenated_gzip_members_count_as_one_stream(tmp_path):
    path = tmp_path / "x.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 5, 6), np.int16)), str(path), True)
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:200]) + gzip.compress(raw[200:]))
    check_image_file(path)


def test_a_header_claiming_more_than_the_memory_is_refused_before_reading(tmp_path):
    path = tmp_path / "x.nrrd"
    path.write_bytes(b"NRRD0004\ntype: short\ndimension: 3\nsizes: 1000 1000 1000\nencoding: raw\n\n" + b"\0" * 64)
    with pytest.raises(InputError, match="claims 1e\\+09 voxels .2 GB., more than this computer's memory"):
        check_image_file(path, memory_bytes=10 ** 9)
    with pytest.raises(InputError, match="cut short"):
        check_image_file(path, memory_bytes=10 ** 12)


def test_empty_and_unknown_files_are_refused(tmp_path):
    (tmp_path / "empty.nii").write_bytes(b"")
    with pytest.raises(InputError, match="empty .0 bytes"):
        check_image_file(tmp_path / "empty.nii")
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 4, 5), np.uint8)), str(tmp_path / "x.tif"))
    assert image_format(tmp_path / "x.tif") is None
    with pytest.raises(InputError, match="formats MedRestore can check whole"):
        check_image_file(tmp_path / "x.tif")


def test_text_encodings_are_left_to_the_reader(tmp_path):
    path = tmp_path / "x.nrrd"
    path.write_bytes(b"NRRD0004\ntype: short\ndimension: 1\nsizes: 3\nencoding: ascii\n\n1 2 3\n")
    assert image_format(path) == "nrrd" and data_layout(path) is None
    check_image_file(path)
