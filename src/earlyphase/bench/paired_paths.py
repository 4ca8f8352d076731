"""Is the CPU fast path harmless to the science? Final accuracies of today's path and the fast
path, paired by run.

``make fast-path-check`` trains the laptop preset's Table 1 rows at lr_d (standard and GU, 4
seeds) twice: with today's path (``config/fast-path-check.yaml``) and with the fast path
(``config/fast-path-check-fast.yaml`` on top: channels_last, plus bf16 where the CPU has it).
The two builds differ in nothing else, and the path is part of every run's config, so the runs
have different ids and both sets are kept. :func:`paired_differences` pairs the two
``table1_runs.parquet`` tables by (row, seed) and sets each pair's fast - today difference of
final ID and OOD accuracy beside the seed-to-seed spread of its row on today's path (the
standard deviation over seeds). The check passes when every difference lies within the
spread of its row: swapping the path moves a run less than swapping its seed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.report.verdict import t_interval

METRICS = ("id_acc", "ood_acc")
RUNS_TABLE = Path("tables") / "table1_runs.parquet"


def read_runs(results: Path) -> pd.DataFrame:
    path = Path(results) / RUNS_TABLE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the Table 1 runs of that path first "
                                "(make fast-path-check)")
    return pd.read_parquet(path)


def paired_differences(today: pd.DataFrame, fast: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, seed) present in both: each metric on both paths, the fast - today
    difference, the row's seed-to-seed spread on today's path, and whether the difference is
    within it."""
    keys = ["row", "seed"]
    for name, frame in (("today", today), ("fast", fast)):
        if frame.duplicated(keys).any():
            raise ValueError(f"the {name} path's runs repeat a (row, seed): not one build of one preset")
    paired = today[keys + list(METRICS)].merge(fast[keys + list(METRICS)], on=keys, suffixes=("_today", "_fast"))
    if paired.empty:
        raise ValueError("the two paths share no (row, seed): were they built from the same preset?")
    for metric in METRICS:
        spread = today.groupby("row")[metric].std(ddof=1).rename(f"{metric}_spread")
        paired = paired.merge(spread, left_on="row", right_index=True)
        paired[f"{metric}_diff"] = paired[f"{metric}_fast"] - paired[f"{metric}_today"]
        paired[f"{metric}_within"] = paired[f"{metric}_diff"].abs() <= paired[f"{metric}_spread"]
    return paired.sort_values(keys).reset_index(drop=True)


def summary(paired: pd.DataFrame) -> dict:
    """Mean difference with its 95 % t interval (a shift the path causes on average) and the
    largest |difference| per metric, beside the smallest spread of any row."""
    out = {"pairs": len(paired), "within_spread": bool(paired[[f"{m}_within" for m in METRICS]].all().all())}
    for metric in METRICS:
        diff = paired[f"{metric}_diff"]
        low, high = t_interval(float(diff.mean()), float(diff.std(ddof=1)), len(diff), 0.05)
        out[metric] = {"mean_diff": float(diff.mean()), "ci_low": low, "ci_high": high,
                       "max_abs_diff": float(diff.abs().max()), "min_spread": float(paired[f"{metric}_spread"].min())}
    return out


def table(paired: pd.DataFrame) -> str:
    """The printed comparison: one line per pair, then the verdict."""
    head = (f"{'row':<12} {'seed':>4}  {'ID today':>8} {'ID fast':>8} {'diff':>6} {'spread':>6}  "
            f"{'OOD today':>9} {'OOD fast':>9} {'diff':>6} {'spread':>6}")
    lines = [head, "-" * len(head)]
    for r in paired.itertuples(index=False):
        lines.append(f"{r.row:<12} {r.seed:>4}  {r.id_acc_today:>8.2f} {r.id_acc_fast:>8.2f} "
                     f"{r.id_acc_diff:>+6.2f} {r.id_acc_spread:>6.2f}  {r.ood_acc_today:>9.2f} "
                     f"{r.ood_acc_fast:>9.2f} {r.ood_acc_diff:>+6.2f} {r.ood_acc_spread:>6.2f}")
    s = summary(paired)
    verdict = "within" if s["within_spread"] else "NOT within"
    lines.append(f"{s['pairs']} pairs; every fast - today difference is {verdict} its row's seed-to-seed spread")
    for metric, name in (("id_acc", "ID"), ("ood_acc", "OOD")):
        m = s[metric]
        lines.append(f"{name}: mean difference {m['mean_diff']:+.2f} [95% {m['ci_low']:+.2f}, {m['ci_high']:+.2f}], "
                     f"largest |difference| {m['max_abs_diff']:.2f}")
    return "\n".join(lines)
