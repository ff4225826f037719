"""Every supported Slicer, tested rather than assumed (``make check-slicer-versions``; needs PyPI).

For each row of ``SUPPORTED_SLICER``: the requirements resolve for its Python version under its
numpy/scipy pins, and, where an interpreter of that version is on this machine, a fresh Python
with Slicer's numpy and scipy gets the panel's own install plan, keeps its numpy and scipy, and
runs a classical restore of the bundled sample without torch.
"""
import json
import os

import numpy as np
import pytest

from MedRestoreLib.background.slicer_versions import SUPPORTED_SLICER
from Testing.slicer_matrix import REQUIREMENTS, ROOT, find_python, installed_versions, resolve, run, slicer_like_python

pytestmark = pytest.mark.skipif(os.environ.get("MEDRESTORE_SLICER_MATRIX") != "1",
                                reason="needs PyPI: run by `make check-slicer-versions`")
RELEASES = {release.version: release for release in SUPPORTED_SLICER}


@pytest.mark.parametrize("version", RELEASES)
def test_the_requirements_resolve_under_the_release_s_numpy_and_scipy(version, tmp_path):
    release = RELEASES[version]
    resolved = resolve(release.python_minor, release.pins(), tmp_path)
    assert resolved["numpy"] == release.numpy and resolved["scipy"] == release.scipy
    for name in ("simpleitk", "scikit-image", "opencv-python-headless", "matplotlib", "psutil"):
        assert name in resolved, name
    print(f"Slicer {version} (Python {release.python_minor}): " +
          ", ".join(f"{name} {resolved[name]}" for name in sorted(resolved)))


def test_without_the_pins_pip_would_move_slicer_5_6_s_numpy(tmp_path):
    # The failure the constraints prevent: opencv 5 (numpy>=2) is otherwise free to pull numpy 2.
    release = RELEASES["5.6.2"]
    unpinned = resolve(release.python_minor, [], tmp_path / "unpinned", requirements=_without_markers(tmp_path))
    assert unpinned["numpy"] != release.numpy
    pinned = resolve(release.python_minor, release.pins(), tmp_path / "pinned", requirements=_without_markers(tmp_path))
    assert pinned["numpy"] == release.numpy and pinned["opencv-python-headless"].startswith("4.")


def _without_markers(tmp_path):
    """requirements.txt with opencv unbounded, as it was before the Python 3.9 bound."""
    lines = [line for line in REQUIREMENTS.read_text().splitlines() if not line.startswith("opencv")]
    path = tmp_path / "requirements-unbounded.txt"
    path.write_text("\n".join(lines + ["opencv-python-headless>=4.5"]) + "\n")
    return path


@pytest.mark.parametrize("version", RELEASES)
def test_the_panel_s_install_keeps_slicer_s_packages_and_the_engine_runs(version, tmp_path):
    release = RELEASES[version]
    interpreter = find_python(release.python_minor)
    if interpreter is None:
        pytest.skip(f"no Python {release.python_minor} on this machine (pyenv or python{release.python_minor})")
    python = slicer_like_python(release, interpreter)
    before = installed_versions(python)
    assert (before["numpy"], before["scipy"]) == (release.numpy, release.scipy)

    # The panel's plan, computed inside that Python from what it has installed.
    environment = dict(os.environ, PYTHONPATH=str(ROOT), PIP_DISABLE_PIP_VERSION_CHECK="1")
    code = ("import json, sys; from MedRestoreLib.background.constraints import plan_install; "
            f"plan = plan_install({str(REQUIREMENTS)!r}); plan.write_constraints(sys.argv[1]); "
            "print(json.dumps([plan.blocked, plan.pip_arguments(sys.argv[1])]))")
    blocked, arguments = json.loads(run([python, "-c", code, tmp_path / "c.txt"], env=environment).stdout)
    assert blocked == []
    assert arguments[:3] == ["--prefer-binary", "-c", str(tmp_path / "c.txt")]
    assert {a.split(">")[0] for a in arguments[3:]} >= {"scikit-image", "opencv-python-headless", "psutil"}
    run([python, "-m", "pip", "install", "--quiet", *arguments])
    after = installed_versions(python)
    assert (after["numpy"], after["scipy"]) == (release.numpy, release.scipy)
    assert all(after[name] == version for name, version in before.items())  # nothing moved
    run([python, "-m", "pip", "check"])

    # The engine on that Python, without torch: every run the panel starts without asking the
    # PyTorch extension (needs_torch False), with the panel's --device auto.
    from MedRestoreLib.background.run import needs_torch
    from MedRestoreLib.sample_data import damaged_sample_files
    from MedRestoreLib.volume import read_series, read_volume, write_series

    assert "torch" not in after
    damaged_path, truth_path = damaged_sample_files(tmp_path / "sample")
    restored, blind = tmp_path / "restored.nrrd", tmp_path / "blind.nrrd"
    common = ["--device", "auto", "--progress", "none"]
    assert not needs_torch("restore", method="biharmonic3d", has_mask=True)
    run([python, "-m", "MedRestoreLib", "restore", damaged_path, restored, "--mask", truth_path,
         "--method", "biharmonic3d", *common], env=environment)
    assert not needs_torch("restore", detector="median-mad", method="neighbour-median")
    run([python, "-m", "MedRestoreLib", "restore", damaged_path, blind, "--detector", "median-mad",
         "--method", "neighbour-median", *common], env=environment)
    damaged, truth = read_volume(damaged_path), read_volume(truth_path)
    output = read_volume(restored)
    outside = truth.array == 0
    np.testing.assert_array_equal(output.array[outside], damaged.array[outside])
    assert not np.array_equal(output.array[~outside], damaged.array[~outside])
    assert read_volume(blind).shape == damaged.shape
    for model in ("linear", "cubic", "gmm"):
        assert not needs_torch("impute-slices", model=model)
        run([python, "-m", "MedRestoreLib", "impute-slices", damaged_path, tmp_path / f"thin-{model}.nrrd",
             "--factor", "2", "--model", model, *common], env=environment)
        assert read_volume(tmp_path / f"thin-{model}.nrrd").shape[0] == 2 * damaged.shape[0]
    assert not needs_torch("impute-sequence", model="linear")
    write_series([damaged, damaged.with_array(damaged.array * 0), damaged], tmp_path / "series.nrrd")
    run([python, "-m", "MedRestoreLib", "impute-sequence", tmp_path / "series.nrrd", tmp_path / "filled.nrrd",
         "--model", "linear", "--times=0,2.5,5", *common], env=environment)
    assert len(read_series(tmp_path / "filled.nrrd")) == 3
