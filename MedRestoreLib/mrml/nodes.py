"""Node operations every MRML entry point shares: node ↔ Volume, a mask node as a Volume, the
scalar volumes of a sequence, display copied from the input, and removing the nodes a failed
call added.

MRML and VTK only (no Qt), so the same code runs in Slicer and on the ``slicer-core`` scene of
the tests. Slicer-facing names (camelCase), as in the logic.
"""
from __future__ import annotations

import contextlib
from typing import Iterable, Iterator, List, Optional, Tuple

import numpy as np
import slicer
import vtk

from ..errors import InputError, one_line
from ..volume import Volume, VolumeKind


def isScalarVolume(node) -> bool:
    """A grey-level volume node: scalar, not a label map (diffusion and vector nodes are other classes)."""
    return node is not None and node.IsA("vtkMRMLScalarVolumeNode") and not node.IsA("vtkMRMLLabelMapVolumeNode")


def nodeLabel(node) -> str:
    """A node's name for a one-line message (names may hold line breaks)."""
    return f"'{one_line(node.GetName() or '')}'"


def checkScalarVolume(node) -> None:
    """Raise :class:`InputError`, saying what the node is, unless it is a grey-level volume node."""
    if node is None:
        raise InputError("choose a volume")
    if node.IsA("vtkMRMLLabelMapVolumeNode"):
        raise InputError(f"{nodeLabel(node)} is a label map, not a scalar volume of intensities: choose the "
                         "grey-level image (a label map can be given as the known defect mask)")
    if not node.IsA("vtkMRMLScalarVolumeNode"):
        raise InputError(f"{nodeLabel(node)} ({node.GetClassName()}) is not a scalar volume: choose a grey-level image")


def volumeFromNode(volumeNode, kind: VolumeKind = VolumeKind.INTENSITY) -> Volume:
    """Copy a scalar volume (or label map) node's voxels (k, j, i) and IJK→RAS into a Volume.

    Raises:
        InputError: no image data, or several values per voxel (RGB, vector, diffusion, 4-D).
    """
    imageData = volumeNode.GetImageData()
    if imageData is None or imageData.GetNumberOfPoints() == 0:
        raise InputError(f"{nodeLabel(volumeNode)} holds no image data (load or compute the image first)")
    components = imageData.GetNumberOfScalarComponents()
    if volumeNode.IsA("vtkMRMLDiffusionImageVolumeNode"):
        raise InputError(f"{nodeLabel(volumeNode)} is a diffusion volume; MedRestore needs a scalar (grey-level) "
                         "volume")
    if 1 < components <= 4:
        raise InputError(f"{nodeLabel(volumeNode)} is an RGB or vector volume ({components} values per voxel); "
                         "MedRestore needs a scalar (grey-level) volume")
    if components != 1:
        raise InputError(f"{nodeLabel(volumeNode)} holds {components} values per voxel (a 4-D series): put its "
                         "frames in a sequence (Sequences module) to fill missing frames, or extract one frame "
                         "to repair it")
    matrix = vtk.vtkMatrix4x4()
    volumeNode.GetIJKToRASMatrix(matrix)
    return Volume(np.array(slicer.util.arrayFromVolume(volumeNode)),
                  slicer.util.arrayFromVTKMatrix(matrix), kind)


def updateNodeFromVolume(volumeNode, volume: Volume) -> None:
    """Write a Volume's voxels (deep copy) and IJK→RAS into a volume node."""
    array = volume.array.astype(np.uint8) if volume.array.dtype == bool else volume.array
    volumeNode.SetIJKToRASMatrix(slicer.util.vtkMatrixFromArray(volume.ijk_to_ras))
    slicer.util.updateVolumeFromArray(volumeNode, np.ascontiguousarray(array))


def maskFromNode(scene, maskNode, referenceNode) -> Volume:
    """The mask as a 0/1 label Volume; a segmentation's visible segments are exported onto
    ``referenceNode``'s grid, a label map or scalar volume is taken as it is (non-zero = 1).

    Raises:
        InputError: another kind of node, or a segmentation without a visible segment.
    """
    if not maskNode.IsA("vtkMRMLSegmentationNode"):
        if not maskNode.IsA("vtkMRMLScalarVolumeNode"):
            raise InputError(f"the mask '{maskNode.GetName()}' must be a segmentation, "
                             "label map or scalar volume")
        mask = volumeFromNode(maskNode, VolumeKind.LABEL)
        return mask.with_array((mask.array != 0).astype(np.uint8))
    # The export may add a colour table beside the temporary label map: remove whatever it adds.
    before = {scene.GetNthNode(n).GetID() for n in range(scene.GetNumberOfNodes())}
    try:
        labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "MedRestore temporary mask")
        exported = slicer.vtkSlicerSegmentationsModuleLogic.ExportVisibleSegmentsToLabelmapNode(
            maskNode, labelmap, referenceNode)
        if not exported or labelmap.GetImageData() is None:
            raise InputError(f"the segmentation '{maskNode.GetName()}' has no visible segment "
                             "to use as mask")
        mask = volumeFromNode(labelmap, VolumeKind.LABEL)
    finally:
        for n in reversed(range(scene.GetNumberOfNodes())):
            node = scene.GetNthNode(n)
            if node is not None and node.GetID() not in before:
                scene.RemoveNode(node)
    return mask.with_array((mask.array != 0).astype(np.uint8))


