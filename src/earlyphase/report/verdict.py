"""Does a Table 1 agree with the paper's claim about gradual unfreezing (GU)?

The claim, per setup and learning rate: GU leaves ID accuracy about where it was and raises
OOD accuracy. We test it on paired seeds: for every seed that completed both with GU and
with standard training at the same learning rate, d = accuracy(GU) - accuracy(standard),
in percentage points. Over the n such seeds we report the mean of d and its 95% Student-t
interval, mean ± t(0.975, n - 1) · sd(d) / sqrt(n) (undefined for n < 2).

The rules, on that interval [low, high]:

* ``verdict_id_holds``: "holds" when the whole interval lies in [-1, 1] (the change is
  within one point with 95% confidence), "fails" when it lies wholly outside it
  (low > 1 or high < -1), otherwise "unclear".
* ``verdict_ood_holds``: "up" when low > 0, "down" when high < 0, otherwise "unclear".
* ``verdict_paper_{id,ood}_in_interval``: whether the paper's own GU - standard difference
  (from its Table 1) satisfies low <= paper <= high; empty where the paper has no value for
  the setup or our interval is undefined.

With one paired seed both verdicts are "unclear"; with none they are empty.

Every column name contains "verdict", so the metrics file of the table carries them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

# GU row -> the standard row it is compared with (same setup, same learning rate).
GU_PAIRS = {"lr_d + GU": "lr_d", "0.1·lr_d + GU": "0.1·lr_d"}
CONFIDENCE = 0.95
ID_TOLERANCE = 1.0  # percentage points: "ID accuracy stays about the same"
UNCLEAR = "unclear"
METRICS = {"id": "id_acc", "ood": "ood_acc"}
# LaTeX marks for the verdicts (plain math symbols: no package beyond the article class).
MARKS = {"holds": "\\approx", "fails": "\\neq", "up": "\\uparrow", "down": "\\downarrow", UNCLEAR: "?"}
COLUMNS = ["verdict_pairs",
           "verdict_id_diff", "verdict_id_low", "verdict_id_high", "verdict_paper_id_diff",
           "verdict_paper_id_in_interval",
           "verdict_ood_diff", "verdict_ood_low", "verdict_ood_high", "verdict_paper_ood_diff",
           "verdict_paper_ood_in_interval",
           "verdict_id_holds", "verdict_ood_holds"]
CAPTION = ("Marks after the GU cells compare GU with standard training at the same learning rate on paired "
           "seeds (GU $-$ standard over the seeds completed in both, "
           f"{CONFIDENCE * 100:.0f}\\% Student-$t$ interval of the mean): "
           f"ID $\\approx$ the interval lies within $\\pm {ID_TOLERANCE:g}$ point (the paper's claim: ID unchanged), "
           "$\\neq$ it lies wholly outside; OOD $\\uparrow$ / $\\downarrow$ the interval lies above / below 0 "
           "(the paper's claim: OOD up); ? otherwise or with fewer than two paired seeds. "
           "Intervals and whether they hold the paper's own difference are in the CSV (verdict columns).")


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high) of the Student-t interval of the mean; low and high NaN for n < 2."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def id_verdict(low: float, high: float, tolerance: float = ID_TOLERANCE) -> str:
    if pd.isna(low) or pd.isna(high):
        return UNCLEAR
    if -tolerance <= low and high <= tolerance:
        return "holds"
    if low > tolerance or high < -tolerance:
        return "fails"
    return UNCLEAR


def ood_verdict(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return UNCLEAR
    if low > 0:
        return "up"
    if high < 0:
        return "down"
    return UNCLEAR


def in_interval(value: float, low: float, high: float) -> bool | float:
    """Whether low <= value <= high; NaN when any of them is missing."""
    if pd.isna(value) or pd.isna(low) or pd.isna(high):
        return math.nan
    return bool(low <= value <= high)


def paired_differences(runs: pd.DataFrame, setup: str, gu_row: str, standard_row: str) -> pd.DataFrame:
    """GU minus standard per seed (index) and metric (columns id, ood), over the seeds that
    completed in both rows; diverged or missing runs drop their seed from the pairing."""
    completed = runs[(runs["setup"] == setup) & (runs["status"] == "completed")]
    sides = []
    for row in (gu_row, standard_row):
        side = completed[completed["row"] == row]
        if side["seed"].duplicated().any():
            raise ValueError(f"table1 verdict: {setup}, {row} has two completed runs of one seed")
        sides.append(side.set_index("seed")[list(METRICS.values())])
    gu, standard = sides
    seeds = gu.index.intersection(standard.index).sort_values()
    diff = gu.loc[seeds] - standard.loc[seeds]
    return diff.rename(columns={column: name for name, column in METRICS.items()})


def pair_verdict(diff: pd.DataFrame, paper_diff: dict[str, float]) -> dict:
    """The verdict columns of one GU-vs-standard pair (``paper_diff``: metric -> the paper's
    GU - standard difference, NaN where it has none)."""
    record = {"verdict_pairs": len(diff), "verdict_id_holds": math.nan, "verdict_ood_holds": math.nan}
    for name in METRICS:
        mean, low, high = t_interval(diff[name].dropna())
        record |= {f"verdict_{name}_diff": mean, f"verdict_{name}_low": low, f"verdict_{name}_high": high,
                   f"verdict_paper_{name}_diff": paper_diff[name],
                   f"verdict_paper_{name}_in_interval": in_interval(paper_diff[name], low, high)}
    if len(diff):  # no paired seed: nothing to judge, the cells stay empty
        record["verdict_id_holds"] = id_verdict(record["verdict_id_low"], record["verdict_id_high"])
        record["verdict_ood_holds"] = ood_verdict(record["verdict_ood_low"], record["verdict_ood_high"])
    return record


def verdicts(runs: pd.DataFrame, paper: dict) -> pd.DataFrame:
    """One row per (setup, GU row present in ``runs``) with its verdict columns; ``paper``:
    (setup, row) -> (ID, OOD) as in :data:`earlyphase.report.paper_values.TABLE1`."""
    records = []
    for setup in dict.fromkeys(runs["setup"]):
        rows = set(runs.loc[runs["setup"] == setup, "row"])
        for gu_row, standard_row in GU_PAIRS.items():
            if gu_row not in rows or standard_row not in rows:
                continue
            gu_paper, standard_paper = paper.get((setup, gu_row)), paper.get((setup, standard_row))
            paper_diff = {name: (gu_paper[i] - standard_paper[i] if gu_paper and standard_paper else math.nan)
                          for i, name in enumerate(METRICS)}
            diff = paired_differences(runs, setup, gu_row, standard_row)
            records.append({"setup": setup, "row": gu_row, **pair_verdict(diff, paper_diff)})
    return pd.DataFrame(records, columns=["setup", "row", *COLUMNS])


def mark(verdict) -> str:
    """The LaTeX math symbol of a verdict; empty for none."""
    return MARKS.get(verdict, "") if isinstance(verdict, str) else ""
