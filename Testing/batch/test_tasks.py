"""One batch input, done without Dask: the engine's result written atomically and a record
with the reason when the input is bad (real files, real weights)."""
import numpy as np
import pytest

from MedRestoreLib.batch.inputs import discover
from MedRestoreLib.batch.tasks import FAILED, OK, SKIPPED, Task, preload, run_task, task_spec
from MedRestoreLib.cli import main
from MedRestoreLib.defects import corrupt
from MedRestoreLib.errors import InputError
from MedRestoreLib.models.loaded import LoadedModels
from MedRestoreLib.volume import read_volume, write_volume
from Testing.batch.test_inputs import write_dicom_series
from Testing.phantoms import head_phantom

CLASSICAL = {"detect": {"method": "median-mad"}, "fill": {"method": "biharmonic3d"}}


def damaged(path, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    volume, _, _ = corrupt(head_phantom(seed=seed), "mixed", seed=seed)
    write_volume(volume, path)
    return path


def test_a_restored_input_is_written_and_recorded(tmp_path):
    damaged(tmp_path / "in" / "a.nrrd")
    (item,) = discover(str(tmp_path / "in"), tmp_path / "out")
    record = run_task(item, task_spec("restore", CLASSICAL, "cpu"), LoadedModels())
    assert record["status"] == OK and record["reason"] == "" and record["output"] == "a.nrrd"
    assert record["voxels_changed"] > 0 and record["seconds"] > 0 and record["peak_memory_mb"] > 10
    restored = read_volume(tmp_path / "out" / "a.nrrd")
    assert restored.shape == (16, 40, 40) and restored.has_same_geometry(read_volume(tmp_path / "in" / "a.nrrd"))
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_a_bad_input_is_a_failed_record_with_one_line_and_no_output(tmp_path):
    path = damaged(tmp_path / "in" / "a.nrrd")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # truncated on disk
    (item,) = discover(str(tmp_path / "in"), tmp_path / "out")
    record = run_task(item, task_spec("restore", CLASSICAL, "cpu"), LoadedModels())
    assert record["status"] == FAILED and "\n" not in record["reason"] and str(path) in record["reason"]
    assert record["voxels_changed"] is None and not (tmp_path / "out" / "a.nrrd").exists()


def test_resume_keeps_an_output_that_reads_back_and_redoes_a_damaged_one(tmp_path):
    damaged(tmp_path / "in" / "a.nrrd")
    (item,) = discover(str(tmp_path / "in"), tmp_path / "out")
    spec = task_spec("restore", CLASSICAL, "cpu")
    assert run_task(item, spec, LoadedModels(), resume=True)["status"] == OK
    written = (tmp_path / "out" / "a.nrrd").stat()
    kept = run_task(item, spec, LoadedModels(), resume=True)
    assert kept["status"] == SKIPPED and (tmp_path / "out" / "a.nrrd").stat().st_mtime_ns == written.st_mtime_ns
    (tmp_path / "out" / "a.nrrd").write_bytes(b"NRRD0004\ntype: short\n")  # damaged since
    assert run_task(item, spec, LoadedModels(), resume=True)["status"] == OK
    assert read_volume(tmp_path / "out" / "a.nrrd").shape == (16, 40, 40)


def test_detect_and_impute_slices_write_what_their_commands_write(tmp_path):
    damaged(tmp_path / "in" / "a.nrrd")
    (item,) = discover(str(tmp_path / "in"), tmp_path / "out")
    run_task(item, task_spec("detect", {"method": "median-mad"}, "cpu"), LoadedModels())
    assert main(["detect", str(tmp_path / "in" / "a.nrrd"), str(tmp_path / "mask.nrrd"), "--detector", "median-mad",
                 "--device", "cpu", "--progress", "none"]) == 0
    assert np.array_equal(read_volume(item.output).array, read_volume(tmp_path / "mask.nrrd").array)
    record = run_task(item, task_spec("impute-slices", {"factor": 2, "model": "srn"}, "cpu"), LoadedModels())
    assert main(["impute-slices", str(tmp_path / "in" / "a.nrrd"), str(tmp_path / "thin.nrrd"), "--factor", "2",
                 "--model", "srn", "--device", "cpu", "--progress", "none"]) == 0
    thin = read_volume(tmp_path / "thin.nrrd")
    assert np.array_equal(read_volume(item.output).array, thin.array) and thin.shape == (32, 40, 40)
    assert record["voxels_changed"] == 32 * 40 * 40  # thick slices: every thin slice is computed


def test_a_dicom_series_is_read_by_its_uid(tmp_path):
    write_dicom_series(tmp_path / "in", "1.2.826.0.1.3680043.2.1125.9.1")
    write_dicom_series(tmp_path / "in", "1.2.826.0.1.3680043.2.1125.9.2", slices=4, first_file=10)
    items = discover(str(tmp_path / "in"), tmp_path / "out")
    for item, slices in zip(items, (3, 4)):
        assert run_task(item, task_spec("restore", CLASSICAL, "cpu"), LoadedModels())["status"] == OK
        assert read_volume(item.output).shape == (slices, 6, 5)


def test_preload_loads_the_networks_the_task_uses_once():
    models = LoadedModels()
    preload(task_spec("restore", device="cpu"), models)  # the defaults: LSTM detector, GAN fill
    assert len(models) == 2 and models.gan("cpu") is models.gan("cpu")
    preload(task_spec("restore", CLASSICAL, "cpu"), LoadedModels())  # nothing to load; no error
    slices = LoadedModels()
    preload(task_spec("impute-slices", {"factor": 2, "model": "lstm"}, "cpu"), slices)
    assert len(slices) == 1


@pytest.mark.parametrize("task, options, device, message", [
    ("resize", None, None, "unknown task 'resize'"),
    ("impute-slices", {"model": "srn"}, None, "needs a factor or the missing slices"),
    ("restore", {"fill": {"method": "magic"}}, None, "unknown fill method"),
    ("detect", None, "tpu", "unknown device 'tpu'"),
])
def test_a_bad_task_or_options_is_refused_before_any_work(task, options, device, message):
    with pytest.raises(InputError, match=message):
        task_spec(task, options, device)


def test_task_options_may_be_the_engine_dataclasses():
    from MedRestoreLib.options import RestoreOptions

    spec = task_spec("restore", RestoreOptions.from_dict(CLASSICAL), "cpu")
    assert spec.task is Task.RESTORE and spec.options["fill"]["method"] == "biharmonic3d" and spec.device == "cpu"
