"""Finding a batch's inputs: folders (nested, DICOM series), globs and CSV manifests, each with
the output path it gets (real files, read by SimpleITK)."""
import locale

import numpy as np
import pytest
import SimpleITK as sitk

from MedRestoreLib.batch.inputs import discover
from MedRestoreLib.errors import InputError
from MedRestoreLib.volume import Volume, write_volume

STUDY = "1.2.826.0.1.3680043.2.1125.7.1"


def write_image(path, value=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_volume(Volume(np.full((3, 4, 5), value, np.int16)), path)
    return path


def write_dicom_series(folder, uid, slices=3, first_file=0):
    """One DICOM file per slice, tagged with the series UID (as a scanner exports them)."""
    folder.mkdir(parents=True, exist_ok=True)
    # GDCM's writer switches the process to the C locale and leaves it so (Python's default text
    # encoding would become ASCII for every later test): put it back.
    previous = locale.setlocale(locale.LC_ALL)
    try:
        _write_slices(folder, uid, slices, first_file)
    finally:
        locale.setlocale(locale.LC_ALL, previous)


def _write_slices(folder, uid, slices, first_file):
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    writer.SetImageIO("GDCMImageIO")  # scanners often write DICOM files without an extension
    for k in range(slices):
        image = sitk.GetImageFromArray(np.full((6, 5), 100 * (k + 1), np.int16))
        tags = {"0008|0060": "MR", "0020|000d": STUDY, "0020|000e": uid, "0020|0013": str(k + 1),
                "0020|0032": f"0\\0\\{2.0 * k}", "0020|0037": "1\\0\\0\\0\\1\\0", "0028|0030": "1\\1",
                "0018|0050": "2", "0008|0018": f"{uid}.{k + 1}"}
        for tag, value in tags.items():
            image.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"IM{first_file + k:04d}"))
        writer.Execute(image)


def test_a_folder_is_searched_recursively_and_outputs_mirror_its_tree(tmp_path):
    write_image(tmp_path / "in" / "a.nrrd")
    write_image(tmp_path / "in" / "deep" / "er" / "b.nii.gz")
    write_image(tmp_path / "in" / "c.mha")
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    write_image(tmp_path / "in" / ".hidden.nrrd")  # e.g. an interrupted atomic write's temporary file
    items = discover(str(tmp_path / "in"), tmp_path / "out")
    assert [item.name for item in items] == ["a.nrrd", "c.mha", "deep/er/b.nii.gz"]
    assert items[2].output == str((tmp_path / "out" / "deep" / "er" / "b.nii.gz").resolve())
    assert items[2].source == str(tmp_path / "in" / "deep" / "er" / "b.nii.gz")


def test_an_output_folder_inside_the_input_folder_is_not_searched(tmp_path):
    write_image(tmp_path / "a.nrrd")
    write_image(tmp_path / "out" / "a.nrrd")  # last run's output
    assert [item.name for item in discover(str(tmp_path), tmp_path / "out")] == ["a.nrrd"]


def test_dicom_files_become_one_input_per_series(tmp_path):
    write_dicom_series(tmp_path / "in" / "patient", "1.2.826.0.1.3680043.2.1125.7.2")
    write_dicom_series(tmp_path / "in" / "patient", "1.2.826.0.1.3680043.2.1125.7.3", slices=4, first_file=10)
    items = discover(str(tmp_path / "in"), tmp_path / "out")
    assert [item.name for item in items] == ["patient/1.2.826.0.1.3680043.2.1125.7.2.nrrd",
                                             "patient/1.2.826.0.1.3680043.2.1125.7.3.nrrd"]
    assert {item.series_uid for item in items} == {"1.2.826.0.1.3680043.2.1125.7.2", "1.2.826.0.1.3680043.2.1125.7.3"}
    assert all(item.source == str(tmp_path / "in" / "patient") for item in items)


def test_a_glob_mirrors_the_tree_below_its_fixed_part(tmp_path):
    write_image(tmp_path / "scans" / "s1" / "t1.nrrd")
    write_image(tmp_path / "scans" / "s2" / "t1.nrrd")
    write_image(tmp_path / "scans" / "s2" / "t2.nrrd")
    items = discover(str(tmp_path / "scans" / "**" / "t1.nrrd"), tmp_path / "out")
    assert [item.name for item in items] == ["s1/t1.nrrd", "s2/t1.nrrd"]


def test_a_manifest_gives_masks_and_output_names_relative_to_itself(tmp_path):
    write_image(tmp_path / "data" / "a.nrrd")
    write_image(tmp_path / "data" / "b.nrrd")
    write_image(tmp_path / "data" / "b-mask.nrrd")
    (tmp_path / "data" / "list.csv").write_text("input,mask,output\na.nrrd,,\nb.nrrd,b-mask.nrrd,sub/b-fixed.nii.gz\n")
    items = discover(str(tmp_path / "data" / "list.csv"), tmp_path / "out")
    assert [(item.name, item.mask) for item in items] == [
        ("a.nrrd", None), ("sub/b-fixed.nii.gz", str(tmp_path / "data" / "b-mask.nrrd"))]


@pytest.mark.parametrize("text, message", [
    ("file,mask\na.nrrd,\n", "needs an 'input' column"),
    ("input,output\na.nrrd,../escape.nrrd\n", "inside the output folder"),
    ("input,output\na.nrrd,x.nrrd\nb.nrrd,x.nrrd\n", "would both be written to"),
    ("input,output\na.nrrd,x.txt\n", "needs an image extension"),
    ("input\n\n,\n", "the input is empty"),
])
def test_a_bad_manifest_is_refused_with_its_line(tmp_path, text, message):
    (tmp_path / "list.csv").write_text(text)
    with pytest.raises(InputError, match=message):
        discover(str(tmp_path / "list.csv"), tmp_path / "out")


def test_nothing_to_do_or_overwriting_an_input_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no NRRD, NIfTI, MetaImage or DICOM input found"):
        discover(str(tmp_path / "empty"), tmp_path / "out")
    with pytest.raises(InputError, match="no such file or folder"):
        discover(str(tmp_path / "missing"), tmp_path / "out")
    write_image(tmp_path / "a.nrrd")
    (tmp_path / "list.csv").write_text("input,output\na.nrrd,a.nrrd\n")
    with pytest.raises(InputError, match="refusing to overwrite an input"):
        discover(str(tmp_path / "list.csv"), tmp_path)
