"""Loading the shipped localizer (SHA-256 check, config check) and slab-wise inference."""
import json
import shutil

import numpy as np
import pytest
import torch

from MedRestoreLib.detection.dpd import FEATURE_NAMES
from MedRestoreLib.detection.localizer import MODEL_ID, SLAB, load_localizer, predict_probability
from MedRestoreLib.errors import InputError
from MedRestoreLib.models.catalog import current_folder
from MedRestoreLib.models.folder import sha256_of

DEFAULT_MODEL = current_folder(MODEL_ID)


@pytest.fixture(scope="module")
def localizer():
    return load_localizer()


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / DEFAULT_MODEL.name
    shutil.copytree(DEFAULT_MODEL, folder)
    return folder


def test_shipped_model_loads_and_matches_its_metadata(localizer):
    metadata = json.loads((DEFAULT_MODEL / "metadata.json").read_text())
    assert sha256_of(DEFAULT_MODEL / "weights.pt") == metadata["sha256"]
    assert localizer.config["features"] == list(FEATURE_NAMES[: len(localizer.channels)])
    assert sum(p.numel() for p in localizer.model.parameters()) == metadata["parameters"]
    assert localizer.threshold == metadata["validation"]["lstm"]["threshold"]
    assert localizer.dpd_threshold == metadata["validation"]["dpd"]["threshold"]
    assert not localizer.model.training


@pytest.mark.parametrize("shape", [(9, 17, 13), (1, 20, 20), (20, 1, 7), (SLAB + 1, SLAB + 3, 2)])
def test_slab_inference_equals_the_plain_forward_pass(localizer, shape):
    generator = torch.Generator().manual_seed(sum(shape))
    features = localizer.select(torch.randn((len(FEATURE_NAMES),) + shape, generator=generator) * 2.0)
    probability = predict_probability(localizer.model, features, localizer.gate)
    with torch.no_grad():
        expected = torch.sigmoid(localizer.model(features[None], gate=localizer.gate)["logit"])[0, 0]
    assert probability.shape == shape and probability.dtype == np.float32
    np.testing.assert_allclose(probability, expected.numpy(), atol=1e-5, rtol=0)


def test_slab_inference_on_real_features_of_a_damaged_phantom(localizer):
    from MedRestoreLib.detection.dpd import compute_features
    from Testing.phantoms import head_phantom

    array = head_phantom((11, 19, 23)).array.copy()
    array[5, 9:, 11] = 0  # a partial line dropout
    features, _ = compute_features(array)
    features = localizer.select(features)
    probability = predict_probability(localizer.model, features, localizer.gate)
    with torch.no_grad():
        expected = torch.sigmoid(localizer.model(features[None], gate=localizer.gate)["logit"])[0, 0]
    np.testing.assert_allclose(probability, expected.numpy(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_weights_are_refused(model_copy, damage):
    weights = model_copy / "weights.pt"
    data = bytearray(weights.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 3] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(InputError, match="SHA-256"):
        load_localizer(model_copy)


def test_wrong_sha_in_metadata_is_refused(model_copy):
    metadata = json.loads((model_copy / "metadata.json").read_text())
    metadata["sha256"] = "0" * 64
    (model_copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(InputError, match="SHA-256"):
        load_localizer(model_copy)


def test_missing_weights_are_refused(model_copy):
    (model_copy / "weights.pt").unlink()
    with pytest.raises(InputError, match="SHA-256"):
        load_localizer(model_copy)


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="model folder"):
        load_localizer(tmp_path / "no-such-model")


def test_unreadable_config_is_refused(model_copy):
    (model_copy / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="model folder"):
        load_localizer(model_copy)


def test_config_with_other_features_is_refused(model_copy):
    config = json.loads((model_copy / "config.json").read_text())
    config["features"] = list(reversed(config["features"]))
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="other features"):
        load_localizer(model_copy)


def test_weights_that_do_not_fit_the_configured_network_are_refused(model_copy):
    config = json.loads((model_copy / "config.json").read_text())
    config["model"]["hidden"] = 12
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="does not fit"):
        load_localizer(model_copy)


def test_a_pickled_object_is_not_executed(model_copy):
    # weights_only=True: a checkpoint carrying an arbitrary Python object is refused, even with
    # its SHA-256 recorded in the metadata
    weights = model_copy / "weights.pt"
    torch.save({"payload": shutil.copytree}, weights)
    metadata = json.loads((model_copy / "metadata.json").read_text())
    metadata["sha256"] = sha256_of(weights)
    (model_copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(InputError, match="weights_only"):
        load_localizer(model_copy)


def test_a_state_dict_of_the_wrong_kind_is_refused(model_copy):
    weights = model_copy / "weights.pt"
    torch.save([1, 2, 3], weights)  # loads with weights_only=True, but is no state dict
    metadata = json.loads((model_copy / "metadata.json").read_text())
    metadata["sha256"] = sha256_of(weights)
    (model_copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(InputError, match="does not fit"):
        load_localizer(model_copy)
