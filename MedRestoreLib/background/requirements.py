"""Which of the module's Python requirements (``MedRestore/Resources/requirements.txt``) are not
satisfied here, so the panel can ask once, install them, and then work offline.

Slicer 5.12+ does the check itself in ``slicer.packaging.pip_ensure``; older Slicer has only
``slicer.util.pip_install``, so this check decides there what to install (and the panel shows
the same list in its confirmation either way). torch is not here: it comes from the PyTorch
extension, which picks a build that fits the GPU and driver.

Example:
    >>> missing_requirements("MedRestore/Resources/requirements.txt")
    ['scikit-image>=0.19']
"""
from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import List, Tuple

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$")


def read_requirements(path) -> List[str]:
    """Requirement lines of a requirements file (comments, blanks and pip options dropped)."""
    lines = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def _version_tuple(text: str) -> Tuple[int, ...]:
    """(2, 1, 0) from "2.1.0rc1": the leading numbers, which is all a >= bound needs."""
    numbers = []
    for part in text.split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        numbers.append(int(match.group()))
    return tuple(numbers)


def is_satisfied(requirement: str) -> bool:
    """Whether an installed distribution satisfies ``name`` or ``name>=x.y`` (the only forms
    requirements.txt uses; other specifiers go through ``packaging`` when it is there)."""
    match = _REQUIREMENT.match(requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    name, specifier = match.group(1), match.group(2).replace(" ", "")
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    if not specifier:
        return True
    if re.fullmatch(r">=[0-9][0-9.]*", specifier):
        return _version_tuple(installed) >= _version_tuple(specifier[2:])
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return True  # cannot judge: trust what is installed rather than reinstall
    return SpecifierSet(specifier).contains(installed, prereleases=True)


def missing_requirements(path) -> List[str]:
    """The requirement lines of ``path`` that are not satisfied in this Python."""
    return [requirement for requirement in read_requirements(path) if not is_satisfied(requirement)]
