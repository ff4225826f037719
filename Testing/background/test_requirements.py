"""The first-use dependency check against this Python's real installed packages."""
from pathlib import Path

import pytest

from MedRestoreLib.background.requirements import is_satisfied, missing_requirements, read_requirements

REQUIREMENTS = Path(__file__).resolve().parents[2] / "MedRestore" / "Resources" / "requirements.txt"


def test_the_shipped_requirements_are_met_in_the_test_environment():
    assert read_requirements(REQUIREMENTS)  # not empty
    assert missing_requirements(REQUIREMENTS) == []


def test_missing_and_too_old_packages_are_reported(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\n--index-url https://example.org\nnumpy>=1.0\n"
                    "numpy>=999.0\nno-such-package-medrestore>=1\nscipy  # any version\n"
                    "SimpleITK[extra]>=1.0 ; python_version >= '3'\n")
    assert read_requirements(path) == ["numpy>=1.0", "numpy>=999.0", "no-such-package-medrestore>=1",
                                       "scipy", "SimpleITK[extra]>=1.0 ; python_version >= '3'"]
    assert missing_requirements(path) == ["numpy>=999.0", "no-such-package-medrestore>=1"]


def test_other_specifiers_are_judged_by_packaging():
    pytest.importorskip("packaging")
    assert is_satisfied("numpy<999")
    assert not is_satisfied("numpy==0.0.1")


def test_a_line_that_is_not_a_requirement_is_refused():
    with pytest.raises(ValueError):
        is_satisfied(">=1.0")
