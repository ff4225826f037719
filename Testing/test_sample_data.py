"""The tutorial's sample: made offline from the bundled MRI, the same every time."""
import numpy as np

from MedRestoreLib.defects import corrupt
from MedRestoreLib.demo import SAMPLE
from MedRestoreLib.sample_data import damaged_sample_files
from MedRestoreLib.volume import read_volume


def test_sample_is_the_bundled_mri_with_mixed_defects_of_seed_0(tmp_path):
    damaged_path, truth_path = damaged_sample_files(tmp_path / "cache")
    expected, truth, _ = corrupt(read_volume(SAMPLE), "mixed", seed=0)
    damaged = read_volume(damaged_path)
    np.testing.assert_array_equal(damaged.array, expected.array)
    np.testing.assert_allclose(damaged.ijk_to_ras, expected.ijk_to_ras, atol=1e-6)
    np.testing.assert_array_equal(read_volume(truth_path).array, truth.array)
    assert truth.array.sum() > 1000  # it is damaged, not a copy


def test_an_existing_sample_is_reused_not_remade(tmp_path):
    first = damaged_sample_files(tmp_path)
    stamp = first[0].stat().st_mtime_ns
    assert damaged_sample_files(tmp_path) == first
    assert first[0].stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first)  # no temp files
