"""The README's pictures, rendered with VTK offscreen from real outputs of the pipeline.

``python -m MedRestoreLib.benchmark.readme_figures --out MedRestore/Resources/Screenshots`` (``make figures``)
damages the bundled MRI with mixed defects (seed 0, the "MedRestore damaged brain MRI" sample),
restores it blind, and draws slice views as Slicer shows them: before with the detected
defects overlaid, after, and after with the defect probability as foreground; plus the Sample
Data thumbnail. Slices are chosen where the most defects are. Where VTK cannot render offscreen
(no EGL, OSMesa or X), matplotlib draws the same composed images.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..intensity import display_window
from ..report_figure import PLANES as FIGURE_PLANES
from ..report_figure import busiest_slices

DEFECT_COLOUR = np.array([255, 90, 0], np.float64)  # the segmentation's orange (mrml/restore_outputs.py)
PROBABILITY_COLOUR = np.array([255, 0, 0], np.float64)  # Slicer's "Red" colour table
PLANES = tuple(name for name, _ in FIGURE_PLANES)  # axial, coronal, sagittal
#: at most this much of a shown slice is defect: a wholly missing slice shows nothing of the repair
MOST_DEFECT = 0.3


def plane_slice(array: np.ndarray, plane: str, index: int) -> np.ndarray:
    """A (rows, columns) view as Slicer shows a RAS-aligned volume: superior or anterior up,
    patient right on the left (radiological) for axial and coronal."""
    if plane == "axial":
        image = array[index]  # rows j (anterior), columns i (right)
    elif plane == "coronal":
        image = array[:, index]  # rows k (superior), columns i
    else:
        image = array[:, :, index]  # rows k, columns j (anterior)
    image = image[::-1]  # row 0 at the top of the picture
    return image[:, ::-1] if plane in ("axial", "coronal") else image


def compose(image: np.ndarray, window: Tuple[float, float], overlay: Optional[np.ndarray] = None,
            colour=DEFECT_COLOUR, opacity: float = 0.55) -> np.ndarray:
    """RGB uint8 of a grey slice with an overlay blended in (a mask, or a probability 0–1)."""
    low, high = window
    grey = np.clip((image.astype(np.float64) - low) / max(high - low, 1e-9), 0, 1) * 255
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if overlay is not None:
        alpha = opacity * np.clip(overlay.astype(np.float64), 0, 1)[..., None]
        rgb = (1 - alpha) * rgb + alpha * colour
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def render_grid(panels: Sequence[Sequence[np.ndarray]], row_titles: Sequence[str],
                column_titles: Sequence[str], path, scale: int = 3, title: str = "") -> str:
    """Draw RGB panels (rows × columns) into one PNG with VTK offscreen; returns the renderer
    used ("vtk" or, when VTK cannot render here, "matplotlib")."""
    try:
        _render_vtk(panels, row_titles, column_titles, path, scale, title)
        return "vtk"
    except RuntimeError as error:
        print(f"VTK offscreen rendering failed ({error}); drawing with matplotlib", file=sys.stderr)
        _render_matplotlib(panels, row_titles, column_titles, path, title)
        return "matplotlib"


def _image_actor(rgb: np.ndarray):
    import vtk
    from vtk.util.numpy_support import numpy_to_vtk

    height, width, _ = rgb.shape
    data = vtk.vtkImageData()
    data.SetDimensions(width, height, 1)
    scalars = numpy_to_vtk(np.ascontiguousarray(rgb[::-1]).reshape(-1, 3), deep=True)  # VTK: row 0 at the bottom
    scalars.SetNumberOfComponents(3)
    data.GetPointData().SetScalars(scalars)
    actor = vtk.vtkImageActor()
    actor.GetMapper().SetInputData(data)
    actor.InterpolateOff()  # voxels stay voxels, as in Slicer's slice views
    return actor


def _text(text: str, size: int, position, justify_center=False):
    import vtk

    actor = vtk.vtkTextActor()
    actor.SetInput(text)
    properties = actor.GetTextProperty()
    properties.SetFontSize(size)
    properties.SetColor(1, 1, 1)
    if justify_center:
        properties.SetJustificationToCentered()
    actor.SetDisplayPosition(*position)
    return actor


def _render_vtk(panels, row_titles, column_titles, path, scale, title):
    import vtk

    rows, columns = len(panels), len(panels[0])
    cell_w = max(p.shape[1] for row in panels for p in row) * scale
    cell_h = max(p.shape[0] for row in panels for p in row) * scale
    title_lines = title.split("\n") if title else []
    margin_left, margin_top = 150, 34 + 22 * len(title_lines)
    width, height = margin_left + columns * cell_w, margin_top + rows * cell_h
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(width, height)
    background = vtk.vtkRenderer()
    background.SetBackground(0, 0, 0)
    background.SetViewport(0, 0, 1, 1)
    background.SetLayer(0)
    window.SetNumberOfLayers(2)
    window.AddRenderer(background)
    for n, line in enumerate(title_lines):
        background.AddViewProp(_text(line, 17, (10, height - 24 - 22 * n)))
    for c, name in enumerate(column_titles):
        background.AddViewProp(_text(name, 16, (margin_left + c * cell_w + cell_w // 2, height - margin_top + 8), True))
    for r, (name, row) in enumerate(zip(row_titles, panels)):
        y0 = height - margin_top - (r + 1) * cell_h
        for n, line in enumerate(name.split("\n")):
            background.AddViewProp(_text(line, 15, (8, y0 + cell_h // 2 + 10 - 20 * n)))
        for c, rgb in enumerate(row):
            renderer = vtk.vtkRenderer()
            renderer.SetLayer(1)
            x0 = margin_left + c * cell_w
            renderer.SetViewport(x0 / width, y0 / height, (x0 + cell_w) / width, (y0 + cell_h) / height)
            renderer.AddActor(_image_actor(rgb))
            camera = renderer.GetActiveCamera()
            camera.ParallelProjectionOn()
            renderer.ResetCamera()
            camera.SetParallelScale(max(rgb.shape[0], rgb.shape[1] * cell_h / cell_w) / 2)
            window.AddRenderer(renderer)
    window.Render()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ReadFrontBufferOff()
    grab.Update()
    from vtk.util.numpy_support import vtk_to_numpy

    pixels = vtk_to_numpy(grab.GetOutput().GetPointData().GetScalars())
    if pixels is None or pixels.size == 0 or not pixels.any():
        raise RuntimeError("the offscreen render window produced an empty image")
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputConnection(grab.GetOutputPort())
    writer.Write()
    window.Finalize()


def _render_matplotlib(panels, row_titles, column_titles, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = len(panels), len(panels[0])
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns + 1, 3 * rows), squeeze=False,
                                facecolor="black")
    for r in range(rows):
        for c in range(columns):
            axes[r][c].imshow(panels[r][c], interpolation="nearest")
            axes[r][c].axis("off")
            if r == 0:
                axes[r][c].set_title(column_titles[c], color="white")
        axes[r][0].text(-0.05, 0.5, row_titles[r], color="white", ha="right", va="center",
                        transform=axes[r][0].transAxes)
    if title:
        figure.suptitle(title, color="white")
    figure.savefig(path, facecolor="black", bbox_inches="tight")
    plt.close(figure)


def restore_figures(damaged, restored, mask, probability, out: Path, title: str = "") -> List[Path]:
    """The before/after slice views and the Sample Data thumbnail, from volumes (k, j, i)."""
    out.mkdir(parents=True, exist_ok=True)
    window = display_window(damaged)
    indices = busiest_slices(mask, MOST_DEFECT)
    before, overlaid, after, foreground = [], [], [], []
    for plane, index in zip(PLANES, indices):
        before.append(compose(plane_slice(damaged, plane, index), window))
        overlaid.append(compose(plane_slice(damaged, plane, index), window, plane_slice(mask, plane, index),
                                opacity=0.45))
        after.append(compose(plane_slice(restored, plane, index), window))
        foreground.append(compose(plane_slice(restored, plane, index), window,
                                  plane_slice(probability, plane, index), PROBABILITY_COLOUR, 0.6))
    grid = out / "restore_slice_views.png"
    renderer = render_grid([before, overlaid, after, foreground],
                           ["before:\ndamaged", "before:\ndetected defects\n(orange overlay)", "after:\nrepaired",
                            "after:\ndefect probability\n(red foreground)"],
                           [f"{plane} slice {index}" for plane, index in zip(PLANES, indices)], grid, title=title)
    thumbnail_panel = overlaid[0]
    icons = out.parent / "Icons" if out.name == "Screenshots" else out
    thumbnail = icons / "MedRestoreSample.png"
    thumbnail.parent.mkdir(parents=True, exist_ok=True)
    _write_png(square_thumbnail(thumbnail_panel), thumbnail)
    print(f"wrote {grid} ({renderer}) and {thumbnail}")
    return [grid, thumbnail]


def square_thumbnail(rgb: np.ndarray, size: int = 128) -> np.ndarray:
    """The panel centred on a black square, resized (nearest voxel) to size × size."""
    side = max(rgb.shape[:2])
    square = np.zeros((side, side, 3), np.uint8)
    top, left = (side - rgb.shape[0]) // 2, (side - rgb.shape[1]) // 2
    square[top:top + rgb.shape[0], left:left + rgb.shape[1]] = rgb
    index = (np.arange(size) * side / size).astype(int)
    return square[index][:, index]


def _write_png(rgb: np.ndarray, path: Path) -> None:
    """A PNG of exactly this RGB array (no window, so the size is exact, e.g. 128×128)."""
    import vtk
    from vtk.util.numpy_support import numpy_to_vtk

    height, width, _ = rgb.shape
    data = vtk.vtkImageData()
    data.SetDimensions(width, height, 1)
    scalars = numpy_to_vtk(np.ascontiguousarray(rgb[::-1]).reshape(-1, 3), deep=True)
    data.GetPointData().SetScalars(scalars)
    writer = vtk.vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(data)
    writer.Write()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m MedRestoreLib.benchmark.readme_figures",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="MedRestore/Resources/Screenshots", help="folder for the PNGs")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    from ..options import RestoreOptions
    from ..pipeline import restore
    from ..sample_data import damaged_sample_files
    from ..volume import read_volume

    damaged_path, truth_path = damaged_sample_files()
    damaged = read_volume(damaged_path)
    result = restore(damaged, RestoreOptions.from_dict({"device": args.device}))
    report = result.report
    title = (f"MedRestore damaged brain MRI (bundled MNI152 T1, mixed defects, seed 0)\n"
             f"blind restore: {report.detector} detector, {report.filler} fill, "
             f"{report.voxels_changed} voxels repaired ({report.defect_regions} regions), "
             f"on the {report.device.upper()}")
    restore_figures(damaged.array, result.volume.array, result.mask.array, result.probability.array,
                    Path(args.out), title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
