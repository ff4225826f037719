"""The GAN filler's parts: smooth initial fill, tiling, network shapes, covariance term."""
import numpy as np
import pytest
import torch

from MedRestoreLib.covariance import column_covariance as reference_covariance
from MedRestoreLib.inpainting.gan_discriminator import PatchDiscriminator, patch_weights
from MedRestoreLib.inpainting.gan_generator import build_generator, input_channels
from MedRestoreLib.inpainting.gan_losses import column_covariance, covariance_loss
from MedRestoreLib.inpainting.slab_tiles import padding, plan_tiles, small_defects
from MedRestoreLib.inpainting.smooth_fill import smooth_fill


def test_smooth_fill_keeps_known_voxels_and_nearly_reproduces_a_linear_image():
    k, j, i = np.indices((20, 24, 24)).astype(np.float32)
    ramp = torch.from_numpy(0.1 + 0.02 * k + 0.01 * j - 0.005 * i)
    known = torch.ones(ramp.shape, dtype=torch.bool)
    known[8:12, 8:14, 6:12] = False
    filled = smooth_fill(torch.where(known, ramp, torch.zeros(())), known, iterations=200)
    assert torch.equal(filled[known], ramp[known])
    assert float((filled - ramp).abs().max()) < 0.01


def test_smooth_fill_refuses_a_volume_with_nothing_known():
    with pytest.raises(ValueError):
        smooth_fill(torch.zeros(3, 3, 3), torch.zeros(3, 3, 3, dtype=torch.bool))


def test_tiles_cover_every_defect_voxel_once_per_axis_and_stay_inside_the_padding():
    mask = np.zeros((30, 40, 50), bool)
    mask[5:12, 10:30, 20:26] = True  # a box
    mask[20, 3, 40] = True  # a pixel
    mask[25, 35, 0:50] = True  # a full line
    small = small_defects(mask, 3)
    assert small.sum() == 1 and small[20, 3, 40]
    tiles = plan_tiles(mask & ~small, 12, 32, 3, 16) + plan_tiles(small, 12, 32, 3, 16, axes=(0,))
    count = np.zeros(mask.shape, int)
    pad = padding(12, 32, 4, 2)
    for tile in tiles:
        assert all(s % 4 == 0 for s in tile.shape)
        assert all(-pad <= a and a + s <= n + pad for a, s, n in
                   zip(tile.start, tile.shape, np.delete(mask.shape, tile.axis)))
        np.moveaxis(count, tile.axis, 0)[tile.index, tile.voxels[0], tile.voxels[1]] += 1
    assert np.all(count[mask & ~small] == 3) and count[20, 3, 40] == 1 and np.all(count[~mask] == 0)


@pytest.mark.parametrize("size", [16, 32, 48])
def test_generator_and_critic_shapes(size):
    generator = build_generator({"half_slab": 2, "width": 8})
    slab = torch.rand(2, input_channels(2), size, size)
    assert generator(slab).shape == (2, 1, size, size)
    critic = PatchDiscriminator(8)
    logits = critic(slab[:, :1], slab[:, 7:8])
    assert logits.shape == (2, 1, size // 4, size // 4)
    assert patch_weights(slab[:, 7:8], logits.shape).shape == logits.shape


def test_covariance_term_uses_the_projects_column_covariance():
    slices = torch.rand(3, 1, 12, 9, dtype=torch.float64)
    np.testing.assert_allclose(column_covariance(slices).numpy(),
                               reference_covariance(slices[:, 0].numpy(), dtype=torch.float64), atol=1e-12)


def test_covariance_term_is_zero_for_the_truth_and_grows_with_a_flat_fill():
    real = torch.rand(2, 1, 16, 16)
    mask = torch.zeros_like(real)
    mask[:, :, 4:10, 4:10] = 1
    assert float(covariance_loss(real, real, mask)) == 0.0
    flat = torch.where(mask > 0, torch.full_like(real, 0.5), real)
    assert float(covariance_loss(flat, real, mask)) > 0.1
