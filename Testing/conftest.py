"""Shared pytest fixtures: a real MRML scene (``slicer-core`` wheel) set up as Slicer does it."""
from __future__ import annotations

from pathlib import Path

import pytest

# Module logics the MedRestore logic relies on. They register node classes and segmentation
# converter rules, so they must exist before their nodes are created (SLICER_NOTES.md).
MODULE_LOGICS = (
    ("Volumes", "vtkSlicerVolumesLogic"),
    ("Segmentations", "vtkSlicerSegmentationsModuleLogic"),
    ("Sequences", "vtkSlicerSequencesLogic"),
    ("Tables", "vtkSlicerTablesLogic"),
)


def create_mrml_scene(slicer, cache_dir):
    """Return (scene, application logic, {module name: logic}) for a fresh scene."""
    scene = slicer.vtkMRMLScene()
    cache = slicer.vtkCacheManager()
    cache.SetRemoteCacheDirectory(str(cache_dir))
    scene.SetCacheManager(cache)
    io_manager = slicer.vtkDataIOManager()
    io_manager.SetCacheManager(cache)
    scene.SetDataIOManager(io_manager)

    application = slicer.vtkSlicerApplicationLogic()
    # slicer-core ships no ColorFiles folder, and the colour logic logs an error for a missing
    # <home>/<share>/ColorFiles: point it at an empty one. The built-in colour tables come anyway.
    (Path(cache_dir) / "share" / "ColorFiles").mkdir(parents=True, exist_ok=True)
    application.SetHomeDirectory(str(cache_dir))
    application.SetShareDirectory("share")
    application.SetMRMLScene(scene)
    colors = slicer.vtkSlicerColorLogic()
    colors.SetMRMLApplicationLogic(application)
    colors.SetMRMLScene(scene)  # adds the default colour nodes
    application.SetColorLogic(colors)

    logics = {}
    for name, class_name in MODULE_LOGICS:
        if not hasattr(slicer, class_name):  # e.g. a slicer-core build without the Tables logic
            continue
        logic = getattr(slicer, class_name)()
        logic.SetMRMLApplicationLogic(application)
        logic.SetMRMLScene(scene)
        application.SetModuleLogic(name, logic)
        logics[name] = logic
    return scene, application, logics


@pytest.fixture
def mrml_scene(tmp_path):
    """A real ``vtkMRMLScene`` with the Volumes, Segmentations, Sequences and Tables logics.

    ``slicer.mrmlScene`` is this scene during the test and gets its previous value back after.
    Skipped where the ``slicer-core`` wheel is not installed.
    """
    slicer = pytest.importorskip("slicer")
    cache_dir = tmp_path / "mrml-cache"
    cache_dir.mkdir()
    scene, application, logics = create_mrml_scene(slicer, cache_dir)
    missing = object()
    previous = getattr(slicer, "mrmlScene", missing)
    slicer.mrmlScene = scene
    try:
        yield scene
    finally:
        if previous is missing:
            del slicer.mrmlScene
        else:
            slicer.mrmlScene = previous
        for logic in logics.values():
            logic.SetMRMLScene(None)
        scene.Clear(True)
