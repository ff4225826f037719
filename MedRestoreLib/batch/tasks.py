"""One input of a batch, done: read it, run the engine exactly as the matching ``medrestore``
command does (same options, same calls, same writes), write the output atomically and return a
small record. Nothing here knows about Dask (:mod:`.worker` runs this on a Dask worker).

A bad input is a record with its one-line reason, never an exception: the batch goes on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from ..errors import Cancelled, InputError
from ..memory import peak_memory_kb
from ..models.loaded import LoadedModels
from ..options import DetectOptions, Device, RestoreOptions
from ..volume import Volume, VolumeKind
from .inputs import BatchInput

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


class Task(str, Enum):
    """What a batch does to each input (the ``medrestore`` command it matches)."""

    RESTORE = "restore"
    DETECT = "detect"
    IMPUTE_SLICES = "impute-slices"


@dataclass(frozen=True)
class TaskSpec:
    """A task and its validated options, as plain JSON values (sent to every worker).

    Attributes:
        task: the :class:`Task`.
        options: ``RestoreOptions`` / ``DetectOptions`` / ``SliceImputeOptions`` as ``to_dict()``.
        device: where torch work runs ("auto", "cpu", "cuda"), resolved on each worker.
    """

    task: Task
    options: Dict[str, Any]
    device: str = "auto"


def task_spec(task, options=None, device: Optional[str] = None) -> TaskSpec:
    """Validate ``options`` (an options dataclass, a dict as its ``to_dict()``, or None for the
    defaults) for ``task``; ``device`` overrides the options' own.

    Raises:
        InputError: unknown task or bad options (impute-slices needs ``factor`` or ``missing``).
    """
    from ..imputation.slices import SliceImputeOptions

    try:
        task = Task(task)
    except ValueError:
        raise InputError(f"unknown task '{task}' (choose one of: {', '.join(t.value for t in Task)})") from None
    kind = {Task.RESTORE: RestoreOptions, Task.DETECT: DetectOptions, Task.IMPUTE_SLICES: SliceImputeOptions}[task]
    values = options.to_dict() if hasattr(options, "to_dict") else dict(options or {})
    if device is not None and task is not Task.DETECT:
        values["device"] = device
    if task is Task.IMPUTE_SLICES and values.get("factor") is None and values.get("missing") is None:
        raise InputError("impute-slices needs a factor or the missing slices (--factor or --missing)")
    resolved = kind.from_dict(values).to_dict()
    device = resolved.get("device", device or "auto")
    if device not in [d.value for d in Device]:
        raise InputError(f"unknown device '{device}' (choose one of: {', '.join(d.value for d in Device)})")
    return TaskSpec(task, resolved, device)


def run_task(item: BatchInput, spec: TaskSpec, models: LoadedModels, resume: bool = False) -> Dict[str, Any]:
    """Do ``item``; returns its record (input, output, status, reason, voxels_changed, seconds,
    peak_memory_mb). With ``resume``, an output that exists and reads back is kept (status skipped).

    Only Cancelled and KeyboardInterrupt propagate: every other failure is the record's reason.
    """
    started = time.perf_counter()
    record: Dict[str, Any] = {"input": item.label, "output": item.name, "status": OK, "reason": "",
                              "voxels_changed": None}
    if resume and output_is_valid(item.output):
        record.update(status=SKIPPED, reason="output exists and reads back (--resume)")
    else:
        try:
            record["voxels_changed"] = int(_RUNNERS[Task(spec.task)](item, spec, models))
        except (Cancelled, KeyboardInterrupt):
            raise
        except InputError as error:
            record.update(status=FAILED, reason=_one_line(str(error)))
        except Exception as error:  # noqa: BLE001 - any failure of one input is that input's row
            record.update(status=FAILED, reason=_one_line(f"{type(error).__name__}: {error}"))
    record.update(seconds=round(time.perf_counter() - started, 3), peak_memory_mb=round(peak_memory_kb() / 1024, 1))
    return record


def output_is_valid(path) -> bool:
    """The output exists and reads back as a non-empty image (writes are atomic, so a file that
    exists was finished; reading it also refuses one damaged since)."""
    import SimpleITK as sitk

    if not Path(path).is_file():
        return False
    try:
        return 0 not in sitk.ReadImage(str(path)).GetSize()
    except RuntimeError:
        return False


def preload(spec: TaskSpec, models: LoadedModels) -> None:
    """Load the networks ``spec`` will use into ``models`` (a worker does this once, at start)."""
    from ..devices import resolve_device
    from ..imputation.slices import SliceModel
    from ..options import DetectorMethod, FillMethod

    device = resolve_device(spec.device)
    if spec.task is Task.IMPUTE_SLICES:
        if SliceModel(spec.options["model"]) in (SliceModel.LSTM, SliceModel.SRN):
            models.slice_network(spec.options["model"])
        return
    detect = spec.options if spec.task is Task.DETECT else spec.options["detect"]
    if DetectorMethod(detect["method"]) is not DetectorMethod.MEDIAN_MAD:
        models.localizer(device)
    fill = FillMethod(spec.options["fill"]["method"]) if spec.task is Task.RESTORE else None
    if fill in (FillMethod.GAN, FillMethod.AUTO):  # auto tries the GAN among its candidates
        models.gan(device)
    elif fill is FillMethod.UNET:
        from ..inpainting.gan_filler import UNET_MODEL_ID

        models.gan(device, UNET_MODEL_ID)


def _one_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return (lines[0] if lines else "unknown error")[:limit]


def _dicom_series(folder: str, uid: str) -> Volume:
    import SimpleITK as sitk

    from ..volume import volume_from_sitk

    try:
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder, uid)
        image = sitk.ReadImage(files)
    except RuntimeError as error:
        raise InputError(f"{folder}: DICOM series {uid} cannot be read ({_one_line(str(error), 200)})") from None
    return volume_from_sitk(image)


def _frames(item: BatchInput) -> List[Volume]:
    """The input's frames as ``medrestore restore`` reads them (a 3-D image is one frame)."""
    from ..volume import read_series

    return [_dicom_series(item.source, item.series_uid)] if item.series_uid else read_series(item.source)


