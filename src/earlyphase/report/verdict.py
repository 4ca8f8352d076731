"""The verdict rule: does our evidence reproduce one claim of a paper?

Fixed before any result was seen; README "Verdict rule" states it for readers.

Data. Paired differences d_i = intervention - comparison over the seeds completed in both
arms (accuracy in percentage points, or a probe statistic). n, mean and sd (ddof 1) of d;
the unadjusted 95% Student-t interval mean ± t(0.975, n-1)·sd/sqrt(n).

Multiplicity. Bonferroni over the m tests of one published set (one claims ledger):
alpha' = 0.05 / m, and the adjusted interval is the (1 - alpha') two-sided t interval.
Bonferroni rather than Holm because its adjusted intervals hold simultaneously, so each
verdict can be read off its own interval.

Directional claims (the paper says "up" or "down"), on the adjusted interval [lo, hi]:

* reproduced: it excludes 0 on the paper's side (lo > 0 for up, hi < 0 for down);
* contradicted: it excludes 0 on the other side;
* smaller than reported: it holds 0 but not the paper's own difference (only where the paper
  reports that difference for this data set and setting);
* inconclusive: otherwise.

"Unchanged" claims: TOST equivalence at the same level. Margin delta = 0.25 x (100 - mean
accuracy of the comparison runs), a quarter of the comparison arm's error rate in points.
reproduced when the (1 - 2 alpha') t interval lies strictly inside (-delta, delta) (both
one-sided tests reject at alpha'); else contradicted when the adjusted interval excludes 0
(a detectable change); else inconclusive.

Power. Beside every verdict, the minimal detectable effect at 80% power for the observed sd
at the adjusted level: (t(1 - alpha'/2, n-1) + t(0.80, n-1))·sd/sqrt(n); for an "unchanged"
claim the smallest margin TOST demonstrates with 80% power when the true difference is 0:
(t(1 - alpha', n-1) + t(0.90, n-1))·sd/sqrt(n).

Fewer than two paired seeds: "inconclusive" (reason "fewer than two paired seeds"), MDE NaN.

Quantiles come from ``scipy.stats.t.ppf``; everything else is arithmetic on them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

ALPHA = 0.05  # family-wise error rate of one published set
POWER = 0.80  # power at which the minimal detectable effect is stated
MARGIN_SHARE = 0.25  # TOST margin: this share of the comparison arm's error rate (points)
ADJUSTMENT = "Bonferroni"

UP, DOWN, UNCHANGED = "up", "down", "unchanged"
DIRECTIONS = (UP, DOWN, UNCHANGED)
REPRODUCED, CONTRADICTED, SMALLER, INCONCLUSIVE = ("reproduced", "contradicted", "smaller than reported",
                                                  "inconclusive")
VERDICTS = (REPRODUCED, CONTRADICTED, SMALLER, INCONCLUSIVE)
TOO_FEW = "fewer than two paired seeds"


def adjusted_alpha(m: int) -> float:
    """The per-test level of a family of m tests (Bonferroni)."""
    if m < 1:
        raise ValueError(f"a family needs at least one test, got m={m}")
    return ALPHA / m


def t_interval(mean: float, sd: float, n: int, alpha: float) -> tuple[float, float]:
    """The two-sided (1 - alpha) Student-t interval of a mean; NaN for n < 2."""
    if n < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def equivalence_margin(comparison_accuracy: float) -> float:
    """delta = 0.25 x the comparison arm's error rate, in points (accuracy in percent)."""
    return MARGIN_SHARE * (100.0 - comparison_accuracy)


def minimal_detectable_effect(sd: float, n: int, alpha: float, equivalence: bool = False) -> float:
    """The effect a test at level ``alpha`` detects with 80% power for this sd and n; for
    ``equivalence`` the smallest TOST margin shown with 80% power at a true difference of 0."""
    if n < 2:
        return math.nan
    df = n - 1
    if equivalence:
        quantiles = stats.t.ppf(1 - alpha, df) + stats.t.ppf(1 - (1 - POWER) / 2, df)
    else:
        quantiles = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(POWER, df)
    return float(quantiles) * sd / math.sqrt(n)


