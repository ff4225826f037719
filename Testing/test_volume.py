"""Volume model and file I/O: geometry kept exactly, LPS↔RAS right, bad files rejected clearly."""
import os

import numpy as np
import pytest
import SimpleITK as sitk

from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import (
    Volume,
    VolumeKind,
    read_series,
    read_volume,
    sitk_from_volume,
    volume_from_sitk,
    write_series,
    write_volume,
)
from Testing.dicom_files import write_dicom_series


def oblique_volume(dtype=np.int16, shape=(5, 6, 7), seed=0):
    """A volume with anisotropic spacing, an oblique direction and a non-zero origin."""
    rng = np.random.default_rng(seed)
    angle = np.deg2rad(23.0)
    rotation_z = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    tilt = np.deg2rad(11.0)
    rotation_x = np.array([[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]])
    array = rng.integers(-1000, 3000, size=shape).astype(dtype)
    return Volume.from_geometry(array, spacing=(0.7, 0.9, 3.0), origin=(-12.5, 30.25, 7.0),
                                direction=rotation_z @ rotation_x)


@pytest.mark.parametrize("extension", [".nrrd", ".mha", ".nii.gz", ".nii"])
@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32])
def test_round_trip_keeps_data_and_geometry(tmp_path, extension, dtype):
    volume = oblique_volume(dtype)
    path = tmp_path / f"volume{extension}"
    write_volume(volume, path)
    back = read_volume(path)
    assert back.array.dtype == volume.array.dtype
    np.testing.assert_array_equal(back.array, volume.array)
    if extension in (".nrrd", ".mha"):
        # Full double precision in the header: only the last bit of (direction, spacing) →
        # matrix products may differ, and a second round trip changes nothing at all.
        np.testing.assert_allclose(back.ijk_to_ras, volume.ijk_to_ras, rtol=0, atol=1e-12)
        write_volume(back, path)
        np.testing.assert_array_equal(read_volume(path).ijk_to_ras, back.ijk_to_ras)
    else:
        # NIfTI stores its affine in float32: exact to float32 precision.
        np.testing.assert_allclose(back.ijk_to_ras, volume.ijk_to_ras, rtol=0, atol=1e-5)


def test_lps_to_ras_matches_slicer_convention():
    # SLICER_NOTES: IJK→RAS = diag(-1,-1,1)·direction_LPS·diag(spacing); origin flips x and y.
    image = sitk.GetImageFromArray(np.zeros((2, 3, 4), np.int16))
    image.SetSpacing((0.5, 2.0, 3.0))
    image.SetOrigin((10.0, 20.0, 30.0))
    volume = volume_from_sitk(image)
    expected = np.array([[-0.5, 0, 0, -10.0], [0, -2.0, 0, -20.0], [0, 0, 3.0, 30.0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(volume.ijk_to_ras, expected)
    again = sitk_from_volume(volume)
    assert again.GetOrigin() == (10.0, 20.0, 30.0)
    assert again.GetSpacing() == (0.5, 2.0, 3.0)
    np.testing.assert_array_equal(np.array(again.GetDirection()), np.eye(3).ravel())


def test_properties_decompose_the_matrix():
    volume = oblique_volume()
    np.testing.assert_allclose(volume.spacing, [0.7, 0.9, 3.0])
    np.testing.assert_allclose(volume.origin, [-12.5, 30.25, 7.0])
    np.testing.assert_allclose(volume.direction.T @ volume.direction, np.eye(3), atol=1e-12)


def test_two_d_image_is_a_one_slice_volume(tmp_path):
    image = sitk.GetImageFromArray(np.arange(12, dtype=np.uint8).reshape(3, 4))
    image.SetSpacing((0.25, 0.5))
    path = tmp_path / "slice.png"
    sitk.WriteImage(image, str(path))
    volume = read_volume(path)
    assert volume.shape == (1, 3, 4)
    np.testing.assert_array_equal(volume.array[0], np.arange(12).reshape(3, 4))


def test_four_d_file_is_a_series(tmp_path):
    frames = [oblique_volume(np.float32, seed=n) for n in range(3)]
    frames = [frames[0].with_array(f.array) for f in frames]  # one geometry
    path = tmp_path / "series.nii.gz"
    write_series(frames, path)
    back = read_series(path)
    assert len(back) == 3
    for original, read in zip(frames, back):
        np.testing.assert_array_equal(read.array, original.array)
        np.testing.assert_allclose(read.ijk_to_ras, original.ijk_to_ras, atol=1e-5)
    with pytest.raises(InputError, match="4-D series"):
        read_volume(path)


def test_three_d_file_read_as_series_is_one_frame(tmp_path):
    volume = oblique_volume()
    write_volume(volume, tmp_path / "v.nrrd")
    assert len(read_series(tmp_path / "v.nrrd")) == 1


def test_dicom_folder(tmp_path):
    volume = oblique_volume(np.int16, shape=(4, 6, 5))
    write_dicom_series(volume, tmp_path)
    back = read_volume(tmp_path)
    np.testing.assert_array_equal(back.array, volume.array)
    np.testing.assert_allclose(back.ijk_to_ras, volume.ijk_to_ras, atol=1e-6)


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_volume(tmp_path / "absent.nrrd")


def test_unreadable_file_is_input_error(tmp_path):
    path = tmp_path / "garbage.nrrd"
    path.write_bytes(b"this is not an image")
    with pytest.raises(InputError, match="cannot be read"):
        read_volume(path)


def test_rgb_image_is_input_error(tmp_path):
    path = tmp_path / "rgb.png"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 5, 3), np.uint8), isVector=True), str(path))
    with pytest.raises(InputError, match="RGB or vector"):
        read_volume(path)


def test_write_into_missing_folder_writes_nothing(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_volume(oblique_volume(), tmp_path / "no" / "such" / "folder.nrrd")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path):
    with pytest.raises(InputError):
        write_volume(oblique_volume(), tmp_path / "volume.unknownformat")
    assert list(tmp_path.iterdir()) == []


def test_written_file_has_the_usual_permissions(tmp_path):
    write_volume(oblique_volume(), tmp_path / "v.nrrd")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "v.nrrd").stat().st_mode & 0o777 == 0o666 & ~umask


def test_volume_rejects_non_3d_arrays():
    with pytest.raises(InputError, match="3-D"):
        Volume(np.zeros((3, 4)))


def test_with_array_keeps_geometry_and_sets_kind():
    volume = oblique_volume()
    mask = volume.with_array(np.zeros(volume.shape, np.uint8), VolumeKind.LABEL)
    assert mask.kind == VolumeKind.LABEL
    assert mask.has_same_geometry(volume)
    with pytest.raises(ValueError):
        volume.with_array(np.zeros((1, 2, 3)))


def test_a_4d_file_read_as_a_volume_says_what_to_do(tmp_path):
    write_series([oblique_volume(), oblique_volume(seed=1)], tmp_path / "s.nrrd")
    with pytest.raises(InputError, match="this is a 4-D series .2 frames., not a 3-D volume: use impute-sequence"):
        read_volume(tmp_path / "s.nrrd")
