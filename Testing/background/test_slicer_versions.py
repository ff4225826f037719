"""The supported-Slicer table: consistent with requirements.txt, the install code and docs/slicer.md."""
from pathlib import Path

import pytest

from MedRestoreLib.background.requirements import applies, parse, read_requirements
from MedRestoreLib.background.slicer_versions import (
    PINNED_BY_SLICER,
    PIP_ENSURE,
    PIP_INSTALL,
    SUPPORTED_SLICER,
    release_for,
)

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "MedRestore" / "Resources" / "requirements.txt"


def test_releases_are_ordered_one_per_series_with_their_python():
    series = [release.series for release in SUPPORTED_SLICER]
    assert series == sorted(set(series)) == [(5, 6), (5, 8), (5, 10), (5, 12)]
    assert [release.python_minor for release in SUPPORTED_SLICER] == ["3.9", "3.9", "3.12", "3.12"]
    for release in SUPPORTED_SLICER:  # numpy 2.1+ has no Python 3.9 wheels
        numpy = tuple(int(part) for part in release.numpy.split("."))
        assert not (release.python_minor == "3.9" and numpy >= (2, 1)), release.version


def test_the_installer_follows_the_release():
    for release in SUPPORTED_SLICER:
        assert release.installer == (PIP_ENSURE if release.series >= (5, 12) else PIP_INSTALL)
    assert release_for("5.8").version == "5.8.1" and release_for("5.10.1").version == "5.10.0"
    assert release_for("5.4.0") is None


@pytest.mark.parametrize("release", SUPPORTED_SLICER, ids=lambda r: r.version)
def test_each_release_s_numpy_and_scipy_meet_the_requirements(release):
    lines = [line for line in read_requirements(REQUIREMENTS) if applies(line, release.python)]
    bounds = {parse(line).name.lower(): parse(line).specifier for line in lines}
    assert set(PINNED_BY_SLICER) <= set(bounds)
    assert bounds["numpy"].contains(release.numpy) and bounds["scipy"].contains(release.scipy)
    assert release.pins() == [f"numpy=={release.numpy}", f"scipy=={release.scipy}"]
    opencv = [line for line in lines if parse(line).name == "opencv-python-headless"]
    assert len(opencv) == 1
    if release.numpy.startswith("1."):  # OpenCV 4.12+ needs numpy 2
        assert not parse(opencv[0]).specifier.contains("4.12.0")


def test_the_docs_table_is_the_code_table():
    rows = [line for line in (ROOT / "docs" / "slicer.md").read_text().splitlines()
            if line.startswith("| 5.")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert [cell[:4] for cell in cells] == [[r.version, r.python, r.numpy, r.scipy] for r in SUPPORTED_SLICER]
    for cell, release in zip(cells, SUPPORTED_SLICER):
        assert ("pip_ensure" in cell[4]) == (release.installer == PIP_ENSURE)
