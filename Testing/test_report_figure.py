"""Where the report figures cut the volume: the busiest planes, mostly covered ones passed over."""
import numpy as np

from MedRestoreLib.report_figure import busiest_slices


def test_planes_more_covered_than_allowed_are_passed_over_while_others_show_defects():
    mask = np.zeros((10, 20, 30), bool)
    mask[6, :, :12] = True  # 40 % of axial plane 6
    mask[2, 5:9, 10:14] = True  # a small box in plane 2
    assert busiest_slices(mask)[0] == 6  # the default allows half a plane
    assert busiest_slices(mask, most=0.3)[0] == 2  # the README figures allow 30 %


def test_when_every_plane_with_defects_is_covered_the_busiest_is_shown_and_the_centre_without_any():
    mask = np.zeros((10, 20, 30), np.uint8)
    mask[7] = 1  # a missing slice alone: there is nothing else to show along k
    assert busiest_slices(mask, most=0.3)[0] == 7
    assert busiest_slices(np.zeros((4, 6, 8), bool)) == (2, 3, 4)
