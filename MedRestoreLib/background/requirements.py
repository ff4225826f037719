"""Which of the module's Python requirements (``MedRestore/Resources/requirements.txt``) are not
satisfied here, so the panel can ask once, install them, and then work offline.

Slicer 5.12+ does the check itself in ``slicer.packaging.pip_ensure``; older Slicer has only
``slicer.util.pip_install``, so this check decides there what to install (and the panel shows
the same list in its confirmation either way). torch is not here: it comes from the PyTorch
extension, which picks a build that fits the GPU and driver.

Requirements are read with ``packaging`` (Slicer ships it; otherwise the copy inside pip, which
every Python that can install anything has), so environment markers such as
``; python_version < "3.10"`` count as pip counts them.

Example:
    >>> missing_requirements("MedRestore/Resources/requirements.txt")
    ['scikit-image>=0.19']
"""
from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Dict, List, Optional


def read_requirements(path) -> List[str]:
    """Requirement lines of a requirements file (comments, blanks and pip options dropped)."""
    lines = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def canonical_name(name: str) -> str:
    """PEP 503 form of a distribution name: ``SimpleITK`` → ``simpleitk``, ``a_b.c`` → ``a-b-c``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(requirement: str):
    """A ``packaging.requirements.Requirement``.

    Raises:
        ValueError: the line is not a requirement.
    """
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    try:
        return Requirement(requirement)
    except InvalidRequirement as error:
        raise ValueError(f"not a requirement: {requirement!r} ({error})") from None


def applies(requirement: str, python_version: Optional[str] = None) -> bool:
    """Whether the requirement's marker holds here (or for ``python_version``, e.g. "3.9")."""
    marker = parse(requirement).marker
    if marker is None:
        return True
    environment: Dict[str, str] = {}
    if python_version is not None:
        environment = {"python_version": ".".join(python_version.split(".")[:2]),
                       "python_full_version": python_version}
    return marker.evaluate(environment)


def is_satisfied(requirement: str, installed: Optional[Dict[str, str]] = None) -> bool:
    """Whether an installed distribution satisfies ``requirement`` (one that does not apply here,
    by its marker, is satisfied). ``installed`` maps canonical names to versions; by default the
    distributions of this Python."""
    parsed = parse(requirement)
    if parsed.marker is not None and not parsed.marker.evaluate():
        return True
    if installed is None:
        try:
            version = metadata.version(parsed.name)
        except metadata.PackageNotFoundError:
            return False
    else:
        version = installed.get(canonical_name(parsed.name))
        if version is None:
            return False
    return parsed.specifier.contains(version, prereleases=True)


def missing_requirements(path, installed: Optional[Dict[str, str]] = None) -> List[str]:
    """The requirement lines of ``path`` that apply here and are not satisfied."""
    return [requirement for requirement in read_requirements(path) if not is_satisfied(requirement, installed)]
