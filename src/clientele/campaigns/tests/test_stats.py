"""Campaign measurement statistics against published results and scipy's raw-data tests.

The implementation works on counts and sums (what SQL aggregates); the checks here use
textbook figures and scipy's functions on the raw values, so a wrong formula cannot
agree with itself."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from clientele.campaigns.stats import (
    Moments,
    bootstrap_difference,
    compare_proportions,
    welch_test,
)


def test_physicians_health_study_matches_agresti():
    """Agresti, An Introduction to Categorical Data Analysis (2nd ed., sec. 2.2): heart
    attacks in 189 of 11,034 physicians on placebo and 104 of 11,037 on aspirin.
    Difference 0.0077 with 95% CI (0.005, 0.011); relative risk 1.82, CI (1.43, 2.30)."""
    result = compare_proportions(189, 11034, 104, 11037)
    assert round(result.uplift, 4) == 0.0077
    assert (round(result.uplift_low, 3), round(result.uplift_high, 3)) == (0.005, 0.011)
    assert round(result.relative_uplift + 1, 2) == 1.82
    # The book rounds the log standard error before exponentiating; unrounded, the
    # upper end is 2.306.
    assert round(result.relative_low + 1, 2) == 1.43
    assert result.relative_high + 1 == pytest.approx(2.30, abs=0.01)
    assert result.significant


@given(
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.floats(0, 1),
    st.floats(0, 1),
)
@settings(max_examples=60, deadline=None)
def test_p_value_equals_pearson_chi_square_on_the_2x2_table(n1, n2, f1, f2):
    x1, x2 = round(n1 * f1), round(n2 * f2)
    result = compare_proportions(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0, 1):
        assert result.p_value is None
        return
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    chi2, p, *_ = scipy_stats.chi2_contingency(table, correction=False)
    assert result.z**2 == pytest.approx(chi2, rel=1e-9)
    assert result.p_value == pytest.approx(p, rel=1e-6, abs=1e-12)


def test_interval_covers_the_true_uplift_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    trials, covered = 2000, 0
    for _ in range(trials):
        x1, x2 = rng.binomial(9000, 0.12), rng.binomial(1000, 0.08)
        r = compare_proportions(int(x1), 9000, int(x2), 1000)
        covered += r.uplift_low <= 0.04 <= r.uplift_high
    # Binomial(2000, 0.95): mean 1900, sd 9.7; 1860..1940 is about four sd.
    assert 1860 <= covered <= 1940


def test_empty_groups_and_impossible_counts():
    assert compare_proportions(0, 0, 3, 10).uplift is None
    nothing = compare_proportions(0, 100, 0, 100)
    assert nothing.uplift == 0 and nothing.p_value is None and nothing.relative_uplift is None
    with pytest.raises(ValueError, match="treated: 5 successes out of 3"):
        compare_proportions(5, 3, 1, 10)


@given(
    st.lists(st.floats(0, 5000, allow_nan=False), min_size=2, max_size=300),
    st.lists(st.floats(0, 5000, allow_nan=False), min_size=2, max_size=300),
)
@settings(max_examples=60, deadline=None)
def test_welch_from_sums_equals_scipy_on_the_raw_values(treated, control):
    result = welch_test(Moments.of(treated), Moments.of(control))
    if np.var(treated) + np.var(control) < 1e-6:
        return  # no spread: nothing to test against
    reference = scipy_stats.ttest_ind(treated, control, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result.t == pytest.approx(reference.statistic, rel=1e-6, abs=1e-9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-5, abs=1e-9)
    assert result.low == pytest.approx(interval.low, rel=1e-6, abs=1e-6)
    assert result.high == pytest.approx(interval.high, rel=1e-6, abs=1e-6)


def test_bootstrap_agrees_with_welch_on_well_behaved_data_and_is_repeatable():
    rng = np.random.default_rng(3)
    treated, control = rng.normal(120, 30, 4000), rng.normal(110, 30, 800)
    welch = welch_test(Moments.of(treated), Moments.of(control))
    low, high = bootstrap_difference(treated, control, rounds=1500)
    assert low == pytest.approx(welch.low, abs=1.0)
    assert high == pytest.approx(welch.high, abs=1.0)
    assert bootstrap_difference(treated, control, rounds=1500) == (low, high)
    assert bootstrap_difference([], control) is None
