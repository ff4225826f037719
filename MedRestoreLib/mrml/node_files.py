"""Nodes to files and back for background runs: the inputs of a CLI run are exported into its
temporary folder, and only after the run succeeds are its outputs imported as new nodes.

MRML and VTK only (no Qt), so the tests run it on a real scene from the ``slicer-core`` wheel.
Volumes go through the same ``Volume`` conversion and SimpleITK writer as the engine (so the
child reads exactly the voxels and IJK→RAS the node holds); tables through MRML's table storage
node (CSV).

Example (Slicer Python console; the panel does the same with a progress bar and Cancel):
    >>> run = prepare_restore(MedRestoreLogic(), getNode("MRHead"))
    >>> subprocess.run(run.command(), env=run.environment(), check=True)
    >>> restored = run.collect(run)
    >>> run.cleanup()
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import slicer

from ..background.run import (
    SEQUENCE_MODEL_DEFAULT,
    SLICE_MODEL_DEFAULT,
    BackgroundRun,
    impute_sequence_arguments,
    impute_slices_arguments,
    restore_arguments,
)
from ..errors import InputError
from ..volume import VolumeKind, read_series, read_volume, write_series, write_volume
from .nodes import (
    checkScalarVolume,
    copyDisplay,
    imputedIndexValues,
    nodeLabel,
    removedOnError,
    sequenceIndexTimes,
    sequenceVolumeNodes,
    updateNodeFromVolume,
    volumeFromNode,
)

# --- export ------------------------------------------------------------------------------------

def export_volume(volumeNode, path) -> None:
    """Write a scalar volume node's voxels and geometry to ``path`` (format from the extension)."""
    write_volume(volumeFromNode(volumeNode), path)


def export_sequence(sequenceNode, path) -> None:
    """Write a sequence of scalar volumes as one 4-D image (time is the 4th axis)."""
    frames = [volumeFromNode(item) for item in sequenceVolumeNodes(sequenceNode)]
    write_series(frames, path)


def export_table(tableNode, path) -> None:
    """Write a table node as CSV (one row per visit, the layout ``impute-sequence`` reads)."""
    storage = slicer.vtkMRMLTableStorageNode()
    storage.SetFileName(str(path))
    if not storage.WriteData(tableNode):
        raise InputError(f"the table '{tableNode.GetName()}' could not be written to {path}")


# --- import ------------------------------------------------------------------------------------

def import_volume(scene, path, name: str, like=None):
    """A new scalar volume node holding the image at ``path``; display copied from ``like``."""
    with removedOnError(scene) as added:
        node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", scene.GenerateUniqueName(name))
        added.append(node)
        updateNodeFromVolume(node, read_volume(path))
        copyDisplay(node, like)
    return node


def _index_values(like, count: int) -> List[str]:
    """Index values for ``count`` frames: ``like``'s own, then its forecast times (as the engine
    placed them, :func:`imputedIndexValues`); 0, 1, 2, ... without a sequence to follow."""
    if like is None or not like.IsA("vtkMRMLSequenceNode"):
        return [str(n) for n in range(count)]
    return imputedIndexValues(like, max(0, count - like.GetNumberOfDataNodes()))[:count]


def import_sequence(scene, path, name: str, like=None):
    """A new sequence node (and a browser to play it) holding the 4-D image at ``path``; index
    name, unit and values follow ``like`` (the input sequence), forecast frames included."""
    with removedOnError(scene) as added:
        sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", scene.GenerateUniqueName(name))
        added.append(sequence)
        if like is not None and like.IsA("vtkMRMLSequenceNode"):
            sequence.SetIndexName(like.GetIndexName())
            sequence.SetIndexUnit(like.GetIndexUnit())
            sequence.SetIndexType(like.GetIndexType())
        frames = read_series(path)
        for n, (frame, value) in enumerate(zip(frames, _index_values(like, len(frames)))):
            item = slicer.vtkMRMLScalarVolumeNode()  # outside the scene: the sequence keeps a copy
            item.SetName(f"{name} {n}")
            updateNodeFromVolume(item, frame)
            sequence.SetDataNodeAtValue(item, value)
        browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", f"{sequence.GetName()} browser")
        added.append(browser)
        browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    return sequence


def import_table(scene, path, name: str):
    """A new table node read from a CSV file."""
    with removedOnError(scene) as added:
        node = scene.AddNewNodeByClass("vtkMRMLTableNode", scene.GenerateUniqueName(name))
        added.append(node)
        storage = slicer.vtkMRMLTableStorageNode()
        storage.SetFileName(str(path))
        if not storage.ReadData(node):
            raise InputError(f"{path}: not a readable table")
    return node


# --- runs --------------------------------------------------------------------------------------

def _still_in_scene(scene, *nodes) -> None:
    """A run's results go next to its input: refuse them when a node was deleted meanwhile."""
    for node in nodes:
        if node is not None and (scene is None or not scene.IsNodePresent(node)):
            raise InputError(f"{nodeLabel(node)} was removed from the scene while MedRestore worked on it; "
                             "nothing was added")


