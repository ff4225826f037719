"""The command line's text progress bar (tqdm): drawn on a terminal or when asked, never otherwise."""
import io
import subprocess
import sys
from types import SimpleNamespace

from MedRestoreLib.cli.progress_bar import ProgressBar, progress_reporter
from MedRestoreLib.progress_protocol import JsonProgress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_bar_shows_percentage_and_step_and_ends_its_line():
    stream = Terminal()
    bar = ProgressBar(stream)
    bar(0.25, "detecting defects")
    bar(1.0, "restore done")
    bar.close()
    text = stream.getvalue()
    assert " 25.0%" in text and "detecting defects" in text
    assert "100.0%" in text and "restore done" in text and text.endswith("\n")


def test_auto_draws_nothing_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(0.5, "working")
    bar.close()
    assert stream.getvalue() == ""


def test_styles_map_to_bar_json_or_nothing():
    def reporter(**options):
        return progress_reporter(SimpleNamespace(command="restore", **options))

    assert isinstance(reporter(progress="json"), JsonProgress)
    assert reporter(progress="bar").enabled is True
    assert reporter(progress="none").enabled is False
    assert reporter(progress="bar", quiet=True).enabled is False


def test_progress_bar_on_a_pipe_only_when_asked(tmp_path):
    # --progress auto on a pipe (not a terminal): stderr holds no bar; --progress bar: it does.
    import numpy as np

    from MedRestoreLib.volume import Volume, write_volume

    source = tmp_path / "in.nrrd"
    write_volume(Volume(np.arange(6 * 7 * 8, dtype=np.int16).reshape(6, 7, 8)), source)
    outputs = {}
    for style in ("auto", "bar"):
        completed = subprocess.run(
            [sys.executable, "-m", "MedRestoreLib", "restore", str(source), str(tmp_path / f"{style}.nrrd"),
             "--detector", "median-mad", "--method", "biharmonic3d", "--progress", style],
            capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
        outputs[style] = completed.stderr
    assert outputs["auto"] == ""
    assert "100.0%" in outputs["bar"]
