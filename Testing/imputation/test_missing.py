"""Blank slices and blank frames share one rule: mean |value| at most 2 % of the median level."""
import numpy as np

from MedRestoreLib.imputation.frames import blank_frames
from MedRestoreLib.imputation.missing import BLANK_FRACTION, blank_indices, present_levels
from MedRestoreLib.volume import Volume


def test_levels_at_or_below_the_blank_fraction_of_the_median_are_blank():
    levels = np.array([0.0, 10.0, 10.0, 10.0 * BLANK_FRACTION, 10.0, 0.5, 0.0])
    np.testing.assert_array_equal(present_levels(levels), [False, True, True, False, True, True, False])
    assert not present_levels(np.zeros(4)).any()


def test_slices_are_gaps_only_between_present_ones_while_every_blank_frame_counts():
    levels = [0.0, 10.0, 0.1, 10.0, 0.0]
    assert blank_indices(np.array(levels)) == [2]  # the empty ends are air around the head
    frames = [Volume(np.full((2, 2, 2), level, np.float32)) for level in levels]
    assert blank_frames(frames) == [0, 2, 4]  # a missed first or last visit is missing
    assert blank_frames([Volume(np.zeros((2, 2, 2)))] * 3) == [0, 1, 2]
