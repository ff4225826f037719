"""impute-sequence on 4-D series: blank frames found and filled, forecasts, errors."""
import numpy as np
import pytest

from MedRestoreLib.cli import main
from MedRestoreLib.imputation.frames import impute_frames
from MedRestoreLib.volume import Volume, read_series, write_series, write_volume

SHAPE = (6, 10, 12)


def frames(count=6):
    """Frames whose voxels change linearly in time (exactly recoverable by linear regression)."""
    rng = np.random.default_rng(0)
    start, slope = rng.uniform(100, 200, SHAPE), rng.uniform(-5, 5, SHAPE)
    matrix = np.diag([1.5, 1.5, 3.0, 1.0])
    return [Volume((start + slope * t).astype(np.float32), matrix) for t in range(count)]


def test_blank_frame_is_found_and_filled_by_linear_regression(tmp_path):
    truth = frames()
    given = [f.copy() for f in truth]
    given[3] = given[3].with_array(np.zeros(SHAPE, np.float32))
    write_series(given, tmp_path / "series.nrrd")
    assert main(["impute-sequence", str(tmp_path / "series.nrrd"), str(tmp_path / "out.nrrd"),
                 "--model", "linear", "--forecast", "1", "--quiet"]) == 0
    out = read_series(tmp_path / "out.nrrd")
    assert len(out) == 7
    np.testing.assert_allclose(out[3].array, truth[3].array, atol=1e-3)
    np.testing.assert_array_equal(out[2].array, given[2].array)
    np.testing.assert_allclose(out[6].array, frames(7)[6].array, atol=1e-3)
    np.testing.assert_allclose(out[0].spacing, [1.5, 1.5, 3.0])


@pytest.mark.parametrize("model", ["lstm", "srn"])
def test_recurrent_models_fill_listed_frames_close_to_truth(model):
    truth = frames()
    out = impute_frames(truth, model, missing=[2], forecast=1)
    assert len(out) == 7 and out[2].array.dtype == np.float32
    error = np.abs(out[2].array - truth[2].array).mean()
    assert error < 0.5 * np.abs(truth[2].array - truth[2].array.mean()).mean()
    np.testing.assert_array_equal(out[1].array, truth[1].array)


def test_a_3d_volume_exits_2(tmp_path, capsys):
    write_volume(frames()[0], tmp_path / "volume.nrrd")
    assert main(["impute-sequence", str(tmp_path / "volume.nrrd"), str(tmp_path / "o.nrrd"), "--quiet"]) == 2
    assert "single 3-D volume" in capsys.readouterr().err


def test_too_few_observed_frames_is_refused():
    from MedRestoreLib.errors import InputError

    with pytest.raises(InputError, match="at least 2"):
        impute_frames(frames(3), "linear", missing=[0, 1])


def test_times_place_the_frames_linear_regression_recovers_irregular_visits(tmp_path, capsys):
    # Voxels change linearly in time; visits at 0, 1, 3, 7, 8 and the visit at 3 is blank.
    times = [0.0, 1.0, 3.0, 7.0, 8.0]
    dense = frames(12)
    truth = [dense[int(t)] for t in times]
    given = [f.copy() for f in truth]
    given[2] = given[2].with_array(np.zeros(SHAPE, np.float32))
    write_series(given, tmp_path / "series.nrrd")
    assert main(["impute-sequence", str(tmp_path / "series.nrrd"), str(tmp_path / "out.nrrd"), "--model",
                 "linear", "--forecast", "1", "--times=" + ",".join(map(str, times)), "--quiet"]) == 0
    out = read_series(tmp_path / "out.nrrd")
    np.testing.assert_allclose(out[2].array, dense[3].array, atol=1e-3)
    at_9_5 = dense[0].array + (dense[1].array - dense[0].array) * 9.5  # the forecast: median step 1.5
    np.testing.assert_allclose(out[5].array, at_9_5, atol=1e-2)
    evenly = impute_frames(given, "linear", "auto", 1)  # read as 0, 1, 2, 3, 4: another frame
    assert np.abs(evenly[2].array - dense[3].array).mean() > 1.0


@pytest.mark.parametrize("extra, message", [
    (["--times=0,1,2"], "one finite time per frame"),
    (["--times=0,1,x,3,4,5"], "--times takes numbers"),
])
def test_bad_times_exit_2_with_one_line(tmp_path, capsys, extra, message):
    write_series(frames(), tmp_path / "series.nrrd")
    assert main(["impute-sequence", str(tmp_path / "series.nrrd"), str(tmp_path / "out.nrrd"),
                 "--model", "linear", "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and not (tmp_path / "out.nrrd").exists()


def test_a_table_takes_its_times_from_its_time_column(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("ID,TIME,score\n1,0,1\n1,1,\n1,2,3\n")
    assert main(["impute-sequence", str(tmp_path / "t.csv"), str(tmp_path / "o.csv"), "--times=0,1,2",
                 "--quiet"]) == 2
    assert "TIME column" in capsys.readouterr().err


def test_frames_near_the_float64_limit_are_imputed_without_overflow():
    # The principal components of frames near 1e300 overflowed (NaN frames, status 0).
    series = [Volume(np.full((3, 4, 5), (n + 1) * 1e300)) for n in range(4)]
    series[2] = Volume(np.zeros((3, 4, 5)))
    for model in ("linear", "lstm"):
        output = impute_frames(series, model, missing=[2], forecast=1)
        assert all(np.all(np.isfinite(frame.array)) for frame in output), model
    np.testing.assert_allclose(impute_frames(series, "linear", missing=[2])[2].array, 3e300, rtol=1e-6)


def test_auto_judges_an_image_series_by_the_error_in_the_image():
    # Its principal components, standardised, count alike in the held-out check unless weighed by
    # their variance: the faint ones (noise) then outvoted the main ones and auto stayed linear at
    # 2.1× the networks' error on the missing frames.
    from MedRestoreLib.data import SAMPLE
    from MedRestoreLib.imputation.synthetic import synthetic_image_series
    from MedRestoreLib.volume import read_volume

    volume = read_volume(SAMPLE)
    truth = synthetic_image_series(volume.array, 9, 0)
    body = np.max(truth, 0) > 0.02
    given = [volume.with_array(frame) for frame in truth[:8]]
    for n in (2, 5):
        given[n] = volume.with_array(np.zeros_like(truth[n]))

    def missing_rmse(model):
        frames = impute_frames(given, model, "auto")
        return np.sqrt(np.mean(np.concatenate([(frames[n].array - truth[n])[body] for n in (2, 5)]) ** 2))

    assert missing_rmse("auto") <= 0.6 * missing_rmse("linear")
