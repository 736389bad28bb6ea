"""The statistics of campaign measurement: treated against holdout.

Everything here works on sufficient statistics (counts, sums, sums of squares) that the
database aggregates, so measuring a campaign of a million targets moves a handful of
numbers, not a million rows. Only the bootstrap needs the per-customer values, and it
takes them as numpy arrays.

- Response and conversion rates: the two-proportion z-test (pooled standard error for
  the test, unpooled for the confidence interval of the difference), with the relative
  uplift's interval on the log of the rate ratio (Katz), which stays inside (-100%, inf).
- Revenue per customer: Welch's t-test (unequal variances) with the Welch-Satterthwaite
  degrees of freedom, and a percentile bootstrap when the distribution is too skewed for
  a t interval to be trusted (a few large orders dominate most revenue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats


@dataclass(frozen=True)
class ProportionComparison:
    """A rate in the treated group against the holdout's natural rate."""

    treated_successes: int
    treated_total: int
    control_successes: int
    control_total: int
    treated_rate: float | None
    control_rate: float | None
    uplift: float | None  # treated rate minus control rate, as a proportion
    uplift_low: float | None
    uplift_high: float | None
    relative_uplift: float | None  # uplift / control rate
    relative_low: float | None
    relative_high: float | None
    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05


def _z_critical(confidence: float) -> float:
    return float(scipy_stats.norm.ppf(0.5 + confidence / 2))


def compare_proportions(
    treated_successes: int,
    treated_total: int,
    control_successes: int,
    control_total: int,
    confidence: float = 0.95,
) -> ProportionComparison:
    """Two-proportion z-test of the treated rate against the control rate. Figures that
    cannot be computed (an empty group, no variation at all) are None, never a guess."""
    for name, successes, total in (
        ("treated", treated_successes, treated_total),
        ("control", control_successes, control_total),
    ):
        if total < 0 or successes < 0 or successes > total:
            raise ValueError(f"{name}: {successes} successes out of {total} is impossible")
    p1 = treated_successes / treated_total if treated_total else None
    p2 = control_successes / control_total if control_total else None
    empty = ProportionComparison(
        treated_successes, treated_total, control_successes, control_total,
        p1, p2, None, None, None, None, None, None, None, None,
    )  # fmt: skip
    if p1 is None or p2 is None:
        return empty
    n1, n2 = treated_total, control_total
    z_crit = _z_critical(confidence)
    uplift = p1 - p2
    unpooled = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    low = high = None
    if unpooled > 0:
        low, high = uplift - z_crit * unpooled, uplift + z_crit * unpooled
    pooled_rate = (treated_successes + control_successes) / (n1 + n2)
    pooled = math.sqrt(pooled_rate * (1 - pooled_rate) * (1 / n1 + 1 / n2))
    z = p_value = None
    if pooled > 0:
        z = uplift / pooled
        p_value = float(2 * scipy_stats.norm.sf(abs(z)))
    relative = rel_low = rel_high = None
    if p2 > 0:
        relative = p1 / p2 - 1
        if p1 > 0:
            # Katz: log(p1/p2) is close to normal with this standard error.
            log_se = math.sqrt((1 - p1) / treated_successes + (1 - p2) / control_successes)
            log_ratio = math.log(p1 / p2)
            rel_low = math.exp(log_ratio - z_crit * log_se) - 1
            rel_high = math.exp(log_ratio + z_crit * log_se) - 1
    return ProportionComparison(
        treated_successes, treated_total, control_successes, control_total,
        p1, p2, uplift, low, high, relative, rel_low, rel_high, z, p_value,
    )  # fmt: skip


@dataclass(frozen=True)
class Moments:
    """Count, sum and sum of squares of a per-customer value (e.g. revenue): what SQL
    aggregates in one pass, and all a mean comparison needs."""

    count: int
    total: float
    total_of_squares: float

    @classmethod
    def of(cls, values) -> Moments:
        array = np.asarray(values, dtype=float)
        return cls(int(array.size), float(array.sum()), float((array**2).sum()))

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def variance(self) -> float | None:
        """Sample variance (n - 1), floored at zero against rounding."""
        if self.count < 2:
            return None
        centred = self.total_of_squares - self.total * self.total / self.count
        return max(centred, 0.0) / (self.count - 1)


@dataclass(frozen=True)
class MeanComparison:
    """Mean per customer in the treated group against the holdout (Welch)."""

    treated_mean: float | None
    control_mean: float | None
    difference: float | None
    low: float | None
    high: float | None
    t: float | None
    degrees_of_freedom: float | None
    p_value: float | None


def welch_test(treated: Moments, control: Moments, confidence: float = 0.95) -> MeanComparison:
    """Welch's unequal-variances t-test and interval for the difference of means."""
    m1, m2 = treated.mean, control.mean
    difference = m1 - m2 if m1 is not None and m2 is not None else None
    v1, v2 = treated.variance, control.variance
    if difference is None or v1 is None or v2 is None:
        return MeanComparison(m1, m2, difference, None, None, None, None, None)
    a, b = v1 / treated.count, v2 / control.count
    se = math.sqrt(a + b)
    spread = a * a / (treated.count - 1) + b * b / (control.count - 1)
    if se == 0 or spread == 0:
        # No variation (or so little that its square underflows): nothing to test.
        return MeanComparison(m1, m2, difference, None, None, None, None, None)
    df = (a + b) ** 2 / spread
    t = difference / se
    p_value = float(2 * scipy_stats.t.sf(abs(t), df))
    t_crit = float(scipy_stats.t.ppf(0.5 + confidence / 2, df))
    return MeanComparison(
        m1, m2, difference, difference - t_crit * se, difference + t_crit * se, t, df, p_value
    )


def bootstrap_difference(
    treated,
    control,
    *,
    rounds: int = 2000,
    confidence: float = 0.95,
    seed: int = 20261111,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval for the difference of means (treated - control).
    Resamples are drawn in blocks so memory stays bounded for large groups; the seed
    makes the same data give the same interval on every run."""
    x = np.asarray(treated, dtype=float)
    y = np.asarray(control, dtype=float)
    if x.size == 0 or y.size == 0:
        return None
    rng = np.random.default_rng(seed)
    differences = np.empty(rounds)
    block = max(1, min(rounds, 20_000_000 // max(x.size + y.size, 1)))
    done = 0
    while done < rounds:
        size = min(block, rounds - done)
        mean_x = x[rng.integers(0, x.size, (size, x.size))].mean(axis=1)
        mean_y = y[rng.integers(0, y.size, (size, y.size))].mean(axis=1)
        differences[done : done + size] = mean_x - mean_y
        done += size
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(low), float(high)