def _sign(value: float) -> str:
    return f"{value:+.2f}"


def directional_verdict(low: float, high: float, direction: str, paper: float = math.nan) -> tuple[str, str]:
    """(verdict, reason) of an "up"/"down" claim from its adjusted interval [low, high]."""
    expected_above = direction == UP
    if low > 0 or high < 0:
        side = "above" if low > 0 else "below"
        agrees = (low > 0) == expected_above
        return (REPRODUCED if agrees else CONTRADICTED), f"adjusted interval {side} 0 (paper: {direction})"
    if not math.isnan(paper) and not low <= paper <= high:
        return SMALLER, f"adjusted interval holds 0 and excludes the paper's {_sign(paper)}"
    return INCONCLUSIVE, "adjusted interval holds 0" + ("" if math.isnan(paper) else
                                                        f" and the paper's {_sign(paper)}")


def equivalence_verdict(tost_low: float, tost_high: float, low: float, high: float,
                        margin: float) -> tuple[str, str]:
    """(verdict, reason) of an "unchanged" claim: TOST interval [tost_low, tost_high] against
    ±margin, then the adjusted interval [low, high] against 0."""
    if -margin < tost_low and tost_high < margin:
        return REPRODUCED, f"TOST interval inside ±{margin:.2f}"
    if low > 0 or high < 0:
        return CONTRADICTED, f"adjusted interval {'above' if low > 0 else 'below'} 0: a detectable change"
    return INCONCLUSIVE, f"TOST interval not inside ±{margin:.2f}, adjusted interval holds 0"


def judge(diffs, direction: str, m: int, paper: float = math.nan, margin: float = math.nan) -> dict:
    """The verdict of one test on its paired differences ``diffs``, in a family of ``m`` tests.

    ``paper``: the paper's own difference where it reports one for this data set (NaN where
    not); ``margin``: the TOST margin of an "unchanged" claim (see :func:`equivalence_margin`).
    Returns n, mean, sd, the unadjusted and adjusted intervals, the TOST interval
    ("unchanged" only), the MDE, the verdict and its reason.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    d = np.asarray(diffs, dtype=float)
    d = d[~np.isnan(d)]
    n = len(d)
    if direction == UNCHANGED and n >= 2 and not margin > 0:
        raise ValueError(f"an 'unchanged' claim needs a positive equivalence margin, got {margin!r}")
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    alpha = adjusted_alpha(m)
    record = {"n": n, "mean_diff": mean, "sd_diff": sd, "adjustment": ADJUSTMENT, "m": m, "alpha_adjusted": alpha,
              "margin": margin if direction == UNCHANGED else math.nan}
    record["ci_low"], record["ci_high"] = t_interval(mean, sd, n, ALPHA)
    record["adj_ci_low"], record["adj_ci_high"] = t_interval(mean, sd, n, alpha)
    record["tost_low"], record["tost_high"] = (t_interval(mean, sd, n, 2 * alpha) if direction == UNCHANGED
                                               else (math.nan, math.nan))
    record["mde"] = minimal_detectable_effect(sd, n, alpha, equivalence=direction == UNCHANGED)
    if n < 2:
        record["verdict"], record["reason"] = INCONCLUSIVE, TOO_FEW
    elif direction == UNCHANGED:
        record["verdict"], record["reason"] = equivalence_verdict(record["tost_low"], record["tost_high"],
                                                                  record["adj_ci_low"], record["adj_ci_high"], margin)
    else:
        record["verdict"], record["reason"] = directional_verdict(record["adj_ci_low"], record["adj_ci_high"],
                                                                  direction, paper)
    return record
