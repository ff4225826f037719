"""A volume raises the validated threshold only where its own healthy scores run hot."""
import numpy as np

from MedRestoreLib.detection.calibration import calibrate_threshold


def _probabilities(logit_scale, defects=0, seed=0):
    rng = np.random.default_rng(seed)
    logits = -6 + rng.exponential(logit_scale, 500_000)  # healthy voxels: an exponential tail
    probability = 1 / (1 + np.exp(-logits))
    if defects:
        probability[:defects] = 0.9995
    return probability.astype(np.float32)


def test_a_well_behaved_volume_keeps_the_validated_threshold():
    calibration = calibrate_threshold(_probabilities(0.3), 0.7)
    assert calibration.threshold == 0.7 and calibration.tail_threshold < 0.7


def test_a_hot_volume_gets_a_higher_threshold_that_holds_the_false_alarm_rate():
    probability = _probabilities(1.2, defects=2000)
    fixed = float((probability[2000:] >= 0.7).mean())
    calibration = calibrate_threshold(probability, 0.7)
    flagged = float((probability[2000:] >= calibration.threshold).mean())
    assert fixed > 1e-3  # the fixed threshold floods the healthy voxels
    assert calibration.threshold > 0.7 and flagged <= 2e-4
    assert (probability[:2000] >= calibration.threshold).all(), "real defects stay flagged"


def test_excluded_voxels_and_tiny_volumes_do_not_move_the_threshold():
    probability = _probabilities(1.2)
    everything = np.ones(probability.shape, bool)
    assert calibrate_threshold(probability, 0.7, exclude=everything).threshold == 0.7
    assert calibrate_threshold(probability[:100], 0.7).threshold == 0.7


def test_damage_over_one_percent_of_the_volume_does_not_lift_the_threshold_above_itself():
    # A missing slice or a box is 1–4 % of a volume: its scores must not be taken for the healthy tail.
    probability = _probabilities(0.3, defects=15_000)  # 3 %
    calibration = calibrate_threshold(probability, 0.7)
    assert calibration.threshold == 0.7
    assert (probability[:15_000] >= calibration.threshold).all()


def test_a_hot_volume_with_much_damage_still_holds_the_false_alarm_rate():
    # Fitted below the validated threshold, the tail misses the healthy voxels above it: 0.022 %
    # flagged here against 0.01 % wanted — the cost of not taking 3 % of damage for tissue.
    probability = _probabilities(1.2, defects=15_000)
    calibration = calibrate_threshold(probability, 0.7)
    assert calibration.threshold > 0.9
    assert float((probability[15_000:] >= calibration.threshold).mean()) <= 2.5e-4
    assert (probability[:15_000] >= calibration.threshold).all()
