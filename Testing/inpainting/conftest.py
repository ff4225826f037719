"""Fixtures the GAN tests share: the shipped model, loaded once, and blobs in a crop of the sample."""
import numpy as np
import pytest

from MedRestoreLib.data import SAMPLE
from MedRestoreLib.defects import corrupt
from MedRestoreLib.inpainting.gan_filler import load_gan
from MedRestoreLib.volume import Volume, read_volume


@pytest.fixture(scope="module")
def model():
    return load_gan(device="cpu")  # the current inpaint-gan of models/index.json


@pytest.fixture(scope="module")
def blob_case():
    """Blobs in the middle 40×48×40 of the bundled MRI (small, so each fill takes well under a second)."""
    sample = read_volume(SAMPLE)
    clean = Volume(np.ascontiguousarray(sample.array[20:60, 24:72, 18:58]), sample.ijk_to_ras)
    damaged, mask, _ = corrupt(clean, "blob", seed=4)
    return clean.array, damaged.array.astype(np.float64), mask.array.astype(bool)
