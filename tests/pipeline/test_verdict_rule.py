"""The verdict rule (README "Verdict rule", earlyphase.report.verdict) on synthetic paired
differences whose answers are known: the four directional verdicts, TOST's three outcomes,
the Bonferroni adjustment, and the minimal detectable effect against its closed form and a
simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from earlyphase.report.verdict import (
    CONTRADICTED,
    INCONCLUSIVE,
    REPRODUCED,
    SMALLER,
    TOO_FEW,
    adjusted_alpha,
    equivalence_margin,
    judge,
    minimal_detectable_effect,
)

# Student-t quantiles from printed tables (3 degrees of freedom), so the closed forms below do
# not lean on the scipy calls the module makes.
T3 = {0.975: 3.182446305284263, 0.95: 2.353363434801823, 0.90: 1.637744353696210, 0.80: 0.9784723123633045}
FOUR = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, sd sqrt(5/3)


def _sd(values) -> float:
    d = np.asarray(values, dtype=float)
    return math.sqrt(((d - d.mean()) ** 2).sum() / (len(d) - 1))


def test_unadjusted_interval_and_mde_match_the_closed_form_at_m_1():
    record = judge(FOUR, "up", m=1)
    half = T3[0.975] * _sd(FOUR) / 2
    assert record["n"] == 4 and record["mean_diff"] == pytest.approx(2.5) and record["sd_diff"] == pytest.approx(
        _sd(FOUR))
    assert (record["ci_low"], record["ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert (record["adj_ci_low"], record["adj_ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert record["mde"] == pytest.approx((T3[0.975] + T3[0.80]) * _sd(FOUR) / 2)
    unchanged = judge(FOUR, "unchanged", m=1, margin=10.0)
    assert unchanged["mde"] == pytest.approx((T3[0.95] + T3[0.90]) * _sd(FOUR) / 2)  # smallest TOST margin
    assert (unchanged["tost_low"], unchanged["tost_high"]) == pytest.approx(
        (2.5 - T3[0.95] * _sd(FOUR) / 2, 2.5 + T3[0.95] * _sd(FOUR) / 2))  # the 90% interval at m = 1


@pytest.mark.parametrize(("diffs", "direction", "paper", "verdict"), [
    ([2.0, 2.5, 3.0, 2.2, 2.8], "up", math.nan, REPRODUCED),
    ([-2.0, -2.5, -3.0, -2.2, -2.8], "up", math.nan, CONTRADICTED),
    ([-2.0, -2.5, -3.0, -2.2, -2.8], "down", math.nan, REPRODUCED),
    ([2.0, 2.5, 3.0, 2.2, 2.8], "down", 1.0, CONTRADICTED),  # a paper value never rescues a wrong sign
    ([-1.0, 1.0, 0.5, -0.5, 0.2], "up", 30.0, SMALLER),  # holds 0, far below the paper's +30
    ([-1.0, 1.0, 0.5, -0.5, 0.2], "up", 0.5, INCONCLUSIVE),  # holds 0 and the paper's value
    ([-1.0, 1.0, 0.5, -0.5, 0.2], "up", math.nan, INCONCLUSIVE),  # no paper value here: no "smaller"
    ([-1.0, 1.0, 0.5, -0.5, 0.2], "down", -30.0, SMALLER),
])
def test_each_directional_verdict(diffs, direction, paper, verdict):
    record = judge(diffs, direction, m=1, paper=paper)
    assert record["verdict"] == verdict, record["reason"]
    if verdict in (REPRODUCED, CONTRADICTED):
        assert record["adj_ci_low"] > 0 or record["adj_ci_high"] < 0


def test_tost_reproduced_inconclusive_and_contradicted():
    tight_zero = [0.1, -0.1, 0.05, -0.05, 0.0]
    assert judge(tight_zero, "unchanged", m=1, margin=1.0)["verdict"] == REPRODUCED
    wide = [3.0, -3.0, 2.0, -2.5, 0.5]
    assert judge(wide, "unchanged", m=1, margin=1.0)["verdict"] == INCONCLUSIVE
    shifted = [2.0, 2.1, 1.9, 2.05, 1.95]  # a clear change larger than the margin
    record = judge(shifted, "unchanged", m=1, margin=1.0)
    assert record["verdict"] == CONTRADICTED and record["adj_ci_low"] > 0
    # a small but detectable change inside the margin is equivalence, not a contradiction
    small = [0.5, 0.52, 0.48, 0.51, 0.49]
    record = judge(small, "unchanged", m=1, margin=1.0)
    assert record["adj_ci_low"] > 0 and record["verdict"] == REPRODUCED


@pytest.mark.parametrize("margin", [0.2, 0.35, 0.5, 0.8])
def test_tost_interval_inside_the_margin_iff_both_one_sided_tests_reject(margin):
    diffs = np.array([0.1, 0.3, -0.05, 0.2, 0.15, 0.0])
    m = 3
    alpha = 0.05 / m
    upper = stats.ttest_1samp(diffs - margin, 0.0, alternative="less").pvalue
    lower = stats.ttest_1samp(diffs + margin, 0.0, alternative="greater").pvalue
    record = judge(diffs, "unchanged", m=m, margin=margin)
    assert (record["verdict"] == REPRODUCED) == (max(upper, lower) < alpha)


def test_bonferroni_over_16_tests_turns_a_reproduction_into_inconclusive():
    diffs = [1.0, 1.5, 2.0, 2.5, 3.0]
    alone, among_16 = judge(diffs, "up", m=1), judge(diffs, "up", m=16)
    assert alone["verdict"] == REPRODUCED and among_16["verdict"] == INCONCLUSIVE
    assert among_16["adjustment"] == "Bonferroni" and among_16["m"] == 16
    assert among_16["alpha_adjusted"] == pytest.approx(0.05 / 16) == adjusted_alpha(16)
    # the unadjusted 95% interval does not move; the adjusted one widens by the quantile ratio
    assert (among_16["ci_low"], among_16["ci_high"]) == pytest.approx((alone["ci_low"], alone["ci_high"]))
    ratio = stats.t.ppf(1 - 0.05 / 32, 4) / stats.t.ppf(0.975, 4)
    assert among_16["adj_ci_high"] - 2.0 == pytest.approx(ratio * (alone["adj_ci_high"] - 2.0))
    assert among_16["mde"] > alone["mde"]


def test_fewer_than_two_paired_seeds_is_inconclusive_without_an_mde():
    for diffs in ([], [5.0], [np.nan, 5.0]):
        record = judge(diffs, "up", m=4)
        assert record["verdict"] == INCONCLUSIVE and record["reason"] == TOO_FEW
        assert math.isnan(record["mde"]) and math.isnan(record["adj_ci_low"])
    assert judge([5.0], "unchanged", m=4, margin=1.0)["reason"] == TOO_FEW


def test_margin_is_a_quarter_of_the_error_rate_and_required_for_unchanged_claims():
    assert equivalence_margin(88.0) == pytest.approx(3.0) and equivalence_margin(99.0) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="margin"):
        judge([0.1, 0.2], "unchanged", m=1)
    with pytest.raises(ValueError, match="direction"):
        judge([0.1, 0.2], "sideways", m=1)
    with pytest.raises(ValueError, match="at least one test"):
        adjusted_alpha(0)


def test_an_effect_of_one_mde_is_detected_about_80_percent_of_the_time():
    """Simulation at n = 10, m = 1 (the formula is the usual t approximation: the exact
    noncentral-t power there is 0.799)."""
    rng = np.random.default_rng(0)
    n, sigma, draws = 10, 2.0, 1500
    effect = minimal_detectable_effect(sigma, n, adjusted_alpha(1))
    hits = np.mean([judge(rng.normal(effect, sigma, n), "up", m=1)["verdict"] == REPRODUCED for _ in range(draws)])
    assert hits == pytest.approx(0.80, abs=0.035)
    margin = minimal_detectable_effect(sigma, n, adjusted_alpha(1), equivalence=True)
    shown = np.mean([judge(rng.normal(0.0, sigma, n), "unchanged", m=1, margin=margin)["verdict"] == REPRODUCED
                     for _ in range(draws)])
    assert shown == pytest.approx(0.80, abs=0.05)