def _volume(item: BatchInput) -> Volume:
    from ..volume import read_volume

    return _dicom_series(item.source, item.series_uid) if item.series_uid else read_volume(item.source)


def _output(item: BatchInput) -> str:
    Path(item.output).parent.mkdir(parents=True, exist_ok=True)
    return item.output


def _restore(item: BatchInput, spec: TaskSpec, models: LoadedModels) -> int:
    from ..pipeline import restore
    from ..volume import read_volume, write_series, write_volume

    options = RestoreOptions.from_dict(spec.options)
    frames = _frames(item)
    mask = read_volume(item.mask, VolumeKind.LABEL) if item.mask else None
    results = [restore(frame, options, mask=mask, models=models) for frame in frames]
    if len(results) == 1:
        write_volume(results[0].volume, _output(item))
    else:
        write_series([result.volume for result in results], _output(item))
    return sum(result.report.voxels_changed for result in results)


def _detect(item: BatchInput, spec: TaskSpec, models: LoadedModels) -> int:
    from ..pipeline import detect
    from ..volume import write_volume

    mask, _ = detect(_volume(item), DetectOptions.from_dict(spec.options), device=spec.device, models=models)
    write_volume(mask, _output(item))
    return int(np.count_nonzero(mask.array))


def _impute_slices(item: BatchInput, spec: TaskSpec, models: LoadedModels) -> int:
    from ..imputation.slices import SliceImputeOptions, impute_slices
    from ..volume import write_volume

    result = impute_slices(_volume(item), SliceImputeOptions.from_dict(spec.options), models=models)
    write_volume(result.volume, _output(item))
    return int(result.filled.sum()) * int(np.prod(result.volume.shape[1:]))


_RUNNERS: Dict[Task, Callable[[BatchInput, TaskSpec, LoadedModels], int]] = {
    Task.RESTORE: _restore, Task.DETECT: _detect, Task.IMPUTE_SLICES: _impute_slices}
