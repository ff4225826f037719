"""The Slicer releases MedRestore supports, with the Python and the numpy/scipy each one ships:
the one table the install code, the version checks and docs/slicer.md agree with.

Slicer builds its own Python and installs numpy and scipy at fixed versions (``SuperBuild/
External_python.cmake``, ``External_python-numpy.cmake``, ``External_python-scipy.cmake``).
Every other package of Slicer's Python (VTK, SimpleITK, ...) is wrapped for that numpy, so an
extension must never move it: the panel installs with a constraints file that pins what is
installed (``MedRestoreLib.background.constraints``), and ``make check-slicer-versions`` resolves
``Resources/requirements.txt`` under each row's pins with its Python version.

Example:
    >>> [release.version for release in SUPPORTED_SLICER]
    ['5.6.2', '5.8.1', '5.10.0', '5.12.3']
    >>> release_for("5.8").pins()
    ['numpy==1.26.4', 'scipy==1.13.1']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

# What Slicer pins in its SuperBuild: never upgraded or downgraded by an extension.
PINNED_BY_SLICER = ("numpy", "scipy")

PIP_INSTALL = "slicer.util.pip_install"  # Slicer ≤ 5.10: the panel checks, asks, installs
PIP_ENSURE = "slicer.packaging.pip_ensure"  # Slicer ≥ 5.12: checks, asks, installs, offers a restart


@dataclass(frozen=True)
class SlicerRelease:
    """One supported Slicer release and its Python packages.

    Attributes:
        version: the release, "5.6.2".
        python: the Python it builds, "3.9.10".
        numpy: the numpy it installs.
        scipy: the scipy it installs.
        installer: how the panel installs requirements there (:data:`PIP_INSTALL` or :data:`PIP_ENSURE`).
    """

    version: str
    python: str
    numpy: str
    scipy: str
    installer: str

    @property
    def python_minor(self) -> str:
        """"3.9" of "3.9.10": what pip's ``--python-version`` and environment markers take."""
        return ".".join(self.python.split(".")[:2])

    @property
    def series(self) -> Tuple[int, int]:
        """(5, 6) of "5.6.2"."""
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    def pins(self) -> List[str]:
        """Constraint lines for what this release ships: ``["numpy==1.26.1", "scipy==1.11.3"]``."""
        return [f"numpy=={self.numpy}", f"scipy=={self.scipy}"]


SUPPORTED_SLICER = (
    SlicerRelease("5.6.2", "3.9.10", numpy="1.26.1", scipy="1.11.3", installer=PIP_INSTALL),
    SlicerRelease("5.8.1", "3.9.10", numpy="1.26.4", scipy="1.13.1", installer=PIP_INSTALL),
    SlicerRelease("5.10.0", "3.12.10", numpy="2.0.2", scipy="1.13.1", installer=PIP_INSTALL),
    SlicerRelease("5.12.3", "3.12.10", numpy="2.3.4", scipy="1.16.3", installer=PIP_ENSURE),
)


def release_for(version: str) -> Optional[SlicerRelease]:
    """The supported release of the same major.minor series as ``version`` ("5.8", "5.8.0"), or None."""
    wanted = tuple(int(part) for part in version.split(".")[:2])
    return next((release for release in SUPPORTED_SLICER if release.series == wanted), None)
