"""The install plan: what is missing, and the pins that keep what Slicer (and the user) installed."""
import subprocess
import sys
from pathlib import Path

import numpy
import scipy

from MedRestoreLib.background.constraints import constraint_lines, installed_distributions, plan_install
from MedRestoreLib.background.requirements import applies, read_requirements

REQUIREMENTS = Path(__file__).resolve().parents[2] / "MedRestore" / "Resources" / "requirements.txt"
# What a fresh Slicer 5.6.2 has of our requirements (SuperBuild pins) besides pip and friends.
SLICER_5_6 = {"numpy": "1.26.1", "scipy": "1.11.3", "pip": "23.2.1", "packaging": "23.1",
              "pillow": "10.0.1", "simpleitk": "2.2.1"}


def test_in_this_environment_nothing_is_missing_and_every_package_is_pinned():
    plan = plan_install(REQUIREMENTS)
    assert plan.missing == [] and plan.blocked == []
    assert f"numpy=={numpy.__version__}" in plan.constraints
    assert f"scipy=={scipy.__version__}" in plan.constraints
    assert len(plan.constraints) == len(installed_distributions())


def test_pip_reads_the_constraints_file_and_finds_everything_satisfied(tmp_path):
    # Offline: with every requirement installed and pinned, pip needs no index at all.
    plan = plan_install(REQUIREMENTS)
    constraints = plan.write_constraints(tmp_path / "constraints.txt")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet",
                             "-c", str(constraints), "-r", str(REQUIREMENTS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Would install" not in result.stdout


def test_on_a_fresh_slicer_only_new_packages_are_installed_and_slicer_s_stay_pinned():
    plan = plan_install(REQUIREMENTS, installed=SLICER_5_6)
    names = [line.split(">")[0].split("<")[0].split(";")[0].lower() for line in plan.missing]
    assert names == ["scikit-image", "opencv-python-headless", "matplotlib", "psutil"]
    assert plan.blocked == []
    assert set(plan.constraints) == {f"{name}=={version}" for name, version in SLICER_5_6.items()}


def test_an_old_package_of_the_user_may_be_upgraded_but_never_numpy_or_scipy():
    installed = dict(SLICER_5_6, **{"scikit-image": "0.18.3"})
    plan = plan_install(REQUIREMENTS, installed=installed)
    assert "scikit-image>=0.19" in plan.missing
    assert not any(line.startswith("scikit-image==") for line in plan.constraints)
    assert "numpy==1.26.1" in plan.constraints and "scipy==1.11.3" in plan.constraints
    old_numpy = plan_install(REQUIREMENTS, installed=dict(SLICER_5_6, numpy="1.20.3"))
    assert "numpy==1.20.3" in old_numpy.constraints  # still pinned: the install would break Slicer
    assert len(old_numpy.blocked) == 1 and "numpy 1.20.3" in old_numpy.blocked[0]


def test_versions_pip_cannot_read_are_left_out_and_local_versions_kept():
    lines = constraint_lines({"torch": "2.4.0+cu121", "oddball": "1.0-beta-weird", "numpy": "1.26.4"},
                             upgradable=["numpy", "torch"])
    assert lines == ["numpy==1.26.4"]  # torch may move (asked for), numpy never; oddball unreadable
    assert constraint_lines({"torch": "2.4.0+cu121"}) == ["torch==2.4.0+cu121"]


def test_pip_arguments_put_the_constraints_before_the_requirements(tmp_path):
    plan = plan_install(REQUIREMENTS, installed=SLICER_5_6)
    path = tmp_path / "with space" / "c.txt"
    assert plan.pip_arguments(path) == ["--prefer-binary", "-c", str(path)] + plan.missing


def test_each_python_gets_one_opencv_line_and_python_3_9_one_that_keeps_numpy_1():
    opencv = [line for line in read_requirements(REQUIREMENTS) if line.startswith("opencv")]
    for python in ("3.9", "3.12"):
        chosen = [line for line in opencv if applies(line, python)]
        assert len(chosen) == 1, python
    assert "<4.12" in [line for line in opencv if applies(line, "3.9")][0]
    assert "<4.12" not in [line for line in opencv if applies(line, "3.12")][0]
