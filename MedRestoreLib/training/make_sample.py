"""Make the bundled demo sample from the MNI152 2009a T1 of the data cache (run once; committed).

    python -m MedRestoreLib.training.make_sample [--cache DIR]

MNI152 2009a T1 (1 mm, from the nilearn wheel, see fetch_data) → Gaussian anti-aliasing
(σ = 0.5 voxel of the target) → 2 mm isotropic, linear → cropped to the head with a 2-voxel
margin → uint8 NRRD at ``MedRestoreLib/data/mni152_t1_2mm.nrrd`` (about 0.5 MB).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..data import SAMPLE
from ..volume import read_volume, sitk_from_volume, volume_from_sitk, write_volume
from .fetch_data import default_cache, fetch

TARGET_SPACING = 2.0


def make_sample(cache: Path, target: Path = SAMPLE) -> Path:
    import SimpleITK as sitk

    fetch(cache)
    source = read_volume(cache / "mni152_t1.nii.gz")
    image = sitk.SmoothingRecursiveGaussian(sitk.Cast(sitk_from_volume(source), sitk.sitkFloat32),
                                            0.5 * TARGET_SPACING)
    size = [int(round(n * s / TARGET_SPACING)) for n, s in zip(image.GetSize(), image.GetSpacing())]
    resampled = sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(),
                              [TARGET_SPACING] * 3, image.GetDirection(), 0.0, sitk.sitkFloat32)
    volume = volume_from_sitk(resampled)
    head = np.argwhere(volume.array > 0.05 * volume.array.max())
    low = np.maximum(head.min(axis=0) - 2, 0)
    high = np.minimum(head.max(axis=0) + 3, volume.array.shape)
    cropped = volume.array[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    matrix = volume.ijk_to_ras.copy()
    matrix[:3, 3] = volume.ijk_to_ras[:3, :3] @ low[::-1] + volume.ijk_to_ras[:3, 3]
    out = type(volume)(np.clip(np.rint(cropped), 0, 255).astype(np.uint8), matrix)
    write_volume(out, target)
    return target


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=default_cache())
    print(make_sample(parser.parse_args().cache))
