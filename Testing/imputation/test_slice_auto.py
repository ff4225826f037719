"""impute-slices --model auto: held-out acquired slices, the pick or blend, the report in the
output's header and on stdout, and the inputs too small to hold slices out."""
import json

import numpy as np
import pytest
import SimpleITK as sitk

from MedRestoreLib.cli import main
from MedRestoreLib.imputation.interpolation import interpolate
from MedRestoreLib.imputation.layout import factor_layout, gap_layout
from MedRestoreLib.imputation.slice_auto import _blend, choose, validation_layout
from MedRestoreLib.imputation.slices import DEFAULT_SLICE_MODEL, SliceImputeOptions, SliceModel, impute_slices
from MedRestoreLib.volume import Volume, read_volume, write_volume


def test_auto_is_the_default():
    assert DEFAULT_SLICE_MODEL == SliceModel.AUTO and SliceImputeOptions().model == SliceModel.AUTO


def test_every_other_interior_slice_is_held_out_on_the_same_thin_grid():
    layout = factor_layout(7, 4, "thick")
    reduced, kept, held = validation_layout(layout)
    assert list(held) == [1, 3, 5] and list(kept) == [0, 2, 4, 6]
    assert reduced.length == layout.length and np.array_equal(reduced.slabs, layout.slabs[kept])
    assert validation_layout(factor_layout(2, 4, "sampled"))[2].size == 0


def test_blend_weights_recover_an_exact_mixture_and_sum_to_one():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 500))
    weights = _blend({"a": a, "b": b, "c": c}, 0.7 * a + 0.3 * b)
    assert weights["a"] == pytest.approx(0.7) and weights["b"] == pytest.approx(0.3)
    assert weights["c"] == pytest.approx(0.0, abs=1e-9) and sum(weights.values()) == pytest.approx(1.0)


def test_linear_data_along_k_chooses_linear_interpolation():
    """A zig-zag along k: linear interpolation of every other slice is exact there, cubic is not."""
    k = np.arange(33, dtype=np.float32)
    zigzag = np.abs((k % 8) - 4)[:, None, None] * np.ones((1, 12, 12), np.float32)
    acquired = zigzag[::2] / 4
    layout = factor_layout(len(acquired), 2, "sampled")
    candidates = {"linear": lambda a, g: interpolate(a, g, cubic=False), "cubic": lambda a, g: interpolate(a, g)}
    choice = choose(acquired, layout, candidates)
    assert choice.name == "linear" and choice.mse["linear"] < 1e-10 < choice.mse["cubic"]


def test_cli_reports_the_choice_in_the_header_and_one_line(tmp_path, capsys):
    k, j, i = np.meshgrid(np.arange(12), np.arange(40), np.arange(40), indexing="ij")
    thick = (100 + 50 * np.sin(j / 5.0) * np.cos(k / 2.0) + 20 * np.cos(i / 7.0)).astype(np.int16)
    write_volume(Volume(thick), tmp_path / "thick.nrrd")
    assert main(["impute-slices", str(tmp_path / "thick.nrrd"), str(tmp_path / "thin.nrrd"), "--factor", "3",
                 "--adapt-seconds", "0.5", "--device", "cpu", "--quiet"]) == 0
    said = capsys.readouterr().out.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("auto chose") and "held-out acquired slices" in said[0]
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(tmp_path / "thin.nrrd"))
    reader.ReadImageInformation()
    report = json.loads(reader.GetMetaData("MedRestore.auto"))
    assert reader.GetMetaData("MedRestore.model") == "auto" and report["held_out_slices"] == 5
    assert set(report["held_out_mse"]) >= {"linear", "cubic", "lstm"}
    assert abs(sum(report["weights"].values()) - 1) < 1e-6
    assert read_volume(tmp_path / "thin.nrrd").shape == (36, 40, 40)


@pytest.mark.parametrize("count, factor", [(2, 4), (3, 8)])
def test_fewer_slices_than_the_factor_still_give_a_result(count, factor):
    thick = np.stack([np.full((16, 16), 10.0 * (n + 1), np.float32) for n in range(count)])
    result = impute_slices(Volume(thick), SliceImputeOptions(factor=factor, acquisition="sampled", device="cpu",
                                                             adapt_seconds=0))
    out = result.volume.array
    assert out.shape[0] == (count - 1) * factor + 1 and np.all(np.diff(out[:, 8, 8]) >= 0)
    assert result.report["auto"]["held_out_slices"] == count - 2  # 2 slices: none to hold out (linear)
    if count == 2:
        assert result.report["auto"]["choice"] == "linear"


def test_auto_with_missing_slices_holds_out_acquired_ones():
    layout = gap_layout(20, [5, 6, 12])
    reduced, kept, held = validation_layout(layout)
    assert held.size == 8 and not set(reduced.exact) & {5, 6, 12}
