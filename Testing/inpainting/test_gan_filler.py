"""The GAN filler with the shipped weights, on the bundled MRI: invariants, quality floor,
determinism, and bad input (tiny volumes, everything or nothing masked, damaged weights)."""
import json
import shutil

import numpy as np
import pytest

from MedRestoreLib.data import SAMPLE  # noqa: E402
from MedRestoreLib.defects import corrupt
from MedRestoreLib.errors import InputError
from MedRestoreLib.inpainting import filler_for
from MedRestoreLib.inpainting.gan_filler import MODEL_ID, defect_region, gan_fill, load_gan
from MedRestoreLib.metrics import psnr
from MedRestoreLib.models.catalog import current_folder
from MedRestoreLib.options import FillMethod, FillOptions
from MedRestoreLib.volume import Volume, read_volume

DEFAULT_MODEL = current_folder(MODEL_ID)


def test_shipped_weights_match_their_card(model):
    metadata = json.loads((DEFAULT_MODEL / "metadata.json").read_text())
    assert sum(p.numel() for p in model.generator.parameters()) == metadata["parameters"]
    assert (DEFAULT_MODEL / "weights.pt").stat().st_size < 20e6


def test_only_masked_voxels_change_and_the_hole_is_repaired(model, blob_case):
    clean, damaged, mask = blob_case
    filled = gan_fill(damaged, mask, model=model)
    np.testing.assert_array_equal(filled[~mask], damaged[~mask])
    assert np.all(np.isfinite(filled))
    assert filled[mask].min() >= damaged[~mask].min() and filled[mask].max() <= damaged[~mask].max()
    # The simulator writes a constant level into the blob; the fill must be far closer to the truth.
    assert psnr(clean, filled, mask) > psnr(clean, damaged, mask) + 8


def test_same_input_gives_the_same_fill(model, blob_case):
    _, damaged, mask = blob_case
    np.testing.assert_array_equal(gan_fill(damaged, mask, model=model), gan_fill(damaged, mask, model=model))


def test_masked_values_are_never_read(model, blob_case):
    _, damaged, mask = blob_case
    other = np.where(mask, 1e4, damaged)
    np.testing.assert_array_equal(gan_fill(damaged, mask, model=model), gan_fill(other, mask, model=model))


def test_filler_for_gan_runs_the_shipped_model(blob_case):
    _, damaged, mask = blob_case
    assert FillMethod("gan") is FillMethod.GAN
    filled = filler_for(FillOptions(method="gan"), "cpu")(damaged, mask)
    assert not np.array_equal(filled[mask], damaged[mask])


def test_the_fill_only_needs_the_defect_region(model):
    """A hole far from the edges is filled alike in the whole scan and in the region around it
    (the region is what gan_fill works on; only the smooth start may differ, by rounding)."""
    sample = read_volume(SAMPLE).array.astype(np.float64)
    mask = np.zeros(sample.shape, bool)
    mask[36:44, 44:52, 36:44] = True
    region = defect_region(mask, model.config["model"])
    reach = 36 - region[0].start
    assert reach > 2
    assert region == (slice(36 - reach, 44 + reach), slice(44 - reach, 52 + reach), slice(36 - reach, 44 + reach))
    whole = gan_fill(sample, mask, model=model)
    inside = gan_fill(sample[region], mask[region], model=model)
    assert np.abs(whole[region][mask[region]] - inside[mask[region]]).max() < 0.01 * np.ptp(sample)
    edge = np.zeros(sample.shape, bool)
    edge[0:3, 0:4, -5:] = True
    assert [(r.start, r.stop) for r in defect_region(edge, model.config["model"])] == \
        [(0, 3 + reach), (0, 4 + reach), (sample.shape[2] - 5 - reach, sample.shape[2])]


