"""Helpers of the supported-Slicer checks (``make check-slicer-versions``; they need PyPI).

Two levels, both driven by ``MedRestoreLib.background.slicer_versions.SUPPORTED_SLICER``:
- ``resolve``: what pip would install from ``Resources/requirements.txt`` for a release's Python
  version under its numpy/scipy pins (``pip install --dry-run --report --python-version X.Y
  --only-binary=:all: --target``; metadata only, no interpreter of that version needed).
- ``slicer_like_python``: a virtual environment of the release's Python version (from pyenv or
  ``pythonX.Y`` on PATH) holding the release's numpy and scipy, as a fresh Slicer does, kept
  between runs under ``~/.cache/medrestore/slicer-pythons``; the tests then run the panel's own
  install plan and the engine in it.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "MedRestore" / "Resources" / "requirements.txt"
CACHE = Path(os.environ.get("MEDRESTORE_SLICER_PYTHONS", Path.home() / ".cache" / "medrestore" / "slicer-pythons"))
PIP_TIMEOUT_S = 600


def _quiet_environment() -> Dict[str, str]:
    environment = dict(os.environ)
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return environment


def resolve(python_minor: str, constraints: List[str], workdir: Path,
            requirements: Path = REQUIREMENTS) -> Dict[str, str]:
    """{canonical name: version} pip would install for ``python_minor`` under ``constraints``.

    Raises:
        AssertionError: pip found no solution (its error output is the message).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    constraints_path = workdir / "constraints.txt"
    constraints_path.write_text("".join(f"{line}\n" for line in constraints))
    report = workdir / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
               "--report", str(report), "--python-version", python_minor, "--only-binary=:all:",
               "--target", str(workdir / "target"), "-c", str(constraints_path), "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
                            env=_quiet_environment())
    errors = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("WARNING: Location"))
    assert result.returncode == 0, f"no solution for Python {python_minor} under {constraints}:\n{errors}"
    from MedRestoreLib.background.requirements import canonical_name

    installs = json.loads(report.read_text())["install"]
    return {canonical_name(item["metadata"]["name"]): item["metadata"]["version"] for item in installs}


def find_python(python_minor: str) -> Optional[str]:
    """An interpreter of ``python_minor`` ("3.9"): ``pythonX.Y`` on PATH, else one of pyenv's."""
    for candidate in [shutil.which(f"python{python_minor}")] + sorted(glob.glob(
            str(Path.home() / ".pyenv" / "versions" / f"{python_minor}.*" / "bin" / f"python{python_minor}"))):
        if not candidate:
            continue
        probe = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == python_minor:
            return candidate
    return None


def run(command: List[str], **options) -> subprocess.CompletedProcess:
    """Run ``command``; on failure the assertion message holds its output."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                            timeout=PIP_TIMEOUT_S, env=options.pop("env", _quiet_environment()), **options)
    output = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                       if not line.startswith("WARNING: Location"))
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed ({result.returncode}):\n{output[-4000:]}"
    return result


def slicer_like_python(release, interpreter: str) -> Path:
    """A venv of ``interpreter`` holding ``release``'s numpy and scipy and nothing of ours, made
    fresh each time from a cached base (pip's wheel cache keeps the downloads)."""
    folder = CACHE / release.version
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    run([interpreter, "-m", "venv", folder])
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run([python, "-m", "pip", "install", "--quiet", "--only-binary=:all:", *release.pins()])
    return python


def installed_versions(python: Path) -> Dict[str, str]:
    """{canonical name: version} installed in the environment of ``python``."""
    code = ("import json, re; from importlib import metadata; print(json.dumps({re.sub(r'[-_.]+', '-', "
            "d.metadata['Name']).lower(): d.version for d in metadata.distributions()}))")
    return json.loads(run([python, "-c", code]).stdout)


