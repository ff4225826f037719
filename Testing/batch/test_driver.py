"""run_batch, the Python API, on a real embedded cluster: progress counts, masks from a manifest,
an input that kills its worker every time, an unreachable scheduler."""
import numpy as np
import pytest

from MedRestoreLib.batch import BatchSettings, run_batch
from MedRestoreLib.errors import ExitStatus, InputError
from MedRestoreLib.options import RestoreOptions
from MedRestoreLib.volume import Volume, read_volume, write_volume
from Testing.phantoms import box_mask, head_phantom

pytest.importorskip("distributed")

CLASSICAL = RestoreOptions.from_dict({"detect": {"method": "median-mad"}, "fill": {"method": "biharmonic3d"}})


def test_masks_from_a_manifest_are_filled_and_progress_counts_each_input(tmp_path):
    volume = head_phantom()
    for n in range(3):
        write_volume(volume, tmp_path / f"v{n}.nrrd")
        write_volume(volume.with_array(box_mask(volume.shape, (6, 18, 18), (9, 21 + n, 22))), tmp_path / f"m{n}.nrrd")
    (tmp_path / "list.csv").write_text("input,mask,output\n" + "".join(
        f"v{n}.nrrd,m{n}.nrrd,fixed/v{n}.nii.gz\n" for n in range(3)))
    events = []
    result = run_batch(tmp_path / "list.csv", tmp_path / "out", "restore", CLASSICAL, device="cpu",
                       settings=BatchSettings(workers=1), progress=lambda f, m: events.append((f, m)))
    assert (result.total, result.done, result.failed, result.status) == (3, 3, 0, ExitStatus.OK)
    assert events[-1] == (1.0, "3 done, 0 failed, 0 remaining") and events[0][1].startswith("3 inputs on 1 Dask worker")
    assert [m for _, m in events[1:]] == [f"{n} done, 0 failed, {3 - n} remaining" for n in (1, 2, 3)]
    for n in range(3):
        restored = read_volume(tmp_path / "out" / "fixed" / f"v{n}.nii.gz")
        changed = restored.array != volume.array
        assert changed.any() and not changed[box_mask(volume.shape, (6, 18, 18), (9, 21 + n, 22)) == 0].any()
    rows = (tmp_path / "out" / "summary.csv").read_text().splitlines()[1:]
    assert [row.split(",")[4] for row in rows] == [str(3 * (3 + n) * 4) for n in range(3)]  # voxels changed


def test_an_input_that_kills_its_worker_each_time_is_reported_and_the_rest_done(tmp_path):
    # 400³ float32 (a few kB compressed) needs well over the 1 GB the worker may use: the Nanny
    # terminates the worker each time it runs it; after --retries 1 the input is reported and skipped.
    big = np.zeros((400, 400, 400), np.float32)
    big[200, 200, 200] = 5
    (tmp_path / "in").mkdir()
    write_volume(Volume(big), tmp_path / "in" / "big.nrrd")
    write_volume(head_phantom(), tmp_path / "in" / "small.nrrd")
    result = run_batch(tmp_path / "in", tmp_path / "out", "restore", CLASSICAL, device="cpu",
                       settings=BatchSettings(workers=1, retries=1, memory_limit="1GB"))
    assert (result.done, result.failed, result.status) == (1, 1, ExitStatus.SOME_FAILED)
    rows = (tmp_path / "out" / "summary.csv").read_text()
    assert "the worker died each of the 2 times it ran this input" in rows
    assert not (tmp_path / "out" / "big.nrrd").exists() and (tmp_path / "out" / "small.nrrd").exists()
    assert not list((tmp_path / "out").glob(".big*"))


def test_a_mask_for_another_task_or_an_unreachable_scheduler_is_refused_and_nothing_written(tmp_path):
    write_volume(head_phantom(), tmp_path / "v.nrrd")
    (tmp_path / "list.csv").write_text("input,mask\nv.nrrd,v.nrrd\n")
    with pytest.raises(InputError, match="a mask applies to --task restore only"):
        run_batch(tmp_path / "list.csv", tmp_path / "out", "detect")
    with pytest.raises(InputError, match="exists and is not a folder"):
        run_batch(tmp_path / "list.csv", tmp_path / "v.nrrd")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_batch(tmp_path / "v.nrrd", tmp_path / "out", settings=BatchSettings(scheduler="tcp://127.0.0.1:9",
                                                                                 connect_timeout=1))
    assert not (tmp_path / "out").exists()
