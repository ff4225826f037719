"""Networks loaded once and reused give exactly what loading them anew gives."""
import numpy as np

from MedRestoreLib.defects import corrupt
from MedRestoreLib.imputation.slices import SliceImputeOptions, impute_slices
from MedRestoreLib.models.loaded import LoadedModels
from MedRestoreLib.options import RestoreOptions
from MedRestoreLib.pipeline import detect, restore
from Testing.phantoms import head_phantom


def test_restore_and_detect_reuse_the_loaded_networks_with_identical_results():
    damaged, _, _ = corrupt(head_phantom(), "mixed", seed=3)
    models = LoadedModels()
    options = RestoreOptions.from_dict({"device": "cpu"})  # the defaults: LSTM detector, GAN fill
    first = restore(damaged, options, models=models)
    localizer, gan = models.localizer("cpu"), models.gan("cpu")
    again = restore(damaged, options, models=models)
    assert len(models) == 2 and models.localizer("cpu") is localizer and models.gan("cpu") is gan
    fresh = restore(damaged, options)
    assert np.array_equal(first.volume.array, fresh.volume.array) and np.array_equal(again.volume.array,
                                                                                       fresh.volume.array)
    mask, _ = detect(damaged, device="cpu", models=models)
    assert np.array_equal(mask.array, fresh.mask.array) and len(models) == 2


def test_the_unet_and_auto_fills_reuse_their_generators_with_identical_results():
    damaged, _, _ = corrupt(head_phantom(), "box", seed=1)
    for method, loaded in (("unet", "inpaint-unet"), ("auto", "inpaint-gan")):
        models = LoadedModels()
        options = RestoreOptions.from_dict({"detect": {"method": "median-mad"}, "fill": {"method": method},
                                            "device": "cpu"})
        reused = restore(damaged, options, models=models)
        assert models.loaded() == [(loaded, "cpu")]
        assert np.array_equal(reused.volume.array, restore(damaged, options).volume.array), method


def test_classical_methods_load_nothing_and_the_slice_imputer_loads_its_network_once():
    models = LoadedModels()
    restore(head_phantom(), RestoreOptions.from_dict({"detect": {"method": "median-mad"},
                                                      "fill": {"method": "biharmonic3d"}}), models=models)
    assert len(models) == 0
    options = SliceImputeOptions(factor=2, model="lstm", device="cpu")
    first = impute_slices(head_phantom(), options, models=models)
    network = models.slice_network("lstm")
    second = impute_slices(head_phantom(), options, models=models)
    assert len(models) == 1 and models.slice_network("lstm") is network
    assert np.array_equal(first.volume.array, second.volume.array)
    assert np.array_equal(first.volume.array, impute_slices(head_phantom(), options).volume.array)
