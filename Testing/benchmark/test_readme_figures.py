"""The README figures' renderer: VTK offscreen (matplotlib where VTK cannot), on a small phantom."""
import numpy as np
import pytest

from MedRestoreLib.benchmark.readme_figures import (
    MOST_DEFECT,
    busiest_slices,
    compose,
    plane_slice,
    restore_figures,
    square_thumbnail,
)
from Testing.phantoms import box_mask, head_phantom

pytest.importorskip("vtk")


def read_png(path):
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy

    reader = vtk.vtkPNGReader()
    reader.SetFileName(str(path))
    reader.Update()
    width, height, _ = reader.GetOutput().GetDimensions()
    return vtk_to_numpy(reader.GetOutput().GetPointData().GetScalars()).reshape(height, width, -1)


def test_figures_show_the_defects_in_orange_and_the_thumbnail_is_128_square(tmp_path):
    clean = head_phantom().array
    mask = box_mask(clean.shape, (6, 15, 15), (9, 21, 22))
    damaged = clean.copy()
    damaged[mask > 0] = 0
    probability = mask.astype(np.float32) * 0.9
    out = tmp_path / "Screenshots"
    grid, thumbnail = restore_figures(damaged, clean, mask, probability, out, title="phantom")
    pixels = read_png(grid)[..., :3].astype(int)
    assert pixels.shape[0] > 400 and pixels.shape[1] > 400
    orange = (pixels[..., 0] > 150) & (pixels[..., 1] > 30) & (pixels[..., 1] < 140) & (pixels[..., 2] < 60)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)
    assert orange.sum() > 100 and red.sum() > 100  # both overlays drawn
    assert thumbnail == tmp_path / "Icons" / "MedRestoreSample.png"
    assert read_png(thumbnail).shape[:2] == (128, 128)


def test_slices_are_chosen_where_defects_are_but_not_wholly_missing():
    mask = np.zeros((10, 20, 30), np.uint8)
    mask[7] = 1  # a whole missing slice: shows nothing of the repair
    mask[3, 5:9, 10:14] = 1
    assert busiest_slices(mask, MOST_DEFECT)[0] == 3
    assert busiest_slices(np.zeros((4, 6, 8), np.uint8), MOST_DEFECT) == (2, 3, 4)


def test_views_are_oriented_as_slicer_shows_them():
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    axial = plane_slice(array, "axial", 0)
    assert axial.shape == (3, 4) and axial[0, 0] == array[0, 2, 3]  # anterior up, right on the left
    assert plane_slice(array, "sagittal", 1).shape == (2, 3)


def test_compose_blends_only_where_the_overlay_is():
    image = np.full((4, 4), 100.0)
    overlay = np.zeros((4, 4))
    overlay[1, 1] = 1
    rgb = compose(image, (0, 200), overlay, opacity=1.0)
    assert tuple(rgb[0, 0]) == (128, 128, 128) and tuple(rgb[1, 1]) == (255, 90, 0)
    assert square_thumbnail(rgb).shape == (128, 128, 3)
