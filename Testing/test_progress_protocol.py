"""The ``--progress json`` protocol: what the CLI writes is what the panel reads."""
import io
import json

import pytest

from MedRestoreLib.progress_protocol import (
    JsonProgress,
    TimeLeftEstimator,
    format_seconds_left,
    parse_progress_line,
    stage_of,
)


class FakeClock:
    """A clock the test moves by hand, so throttling is checked without sleeping."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_written_lines_parse_back_to_the_same_step():
    stream, clock = io.StringIO(), FakeClock()
    progress = JsonProgress("restore", stream, clock=clock)
    clock.now += 1.5
    progress(0.25, "biharmonic 3-D, region 3/9 (frame 1/2)")
    progress.finish(0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    step, end = (parse_progress_line(line) for line in lines)
    assert (step.event, step.command, step.fraction, step.stage) == ("progress", "restore", 0.25, "biharmonic 3-D")
    assert step.message == "biharmonic 3-D, region 3/9 (frame 1/2)" and step.elapsed_s == 1.5
    assert end.is_finished and end.status == 0 and end.fraction == 1.0


def test_small_steps_of_one_stage_are_thinned_but_stage_changes_and_the_end_are_not():
    stream, clock = io.StringIO(), FakeClock()
    progress = JsonProgress("detect", stream, min_step=0.05, min_interval_s=0.5, clock=clock)
    for n in range(100):  # 100 tiny steps within 0.1 s
        clock.now += 0.001
        progress(n / 1000, f"fill, region {n}/100")
    progress(0.2, "LSTM scan along slices")
    progress(1.0, "LSTM scan along slices")
    events = [parse_progress_line(line) for line in stream.getvalue().splitlines()]
    assert [e.stage for e in events] == ["fill", "fill", "LSTM scan along slices", "LSTM scan along slices"]
    assert [e.fraction for e in events] == [0.0, 0.05, 0.2, 1.0]


def test_time_alone_lets_a_slow_step_through():
    stream, clock = io.StringIO(), FakeClock()
    progress = JsonProgress("restore", stream, min_step=0.5, min_interval_s=0.5, clock=clock)
    progress(0.1, "fill")
    clock.now += 0.6
    progress(0.11, "fill")
    assert len(stream.getvalue().splitlines()) == 2


@pytest.mark.parametrize("line", ["", "medrestore restore: error: no such file", "{not json",
                                  '{"event": "other"}', '[1, 2]', '{"event": "progress", "fraction": "x"}'])
def test_log_text_is_not_taken_for_progress(line):
    assert parse_progress_line(line) is None


def test_out_of_range_fractions_are_clamped():
    assert parse_progress_line('{"event": "progress", "fraction": 1.7}').fraction == 1.0
    assert parse_progress_line('{"event": "progress", "fraction": -3}').fraction == 0.0


def test_stage_drops_counters_only():
    assert stage_of("fill (frame 2/3)") == "fill"
    assert stage_of("biharmonic 3-D, region 7/184") == "biharmonic 3-D"
    assert stage_of("LSTM scan along slices") == "LSTM scan along slices"


def test_time_left_follows_the_recent_rate():
    estimate = TimeLeftEstimator(window_s=10.0, min_elapsed_s=2.0)
    estimate.add(0.0, 0.0)
    estimate.add(1.0, 0.1)
    assert estimate.seconds_left() is None  # too early to say
    for second in range(2, 6):
        estimate.add(float(second), 0.1 * second)
    assert estimate.seconds_left() == pytest.approx(5.0)  # 10 %/s, half left
    for second in range(6, 20):  # the second half runs at 1 %/s
        estimate.add(float(second), 0.5 + 0.01 * (second - 5))
    assert estimate.seconds_left() == pytest.approx(36.0, rel=0.05)
    estimate.add(20.0, 1.0)
    assert estimate.seconds_left() == 0.0


def test_time_left_ignores_a_fraction_that_steps_back():
    estimate = TimeLeftEstimator(min_elapsed_s=1.0)
    estimate.add(0.0, 0.5)
    estimate.add(2.0, 0.3)
    assert estimate.seconds_left() is None  # no progress seen, no estimate


def test_time_left_text():
    assert format_seconds_left(None) == ""
    assert format_seconds_left(0.2) == "about 1 s left"
    assert format_seconds_left(42.4) == "about 42 s left"
    assert format_seconds_left(200) == "about 3 min left"
