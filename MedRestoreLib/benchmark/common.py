"""What every benchmark section shares: the development volumes, the 256³ timing volume and the
verdict written beside a target (a timing child's peak memory: :mod:`MedRestoreLib.memory`)."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Dict

import numpy as np

from ..data import SAMPLE
from ..volume import Volume, read_volume


def development_volumes(quick: bool) -> Dict[str, Volume]:
    volumes = {"mni152-2mm (bundled)": read_volume(SAMPLE)}
    if not quick:
        from ..training.fetch_data import default_cache, fetch

        cache = default_cache()
        fetch(cache)
        volumes["mni152-1mm"] = read_volume(cache / "mni152_t1.nii.gz")
    return volumes


def sample_resampled(size: int = 256) -> Volume:
    """The bundled sample resampled (linear, float32) to ``size``³ over the same extent."""
    import SimpleITK as sitk

    from ..volume import sitk_from_volume, volume_from_sitk

    image = sitk.Cast(sitk_from_volume(read_volume(SAMPLE)), sitk.sitkFloat32)
    spacing = [s * n / size for s, n in zip(image.GetSpacing(), image.GetSize())]
    return volume_from_sitk(sitk.Resample(image, [size] * 3, sitk.Transform(), sitk.sitkLinear,
                                          image.GetOrigin(), spacing, image.GetDirection()))


def sample_256() -> Volume:
    """The bundled sample resampled to 256³ (uint8): the volume every 256³ cost is measured on."""
    big = sample_resampled(256)
    return big.with_array(np.clip(big.array, 0, 255).astype(np.uint8))


def child_json(module: str, *arguments: str) -> Dict:
    """Run ``python -m module arguments`` in a child process (its own memory, its own clock) and
    return the JSON object it prints last."""
    completed = subprocess.run([sys.executable, "-m", module, *arguments], capture_output=True, text=True,
                               check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def verdict(met: bool, margin: float) -> str:
    return "met" if met else f"missed by {abs(margin):.4g}"