def prepare_restore(logic, inputNode, knownMaskNode=None, outputNode=None, *, method=None,
                    detector=None, device: str = "auto", seed: int = 0,
                    parent: Optional[str] = None) -> BackgroundRun:
    """Export the input (and known mask) and build the ``restore`` command; ``run.collect(run)``
    then adds the results exactly as ``MedRestoreLogic.restore`` does and returns the output node.
    """
    checkScalarVolume(inputNode)
    scene = logic.scene or inputNode.GetScene()
    run = BackgroundRun.create(f"repair {inputNode.GetName()}", parent)
    try:
        export_volume(inputNode, run.path("input.nrrd"))
        mask = None
        if knownMaskNode is not None:
            mask = run.path("known-mask.nrrd")
            write_volume(logic.readMask(scene, knownMaskNode, inputNode), mask)
        run.arguments = restore_arguments(
            run.path("input.nrrd"), run.path("restored.nrrd"), mask_path=mask, method=method,
            detector=detector, device=device, seed=seed, mask_out=run.path("defects.nrrd"),
            prob_out=None if mask else run.path("probability.nrrd"), report=run.path("report.json"))
    except BaseException:
        run.cleanup()
        raise

    def collect(finished: BackgroundRun):
        from ..pipeline import RestoreReport, RestoreResult

        _still_in_scene(scene, inputNode, outputNode)
        report = json.loads(finished.path("report.json").read_text())["frames"][0]
        probability = finished.path("probability.nrrd")
        result = RestoreResult(
            read_volume(finished.path("restored.nrrd")),
            read_volume(finished.path("defects.nrrd"), VolumeKind.LABEL),
            read_volume(probability) if probability.exists() else None,
            RestoreReport(**report))
        return logic.addRestoreOutputs(inputNode, result, outputNode, knownMaskNode)

    run.collect = collect
    return run


def prepare_impute_slices(inputNode, *, factor=None, missing=None, model: str = SLICE_MODEL_DEFAULT,
                          device: str = "auto", parent: Optional[str] = None) -> BackgroundRun:
    """``impute-slices`` on a volume node; ``run.collect(run)`` returns a new volume node."""
    checkScalarVolume(inputNode)
    scene = inputNode.GetScene()
    run = BackgroundRun.create(f"fill slices of {inputNode.GetName()}", parent)
    try:
        run.arguments = impute_slices_arguments(run.path("input.nrrd"), run.path("imputed.nrrd"),
                                                factor=factor, missing=missing, model=model, device=device)
        export_volume(inputNode, run.path("input.nrrd"))
    except BaseException:
        run.cleanup()
        raise

    def collect(finished: BackgroundRun):
        _still_in_scene(scene, inputNode)
        node = import_volume(scene, finished.path("imputed.nrrd"), f"{inputNode.GetName()} slices imputed", inputNode)
        for key, value in header_fields(finished.path("imputed.nrrd"), "MedRestore.").items():
            node.SetAttribute(key, value)  # the model used; what auto chose (as the logic sets them)
        return node

    run.collect = collect
    return run


def _with_choice(node, sidecar: Path):
    """``node`` with the ``MedRestore.auto`` attribute from the CLI's JSON sidecar, when written."""
    if Path(sidecar).exists():
        node.SetAttribute("MedRestore.auto", json.dumps(json.loads(Path(sidecar).read_text())["auto"],
                                                        separators=(",", ":")))
    return node


def header_fields(path, prefix: str) -> dict:
    """The header key/values of an image file whose keys start with ``prefix``."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    return {key: reader.GetMetaData(key) for key in reader.GetMetaDataKeys() if key.startswith(prefix)}


def prepare_impute_sequence(inputNode, *, missing="auto", model: str = SEQUENCE_MODEL_DEFAULT, forecast: int = 0,
                            device: str = "auto", parent: Optional[str] = None) -> BackgroundRun:
    """``impute-sequence`` on a sequence node (→ new sequence node) or a table node (→ new table).

    A sequence's index values go to the CLI as ``--times`` (when they are numbers), as
    ``MedRestoreLogic.imputeSequence`` passes them to the engine: both give the same frames.
    """
    isTable = inputNode is not None and inputNode.IsA("vtkMRMLTableNode")
    if inputNode is None or not (isTable or inputNode.IsA("vtkMRMLSequenceNode")):
        raise InputError("choose a sequence of volumes or a table of visits")
    suffix = ".csv" if isTable else ".nrrd"
    times = None if isTable else sequenceIndexTimes(inputNode)[0]
    run = BackgroundRun.create(f"fill time points of {inputNode.GetName()}", parent)
    try:
        run.arguments = impute_sequence_arguments(run.path("input" + suffix), run.path("imputed" + suffix),
                                                  missing=missing, model=model, forecast=forecast,
                                                  times=times, device=device)
        (export_table if isTable else export_sequence)(inputNode, run.path("input" + suffix))
    except BaseException:
        run.cleanup()
        raise
    name, scene = f"{inputNode.GetName()} imputed", inputNode.GetScene()

    def collect(finished: BackgroundRun):
        _still_in_scene(scene, inputNode)
        if isTable:
            return _with_choice(import_table(scene, finished.path("imputed.csv"), name),
                                finished.path("imputed.csv.json"))
        return import_sequence(scene, finished.path("imputed.nrrd"), name, inputNode)

    run.collect = collect
    return run


def output_files(run: BackgroundRun) -> List[Path]:
    """The files the run has written so far (for tests and the log)."""
    return sorted(p for p in run.folder.iterdir() if p.is_file())
