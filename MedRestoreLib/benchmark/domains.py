"""The image domains every learned method is measured on — none of them trained or tuned on.

- MNI152 2009a T1 at 2 mm (the bundled sample) and 1 mm (nilearn's wheel);
- the 2-D and few-slice images of Debian's ``insighttoolkit5-examples`` (proton density, T1,
  mid-sagittal, fat MRI, the cryosection head photograph, three PD slices);
- synthetic images made by :mod:`MedRestoreLib.training.synthesis` from the atlases no trainer
  reads (AICHA, natbrainlab) with named recipes the trainers never draw exactly: CT-like (HU,
  skull, int16), EPI-like (3.5 × 3.5 × 5 mm, N/2 ghost, low SNR), T2-like, PD-like, a noise-free
  template, and 0.5 mm.

Each domain is a :class:`Domain`: a clean :class:`~MedRestoreLib.volume.Volume` and what it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..data import SAMPLE
from ..volume import Volume, read_volume


@dataclass
class Domain:
    name: str
    volume: Volume
    description: str
    group: str  # "3-D", "few slices" or "2-D"


ITK_SLICES = {  # file: (domain name, description)
    "BrainProtonDensitySlice.png": ("ITK PD slice", "proton-density MRI, one 2-D slice (8-bit PNG)"),
    "BrainT1Slice.png": ("ITK T1 slice", "T1 MRI, one 2-D slice (8-bit PNG)"),
    "BrainMidSagittalSlice.png": ("ITK mid-sagittal", "mid-sagittal MRI slice (8-bit PNG)"),
    "FatMRISlice.png": ("ITK fat MRI", "fat MRI, one 2-D slice (8-bit PNG)"),
    "VisibleWomanHeadSlice.png": ("ITK cryosection head", "Visible Woman cryosection photograph, grey"),
}


def _png_volume(path: Path) -> Volume:
    """A PNG as a one-slice Volume (k = 1); colour becomes luminance (ITU-R BT.601)."""
    from PIL import Image

    array = np.asarray(Image.open(path))
    if array.ndim == 3:  # RGB(A), or grey stored as RGB
        rgb = array[..., :3].astype(np.float32)
        array = np.round(rgb @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    return Volume(np.ascontiguousarray(array[None]), np.diag([-1.0, -1.0, 1.0, 1.0]))


def _synthetic(name: str, atlas: np.ndarray, size: Optional[tuple], **settings) -> Volume:
    from ..training.synthesis import Recipe, render

    array, spacing = render(atlas, Recipe(**settings), size)
    return Volume.from_geometry(array, spacing=tuple(reversed(spacing)))


SYNTHETIC = {  # name: (atlas index of HELD_OUT_ATLASES, output size or None, recipe, description)
    "synthetic CT-like": (0, None, dict(contrast="ct", head=True, spacing_mm=(2.5, 1.0, 1.0), noise=0.03,
                                        rician=False, dtype="int16", blur_mm=0.7, seed=11),
                          "CT in HU: air −1000, brain 20–45, skull 400–1500; int16, 1 × 1 × 2.5 mm"),
    "synthetic EPI-like": (1, None, dict(contrast="t2", spacing_mm=(5.0, 3.5, 3.5), ghost=0.1, noise=0.08,
                                         bias=0.3, blur_mm=1.0, dtype="int16", scale=800.0, seed=12),
                           "EPI-like: 3.5 × 3.5 × 5 mm, N/2 ghost 10 %, noise 8 %, bias field"),
    "synthetic T2-like": (0, None, dict(contrast="t2", head=True, spacing_mm=(1.5, 1.5, 1.5), noise=0.03,
                                        dtype="float32", scale=2000.0, seed=13),
                          "T2-like contrast with head, 1.5 mm, float32"),
    "synthetic PD-like": (1, None, dict(contrast="pd", masked=True, spacing_mm=(2.0, 2.0, 2.0), noise=0.04,
                                        dtype="uint8", seed=14),
                          "PD-like, skull-stripped (background exactly 0), 2 mm, uint8"),
    "synthetic noise-free": (0, None, dict(contrast="t1", masked=True, spacing_mm=(2.0, 2.0, 2.0), noise=0.0,
                                           bias=0.0, dtype="float32", seed=15),
                             "noise-free T1-like template, skull-stripped, 2 mm"),
    "synthetic 0.5 mm": (1, (96, 128, 128), dict(contrast="t1", head=True, spacing_mm=(0.5, 0.5, 0.5),
                                                 noise=0.02, dtype="int16", scale=1200.0, seed=16),
                         "T1-like at 0.5 mm (a 96 × 128 × 128 region), int16"),
}


def development_domains(cache: Optional[Path] = None, quick: bool = False,
                        names: Optional[List[str]] = None) -> Dict[str, Domain]:
    """The domains by name (``quick``: the bundled sample, two ITK slices, two synthetic ones)."""
    from ..training.fetch_data import default_cache, fetch
    from ..training.synthesis import HELD_OUT_ATLASES, load_label_maps

    domains = {"MNI152 T1 2 mm": Domain("MNI152 T1 2 mm", read_volume(SAMPLE),
                                        "MNI152 2009a T1, skull-stripped, 2 mm (bundled sample)", "3-D")}
    cache = Path(cache) if cache is not None else default_cache()
    fetch(cache)
    if not quick:
        domains["MNI152 T1 1 mm"] = Domain("MNI152 T1 1 mm", read_volume(cache / "mni152_t1.nii.gz"),
                                           "MNI152 2009a T1, skull-stripped, 1 mm", "3-D")
    for file, (name, description) in ITK_SLICES.items():
        if not quick or file in ("BrainProtonDensitySlice.png", "BrainT1Slice.png"):
            domains[name] = Domain(name, _png_volume(cache / "itk" / file), description, "2-D")
    if not quick:
        three = read_volume(cache / "itk" / "BrainProtonDensity3Slices.mha")
        domains["ITK PD 3 slices"] = Domain("ITK PD 3 slices", three, "proton-density MRI, three slices", "few slices")
    atlases = load_label_maps(cache, HELD_OUT_ATLASES)
    for name, (atlas, size, recipe, description) in SYNTHETIC.items():
        if not quick or name in ("synthetic CT-like", "synthetic EPI-like"):
            domains[name] = Domain(name, _synthetic(name, atlases[atlas], size, **recipe), description, "3-D")
    if names:
        domains = {name: domains[name] for name in names}
    return domains