def test_the_fill_is_the_same_for_any_batch_size(model, blob_case):
    """What lets the out-of-memory fallback halve the batch: only memory changes, not the fill."""
    _, damaged, mask = blob_case
    default = gan_fill(damaged, mask, model=model)
    small = gan_fill(damaged, mask, model=model, batch_pixels=32 * 32)  # one tile per forward pass
    assert np.allclose(small, default, atol=1e-4 * np.ptp(damaged))


def test_nothing_masked_returns_the_input(model, blob_case):
    _, damaged, _ = blob_case
    np.testing.assert_array_equal(gan_fill(damaged, np.zeros(damaged.shape, bool), model=model), damaged)


def test_everything_masked_is_refused(model):
    with pytest.raises(InputError, match="every voxel is masked"):
        gan_fill(np.ones((4, 5, 6)), np.ones((4, 5, 6), bool), model=model)


def test_a_mask_of_another_shape_is_refused(model):
    with pytest.raises(InputError, match="shape"):
        gan_fill(np.ones((4, 5, 6)), np.ones((4, 5, 7), bool), model=model)


@pytest.mark.parametrize("shape", [(3, 5, 4), (1, 20, 20), (40, 1, 9)])
def test_volumes_smaller_than_a_tile_are_filled(model, shape):
    rng = np.random.default_rng(1)
    array = 100 + 10 * rng.random(shape)
    mask = np.zeros(shape, bool)
    mask[tuple(n // 2 for n in shape)] = True
    filled = gan_fill(array, mask, model=model)
    np.testing.assert_array_equal(filled[~mask], array[~mask])
    assert 100 <= filled[mask][0] <= 110


def test_a_constant_image_is_filled_with_its_constant(model):
    array = np.full((12, 12, 12), 7.0)
    mask = np.zeros(array.shape, bool)
    mask[4:8, 4:8, 4:8] = True
    np.testing.assert_allclose(gan_fill(array, mask, model=model)[mask], 7.0)


def _copy_model(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL, folder)
    return folder


def test_truncated_weights_are_refused(tmp_path):
    folder = _copy_model(tmp_path)
    data = (folder / "weights.pt").read_bytes()
    (folder / "weights.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="SHA-256"):
        load_gan(folder)


def test_tampered_weights_are_refused_even_with_a_matching_size(tmp_path):
    folder = _copy_model(tmp_path)
    data = bytearray((folder / "weights.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "weights.pt").write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256"):
        load_gan(folder)


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    folder = _copy_model(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["model"]["width"] = 8
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="does not fit the network"):
        load_gan(folder)


def test_restore_method_gan_from_the_command_line(tmp_path):
    from MedRestoreLib.cli import main
    from MedRestoreLib.volume import write_volume

    sample = read_volume(SAMPLE)
    clean = Volume(np.ascontiguousarray(sample.array[20:60, 24:72, 18:58]), sample.ijk_to_ras)
    damaged, mask, _ = corrupt(clean, "box", seed=2, box_size=8)
    write_volume(damaged, tmp_path / "damaged.nrrd")
    write_volume(mask, tmp_path / "mask.nrrd")
    assert main(["restore", str(tmp_path / "damaged.nrrd"), str(tmp_path / "out.nrrd"), "--mask",
                 str(tmp_path / "mask.nrrd"), "--method", "gan", "--device", "cpu", "--quiet"]) == 0
    restored = read_volume(tmp_path / "out.nrrd").array
    outside = mask.array == 0
    np.testing.assert_array_equal(restored[outside], damaged.array[outside])
    assert restored.dtype == damaged.array.dtype
    assert psnr(clean.array, restored, mask.array) > psnr(clean.array, damaged.array, mask.array) + 8

    write_volume(mask.with_array(np.ones_like(mask.array)), tmp_path / "all.nrrd")
    assert main(["restore", str(tmp_path / "damaged.nrrd"), str(tmp_path / "out2.nrrd"), "--mask",
                 str(tmp_path / "all.nrrd"), "--method", "gan", "--quiet"]) == 2
