"""What the panel installs inside Slicer, and the constraints that keep Slicer's own packages.

A plain ``pip install`` of a requirement may upgrade what is already installed: on Slicer 5.6
(Python 3.9, numpy 1.26.1) ``opencv-python-headless`` 5.x needs numpy ≥ 2, so pip upgraded numpy
under the running Slicer and ``import scipy.ndimage`` failed from then on. Here every distribution
already installed is pinned to its installed version in a constraints file (``pip install -c``),
so pip can only *add* packages, choosing versions that fit what Slicer ships; a requirement that
is itself installed but too old may be upgraded, except numpy and scipy, which Slicer pins.

Qt-free and MRML-free: ``MedRestoreGui/dependencies.py`` passes the plan to
``slicer.util.pip_install`` (Slicer ≤ 5.10) or ``slicer.packaging.pip_ensure(..., constraints=)``
(Slicer ≥ 5.12); ``make check-slicer-versions`` runs the same plan in a fresh Python of each
supported Slicer's version.

Example:
    >>> plan = plan_install("MedRestore/Resources/requirements.txt")
    >>> plan.missing
    ['scikit-image>=0.19', 'psutil>=5.9']
    >>> plan.write_constraints("/tmp/medrestore-constraints.txt")
    >>> plan.pip_arguments("/tmp/medrestore-constraints.txt")
    ['--prefer-binary', '-c', '/tmp/medrestore-constraints.txt', 'scikit-image>=0.19', 'psutil>=5.9']
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from .requirements import canonical_name, is_satisfied, parse, read_requirements
from .slicer_versions import PINNED_BY_SLICER

# PEP 440 public version with an optional local part ("2.4.0+cu121"): what pip accepts after "==".
_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?$")


def installed_distributions() -> Dict[str, str]:
    """{canonical name: version} of every distribution this Python finds (the first of duplicates,
    as ``import`` would)."""
    found: Dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name and distribution.version:
            found.setdefault(canonical_name(name), distribution.version)
    return found


def constraint_lines(installed: Dict[str, str], upgradable: Iterable[str] = ()) -> List[str]:
    """``name==version`` for every installed distribution except those named in ``upgradable``
    (never numpy and scipy). Versions pip could not read back (legacy forms) are left out rather
    than make the whole install fail."""
    free = {canonical_name(name) for name in upgradable} - set(PINNED_BY_SLICER)
    return [f"{name}=={version}" for name, version in sorted(installed.items())
            if name not in free and _VERSION.match(version)]


@dataclass
class InstallPlan:
    """What to install and under which pins.

    Attributes:
        missing: requirement lines to install (they apply here and are not satisfied).
        constraints: ``name==version`` lines pinning what is installed.
        blocked: one sentence per requirement that cannot be met without changing a package
            Slicer pins (numpy, scipy); when not empty, nothing may be installed.
    """

    missing: List[str]
    constraints: List[str]
    blocked: List[str] = field(default_factory=list)

    def write_constraints(self, path) -> Path:
        """Write the constraints file pip reads with ``-c`` (UTF-8, one pin a line)."""
        path = Path(path)
        header = "# Written by MedRestore before installing its requirements: what is installed stays.\n"
        path.write_text(header + "".join(f"{line}\n" for line in self.constraints), encoding="utf-8")
        return path

    def pip_arguments(self, constraints_path) -> List[str]:
        """``pip install`` arguments for ``slicer.util.pip_install`` (a list: each item is one
        argument, so paths with spaces survive). Wheels are preferred to source archives, which
        would need a compiler."""
        return ["--prefer-binary", "-c", str(constraints_path)] + list(self.missing)


def plan_install(requirements_path, installed: Optional[Dict[str, str]] = None) -> InstallPlan:
    """The requirements of ``requirements_path`` missing here, and the pins to install them under."""
    installed = installed_distributions() if installed is None else installed
    missing = [line for line in read_requirements(requirements_path) if not is_satisfied(line, installed)]
    names = [canonical_name(parse(line).name) for line in missing]
    blocked = [f"Slicer's {name} {installed[name]} does not meet MedRestore's '{line}'; "
               "use a newer Slicer (see docs/slicer.md)"
               for line, name in zip(missing, names) if name in PINNED_BY_SLICER and name in installed]
    return InstallPlan(missing, constraint_lines(installed, names), blocked)