def sequenceVolumeNodes(sequenceNode) -> List:
    """The data nodes of a sequence, each checked to be a scalar volume; an empty sequence or
    another kind of item is an :class:`InputError` naming it."""
    count = sequenceNode.GetNumberOfDataNodes()
    if count == 0:
        raise InputError(f"the sequence {nodeLabel(sequenceNode)} is empty")
    items = []
    for n in range(count):
        item = sequenceNode.GetNthDataNode(n)
        if not isScalarVolume(item):
            raise InputError(f"item {n} of the sequence {nodeLabel(sequenceNode)} is a "
                             f"{item.GetClassName()}, not a scalar volume")
        items.append(item)
    return items


def sequenceIndexTimes(sequenceNode) -> Tuple[Optional[np.ndarray], List[str]]:
    """The sequence's index values as times (None when one of them is not a number) and as text.

    The console (``MedRestoreLogic.imputeSequence``) and the panel (``node_files.
    prepare_impute_sequence`` → ``impute-sequence --times``) both take the times from here, so
    irregular visits give the same frames either way.
    """
    labels = [sequenceNode.GetNthIndexValue(n) for n in range(sequenceNode.GetNumberOfDataNodes())]
    try:
        return np.array([float(value) for value in labels]), labels
    except ValueError:
        return None, labels


def imputedIndexValues(sequenceNode, forecast: int) -> List[str]:
    """Index values of an imputed sequence: the input's, then one per forecast frame at the time
    the engine forecast it (the median step after the last; "forecast N" when times are text)."""
    from ..imputation.frames import frame_times

    times, labels = sequenceIndexTimes(sequenceNode)
    if times is None:
        return labels + [f"forecast {n + 1}" for n in range(forecast)]
    _, _, allTimes = frame_times(len(times), times, forecast)
    return labels + [f"{value:g}" for value in allTimes[len(times):]]


def copyDisplay(node, like) -> List:
    """Give ``node`` display nodes if it has none, copying ``like``'s window/level and colours;
    returns the display nodes it created (for the caller's rollback)."""
    if node.GetDisplayNode() is not None:
        return []
    node.CreateDefaultDisplayNodes()
    display = node.GetDisplayNode()
    source = like.GetDisplayNode() if like is not None and like.IsA("vtkMRMLDisplayableNode") else None
    if source is not None and display is not None:
        display.CopyContent(source)
    return [display] if display is not None else []


def removeNodes(scene, nodes: Iterable) -> None:
    """Remove ``nodes`` (last added first) with the display and storage nodes made for them."""
    for node in reversed(list(nodes)):
        if node is None:
            continue
        related = [node.GetStorageNode()] if node.IsA("vtkMRMLStorableNode") else []
        if node.IsA("vtkMRMLDisplayableNode"):
            related += [node.GetNthDisplayNode(n) for n in range(node.GetNumberOfDisplayNodes())]
        for item in [node] + related:
            if item is not None and item.GetScene() is not None:
                scene.RemoveNode(item)


def referencedNodes(node, roles: Iterable[str]) -> List:
    """The nodes ``node`` references under ``roles`` (none for a role it leaves empty)."""
    if node is None:
        return []
    found = [node.GetNodeReference(role) for role in roles]
    return [item for item in found if item is not None]


def removeReplacedNodes(scene, previous: Iterable, keep: Iterable) -> None:
    """After a re-run into the same output node: remove the results it referenced before (the
    old defects, probability map, report) so they are not left orphaned in the scene, except any
    node in ``keep`` (the input, a mask the user chose, the new results)."""
    kept = {id(node) for node in keep if node is not None}
    removeNodes(scene, [node for node in previous if id(node) not in kept and node.GetScene() is scene])


@contextlib.contextmanager
def removedOnError(scene) -> Iterator[List]:
    """``with removedOnError(scene) as added:`` — nodes appended to ``added`` inside the block
    stay only if the block completes; on any error or cancel they are all removed again, so the
    scene never holds a half-made result."""
    added: List = []
    try:
        yield added
    except BaseException:
        removeNodes(scene, added)
        raise
