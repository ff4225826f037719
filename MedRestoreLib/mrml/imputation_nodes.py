"""Slice and time-point imputation on MRML nodes (MRML/VTK only; used by MedRestoreLogic).

Results always go to new nodes (or a given output node): a thin-slice volume, a sequence with
the imputed and forecast frames, or a table with the imputed cells and an ``imputed`` column.
Nothing is added to the scene when the work fails or is cancelled.
"""
from __future__ import annotations

import numpy as np
import slicer
import vtk

from ..errors import InputError
from ..progress import Steps
from .nodes import (
    checkScalarVolume,
    copyDisplay,
    imputedIndexValues,
    removedOnError,
    sequenceIndexTimes,
    sequenceVolumeNodes,
    updateNodeFromVolume,
    volumeFromNode,
)


def impute_slices_node(scene, inputNode, options, outputNode=None, progress=None, cancel=None):
    """Thin-slice volume node from a thick or gapped scalar volume node."""
    from ..imputation.slices import impute_slices

    checkScalarVolume(inputNode)
    if outputNode is inputNode:
        raise InputError("the output node must differ from the input node (the input is never changed)")
    result = impute_slices(volumeFromNode(inputNode), options, progress, cancel)
    with removedOnError(scene) as added:
        if outputNode is None:
            outputNode = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", f"{inputNode.GetName()} thin slices")
            added.append(outputNode)
        updateNodeFromVolume(outputNode, result.volume)
        added.extend(copyDisplay(outputNode, inputNode))
    outputNode.SetAndObserveTransformNodeID(inputNode.GetTransformNodeID())
    outputNode.SetAttribute("MedRestore.filledSlices",
                            ",".join(str(k) for k in np.flatnonzero(result.filled)))
    for key, value in result.metadata().items():  # the model used; what auto chose and measured
        outputNode.SetAttribute(key, value)
    return outputNode


def impute_sequence_node(scene, inputNode, model, missing="auto", forecast=0, outputNode=None,
                         progress=None, cancel=None):
    """Imputed sequence node (frames) or table node (cells) from a sequence or table node."""
    steps = Steps(progress, cancel)
    if inputNode is None:
        raise InputError("give a sequence node or a table node")
    if inputNode.IsA("vtkMRMLTableNode"):
        return _impute_table_node(scene, inputNode, model, missing, forecast, outputNode, steps)
    if inputNode.IsA("vtkMRMLScalarVolumeNode"):
        raise InputError(f"'{inputNode.GetName()}' is a single 3-D volume; impute-sequence needs a "
                         "sequence of volumes or a table")
    if not inputNode.IsA("vtkMRMLSequenceNode"):
        raise InputError(f"'{inputNode.GetName()}' ({inputNode.GetClassName()}) is not a sequence or table node")
    from ..imputation.frames import impute_frames

    items = sequenceVolumeNodes(inputNode)
    count = len(items)
    frames = [volumeFromNode(node) for node in items]
    times, _ = sequenceIndexTimes(inputNode)
    imputed = impute_frames(frames, model, missing, forecast, times, steps=steps.sub(0.0, 0.9))
    steps.check_cancel()
    labels = imputedIndexValues(inputNode, forecast)
    if outputNode is None:
        outputNode = scene.AddNewNodeByClass("vtkMRMLSequenceNode", f"{inputNode.GetName()} imputed")
    outputNode.RemoveAllDataNodes()
    outputNode.CopySequenceIndex(inputNode)
    names = [node.GetName() for node in items]
    for n, (label, volume) in enumerate(zip(labels, imputed)):
        item = slicer.vtkMRMLScalarVolumeNode()
        item.SetName(names[n] if n < count else f"{inputNode.GetName()} forecast {n - count + 1}")
        updateNodeFromVolume(item, volume)
        outputNode.SetDataNodeAtValue(item, label)
    steps.report(1.0, "sequence imputed")
    return outputNode


def _table_contents(tableNode):
    table = tableNode.GetTable()
    columns = [table.GetColumnName(c) for c in range(table.GetNumberOfColumns())]
    rows = [[table.GetValue(r, c).ToString() for c in range(len(columns))] for r in range(table.GetNumberOfRows())]
    return columns, rows


def _impute_table_node(scene, inputNode, model, missing, forecast, outputNode, steps):
    from ..imputation.tables import impute_table

    columns, rows = _table_contents(inputNode)
    if not columns:
        raise InputError(f"the table '{inputNode.GetName()}' has no columns")
    report: dict = {}
    columns, rows = impute_table(columns, rows, model, forecast, [] if missing == "auto" else missing, report=report)
    steps.check_cancel()
    if outputNode is None:
        outputNode = scene.AddNewNodeByClass("vtkMRMLTableNode", f"{inputNode.GetName()} imputed")
    outputNode.RemoveAllColumns()
    for number, name in enumerate(columns):
        numeric = name != "imputed" and name.strip().upper() != "ID"
        array = vtk.vtkDoubleArray() if numeric else vtk.vtkStringArray()
        array.SetName(name)
        for row in rows:
            array.InsertNextValue(float(row[number]) if numeric else row[number])
        outputNode.AddColumn(array)
    if "auto" in report:  # what auto chose per column and the held-out errors (as the CLI's OUTPUT.json)
        import json

        outputNode.SetAttribute("MedRestore.auto", json.dumps(report["auto"], separators=(",", ":")))
    steps.report(1.0, "table imputed")
    return outputNode
