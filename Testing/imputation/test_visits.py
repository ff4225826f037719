"""Visits of a cohort: the features the network reads, the baseline, the recurrent imputer on
ragged subjects, and auto's choice from held-out cells."""
import time

import numpy as np
import pytest

from MedRestoreLib.imputation.cohort_generator import HELD_OUT_COHORTS, CohortRecipe, draw_recipe, make_cohort
from MedRestoreLib.imputation.scoring import score_cohort
from MedRestoreLib.imputation.visit_features import from_others, pair_regressions, subject_lines, visit_features
from MedRestoreLib.imputation.visits import impute_cohort, pack
from MedRestoreLib.imputation.visits_auto import choose, gap_kinds


def test_subject_lines_fit_lines_constants_and_fall_back():
    times = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 1.0], [3.0, 4.0, 5.0]])
    values = np.array([[1.0, 3.0, 5.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])[:, :, None]
    observed = np.array([[True, False, True], [True, False, False], [False, False, False]])[:, :, None]
    line, slope, count = subject_lines(times, values, observed, np.full(values.shape, 7.0))
    np.testing.assert_allclose(line[0, :, 0], [1, 3, 5])
    np.testing.assert_allclose(line[1, :, 0], [2, 2, 2])  # one value: a constant
    np.testing.assert_allclose(line[2, :, 0], [7, 7, 7])  # none: the fallback
    shrunk = subject_lines(times, values, observed, np.zeros(values.shape), ridge=2.0)[1]
    assert 0 < shrunk[0, 0] < slope[0, 0] == pytest.approx(2.0)


def test_a_score_that_mirrors_another_is_predicted_from_it():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(30, 4))
    deviation = np.stack([base, -2 * base], -1)
    usable = np.ones(deviation.shape, bool)
    beta, weight = pair_regressions(deviation, usable)
    assert beta[1, 0] == pytest.approx(-2) and weight[1, 0] == pytest.approx(1)
    usable[:, :, 1] = False
    estimate, confidence = from_others(deviation, usable, beta, weight)
    np.testing.assert_allclose(estimate[:, :, 1], deviation[:, :, 1])
    assert np.all(confidence[:, :, 0] == 0)  # the other score is not usable: no estimate


def test_features_are_finite_for_ragged_duplicated_and_sparse_subjects():
    subjects = [(np.array([0.0, 1.0, 1.0, 2.5]), np.array([[0.1, np.nan], [0.2, 0.3], [np.nan, 0.35], [0.4, 0.5]])),
                (np.array([5.0]), np.array([[np.nan, 1.0]])),
                (np.array([0.0, 0.5]), np.array([[np.nan, np.nan], [0.3, np.nan]]))]
    times, values, valid = pack(subjects)
    features = visit_features(times, values, valid, 0.5)
    assert features.inputs.shape == values.shape + (14,) and np.isfinite(features.inputs).all()
    assert np.isfinite(features.trend).all()


@pytest.mark.parametrize("model", ["linear", "lstm", "srn"])
def test_cohort_imputation_keeps_observed_values_and_forecasts(model):
    cohort = make_cohort(CohortRecipe(subjects=30, scores=3, visits=(1, 9), seed=3))
    rng = np.random.default_rng(1)
    given = [(t, np.where(rng.random(v.shape) < 0.2, np.nan, v)) for t, v in cohort]
    filled = impute_cohort(given, model, forecast=2)
    for (t, v), (out_t, out_v) in zip(given, filled):
        assert len(out_t) == len(t) + 2 and not np.isnan(out_v).any()
        known = ~np.isnan(v)
        np.testing.assert_array_equal(out_v[:len(t)][known], v[known])


def test_cohort_generator_draws_varied_cohorts_in_unit_range():
    rng = np.random.default_rng(0)
    recipes = [draw_recipe(rng) for _ in range(20)]
    assert len({r.scores for r in recipes}) > 3 and any(r.irregular for r in recipes)
    assert all(r.scores != 10 for r in recipes)  # held-out cohorts have 10 scores
    for recipe in recipes[:5]:
        for times, values in make_cohort(recipe):
            assert np.all(np.diff(times) >= 0) and values.min() >= 0 and values.max() <= 1


def test_auto_chooses_linear_regression_on_exact_lines():
    rng = np.random.default_rng(2)
    subjects = []
    for _ in range(40):
        times = np.cumsum(rng.uniform(0.5, 1.5, 6))
        values = np.stack([a + b * times for a, b in rng.normal(size=(3, 2))], 1)
        values[rng.random(values.shape) < 0.15] = np.nan
        subjects.append((times, values))
    choice = choose(subjects)
    assert choice.models == {kind: ["linear"] * 3 for kind in ("cell", "visit", "forecast")}
    assert all(count > 0 for count in choice.cells.values())


def test_gaps_are_told_apart_as_cells_visits_and_forecasts():
    values = np.array([[1.0, 2.0], [np.nan, 2.5], [np.nan, np.nan], [3.0, 3.5], [np.nan, np.nan]])
    kinds = gap_kinds([(np.arange(5.0), values), (np.arange(2.0), np.full((2, 2), np.nan))])
    assert kinds[0].tolist() == [[0, 0], [1, 0], [2, 2], [0, 0], [3, 3]]
    assert kinds[1, :2].tolist() == [[3, 3], [3, 3]]  # a subject with no value: all forecast


def test_auto_is_never_measurably_worse_than_linear_on_a_held_out_cohort():
    recipe = list(HELD_OUT_COHORTS.values())[1]
    cohort = make_cohort(CohortRecipe(**{**recipe.__dict__, "subjects": 80}))
    scores = score_cohort(cohort, {"auto": ("auto", None), "linear": ("linear", None)}, seed=4,
                          scenarios=("blank cells",))["blank cells"]
    assert scores["auto"]["rmse"] <= scores["linear"]["rmse"] * 1.01


def test_forecasts_take_the_network_that_the_pooled_evidence_favours():
    # Forecasts of sigmoid courses: linear extrapolation is far off on a few subjects; per score,
    # ~100 heavy-tailed errors never proved it, and auto forecast at 0.98× linear instead of 0.31×.
    recipe = list(HELD_OUT_COHORTS.values())[1]
    cohort = make_cohort(CohortRecipe(**{**recipe.__dict__, "subjects": 120}))
    scores = score_cohort(cohort, {"auto": ("auto", None), "linear": ("linear", None)}, seed=0,
                          scenarios=("forecast",))["forecast"]
    assert scores["auto"]["rmse"] <= 0.6 * scores["linear"]["rmse"]


def test_two_thousand_rows_take_seconds():
    from MedRestoreLib.imputation.tables import impute_table

    cohort = make_cohort(CohortRecipe(subjects=200, scores=10, visits=(10, 10), seed=5))
    rows = [[f"S{s}", f"{t:.3f}"] + [f"{x:.4f}" if (s + n) % 7 else "" for n, x in enumerate(v)]
            for s, (times, table) in enumerate(cohort) for t, v in zip(times, table)]
    started = time.process_time()  # CPU time: the machine running the tests may be busy
    impute_table(["ID", "TIME"] + [f"s{n}" for n in range(10)], rows, "lstm")
    assert len(rows) == 2000 and time.process_time() - started < 5  # the benchmark reports wall time
