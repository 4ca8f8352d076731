"""The claims ledger: a verdict on every declared claim of the papers, from the aggregated tables.

Input: the test list the configuration fixes before any result (``claim_tests.parquet``,
:func:`earlyphase.experiments.claims.declared_tests`) and the aggregated tables the claims
read. Per tested row, the paired samples (:mod:`.claim_samples`) give the differences d =
intervention - comparison per seed, and :func:`earlyphase.report.verdict.judge` the verdict
with m = the number of tested rows of the list (Bonferroni over the whole ledger). A summary
claim (``combines``) is reproduced where, within its group, one setting (e.g. one k) has every
combined test reproduced, contradicted where every setting has a contradicted test, and
inconclusive otherwise. Rows of an artifact that is not configured say "not tested" and why.

Outputs: ``claims.csv`` (every row and number), ``claims.md`` (one section per claim) and
``claims.tex`` (a one-column booktabs float; the per-setting tests a summary stands for are
left to the CSV and the Markdown).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from earlyphase.operations.atomic import atomic_path
from earlyphase.report._common import begin_table, end_table, group_row, latex_escape, write_csv
from earlyphase.report.claim_samples import paired_samples
from earlyphase.report.paper_values import SETUP_TITLES
from earlyphase.report.verdict import (
    ADJUSTMENT,
    ALPHA,
    CONTRADICTED,
    INCONCLUSIVE,
    REPRODUCED,
    UNCHANGED,
    equivalence_margin,
    judge,
)

NOT_TESTED = "not tested"
COLUMNS = ["claim", "paper", "section", "statement", "dataset", "test", "comparison", "metric", "direction",
           "paper_value", "n", "mean_diff", "sd_diff", "ci_low", "ci_high", "adj_ci_low", "adj_ci_high",
           "adjustment", "m", "margin", "tost_low", "tost_high", "mde", "verdict", "reason", "note"]


def _pending(claim_tests: pd.DataFrame) -> pd.Series:
    """Why each test is not judged in this ledger though it counts in m ("" where it is judged)."""
    return claim_tests["pending"] if "pending" in claim_tests else pd.Series("", index=claim_tests.index)


def family_size(claim_tests: pd.DataFrame) -> int:
    """m: the tests of the ledger (rows tested on data; summaries and untested claims excluded)."""
    tested = (claim_tests["not_tested"] == "") & (claim_tests["kind"] != "summary")
    return int(tested.sum())


def _describe(row: pd.Series) -> dict:
    return {"claim": row["claim"], "paper": row["paper"], "section": row["section"], "statement": row["statement"],
            "dataset": row["setup"], "test": row["label"], "comparison": row["comparison"], "metric": row["metric"],
            "direction": row["direction"], "paper_value": row["paper_value"]}


def judge_test(row: pd.Series, tables: dict[str, pd.DataFrame], m: int) -> dict:
    """The ledger row of one tested claim test."""
    if row["table"] not in tables:
        raise ValueError(f"claim {row['claim']}: its table {row['table']} is not among the inputs {sorted(tables)}")
    test = json.loads(row["test"])
    samples = paired_samples(row["kind"], tables[row["table"]], test, row["arm_metric"] or None)
    margin = math.nan
    if row["direction"] == UNCHANGED and "margin" in test:  # stated with the claim, in the difference's units
        margin = float(test["margin"])
    elif row["direction"] == UNCHANGED and len(samples):
        margin = equivalence_margin(float(samples["comparison"].mean()))
    paper = math.nan if pd.isna(row["paper_value"]) else float(row["paper_value"])
    record = judge(samples["intervention"] - samples["comparison"], row["direction"], m, paper, margin)
    return {**_describe(row), **record, "note": samples.attrs.get("note", "")}


def summary_verdict(members: pd.DataFrame, combines: list[str]) -> tuple[str, str]:
    """(verdict, reason) of a summary claim from the rows of the claims it combines (one group)."""
    if members.empty:
        return INCONCLUSIVE, "no tests"
    settings = list(dict.fromkeys(members["test"]))
    verdicts = members.pivot_table(index="test", columns="claim", values="verdict", aggfunc="first")
    verdicts = verdicts.reindex(index=settings, columns=combines)
    met = [s for s in settings if (verdicts.loc[s] == REPRODUCED).all()]
    if met:
        return REPRODUCED, "every combined test reproduced at " + "; ".join(met)
    if all((verdicts.loc[s] == CONTRADICTED).any() for s in settings):
        return CONTRADICTED, "every setting has a contradicted test"
    return INCONCLUSIVE, "no setting has every combined test reproduced"


def ledger(claim_tests: pd.DataFrame, tables: dict[str, pd.DataFrame], artifacts=None) -> pd.DataFrame:
    """One row per test (and per summary and untested claim), in declaration order; only the
    claims of ``artifacts`` when given (m still counts every test of the list)."""
    m = family_size(claim_tests)
    if artifacts is not None:
        claim_tests = claim_tests[claim_tests["artifact"].isin(artifacts)].reset_index(drop=True)
    records = []
    for _, row in claim_tests.iterrows():
        why = row["not_tested"] or row.get("pending", "")
        if why:
            records.append({**_describe(row), "m": m, "adjustment": ADJUSTMENT, "verdict": NOT_TESTED,
                            "reason": why})
        elif row["kind"] == "summary":
            records.append({**_describe(row), "m": m, "adjustment": ADJUSTMENT})  # judged below
        else:
            records.append(judge_test(row, tables, m))
    frame = pd.DataFrame(records, columns=COLUMNS)
    groups = claim_tests["group"].to_numpy()
    for i, row in claim_tests.iterrows():
        if row["kind"] == "summary" and not (row["not_tested"] or row.get("pending", "")):
            combines = row["combines"].split(",")
            members = frame[frame["claim"].isin(combines) & (frame["dataset"] == row["setup"])
                            & (groups == row["group"])]
            frame.loc[i, ["verdict", "reason"]] = summary_verdict(members, combines)
    frame["n"] = frame["n"].astype("Int64")
    frame["m"] = frame["m"].astype("Int64")
    return frame


def _number(value: float, fmt: str = "+.2f") -> str:
    return "" if pd.isna(value) else format(value, fmt)


def _interval(row: pd.Series) -> str:
    """Our mean difference and its adjusted interval, as plain text."""
    if pd.isna(row["mean_diff"]):
        return ""
    if pd.isna(row["adj_ci_low"]):
        return _number(row["mean_diff"])
    return f"{row['mean_diff']:+.2f} [{row['adj_ci_low']:+.2f}, {row['adj_ci_high']:+.2f}]"


def _verdict_text(row: pd.Series) -> str:
    margin = f" (δ = {row['margin']:.2f})" if not pd.isna(row["margin"]) else ""
    return f"{row['verdict']}{margin}"


def rule_sentence(m) -> str:
    return (f"Paired differences d = intervention − comparison over the seeds completed in both arms; "
            f"intervals are Student-t, adjusted: {ADJUSTMENT} over the m = {m} tests of this ledger "
            f"(level {ALPHA:g}/m each); 'unchanged' claims by TOST with margin δ = a quarter of the comparison "
            f"arm's error rate; MDE: the difference detectable with 80% power at the adjusted level "
            f"(for 'unchanged': the smallest margin TOST shows with 80% power). The rule: README, 'Verdict rule'.")


def render_markdown(table: pd.DataFrame) -> str:
    m = table["m"].dropna().iloc[0] if table["m"].notna().any() else 0
    lines = ["# Claims ledger", "", rule_sentence(m), ""]
    for claim, rows in table.groupby("claim", sort=False):
        first = rows.iloc[0]
        lines += [f"## {claim}", "", f"{first['statement']} ({first['paper']}, {first['section']}; "
                  f"{first['metric']}; {first['comparison']}; paper: {first['direction']})", ""]
        if (rows["verdict"] == NOT_TESTED).all():
            lines += [f"Not tested: {first['reason']}.", ""]
            continue
        lines += ["| data set | setting | paper | ours: mean [adjusted interval] | verdict | n | MDE | reason |",
                  "|---|---|---|---|---|---|---|---|"]
        for _, r in rows.iterrows():
            reason = r["reason"] + (f"; {r['note']}" if isinstance(r["note"], str) and r["note"] else "")
            lines.append(" | ".join(["", SETUP_TITLES.get(r["dataset"], r["dataset"]), r["test"],
                                     _number(r["paper_value"]), _interval(r), _verdict_text(r),
                                     "" if pd.isna(r["n"]) else str(r["n"]), _number(r["mde"], ".2f"),
                                     reason, ""]).strip())
        lines.append("")
    return "\n".join(lines)


def _compact(value: float, sign: bool = True) -> str:
    """Three significant figures or so, never an exponent: intervals of two seeds can be huge."""
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return format(value, f"{'+' if sign else ''}.{digits}f")


def _tex_math(value: float, sign: bool = True) -> str:
    return "" if pd.isna(value) else f"${_compact(value, sign)}$"


def _tex_interval(row: pd.Series) -> str:
    if pd.isna(row["mean_diff"]):
        return "--"
    if pd.isna(row["adj_ci_low"]):
        return _tex_math(row["mean_diff"])
    return f"{_tex_math(row['mean_diff'])} [{_tex_math(row['adj_ci_low'])}, {_tex_math(row['adj_ci_high'])}]"


def _tex_verdict(row: pd.Series) -> str:
    text = latex_escape(row["verdict"])
    return text + (f" ($\\delta{{=}}{row['margin']:.1f}$)" if not pd.isna(row["margin"]) else "")


def summarized_claims(claim_tests: pd.DataFrame) -> set[str]:
    """The claims whose tests a summary claim combines."""
    return {claim for combines in claim_tests["combines"] if combines for claim in combines.split(",")}


def render_latex(table: pd.DataFrame, summarized: set[str] = frozenset(), note: str = "") -> str:
    """One block per claim and data set (a heading row), one row per test; the claims not tested
    are named in the caption, and the tests of ``summarized`` claims (a summary row stands for
    them) are in the CSV and the Markdown only, so that the float stays short and narrow."""
    lines = begin_table(__name__, "@{}lrlrrr@{}")
    # six columns, two of them intervals: a size smaller than the other tables keeps one column
    lines[lines.index("\\small")] = "\\footnotesize\\setlength{\\tabcolsep}{4pt}"
    lines += ["setting & paper & ours [adjusted] & verdict & $n$ & MDE \\\\", "\\midrule"]
    tested = table[(table["verdict"] != NOT_TESTED) & ~table["claim"].isin(summarized)]
    for i, ((claim, dataset), rows) in enumerate(tested.groupby(["claim", "dataset"], sort=False)):
        first = rows.iloc[0]
        if i:
            lines.append("\\addlinespace")
        lines.append(group_row(f"{claim}: {SETUP_TITLES.get(dataset, dataset)}", 6,
                               f" ({latex_escape(first['section'])}, {first['direction']})"))
        for _, r in rows.iterrows():
            lines.append(" & ".join([latex_escape(r["test"]), _tex_math(r["paper_value"]), _tex_interval(r),
                                     _tex_verdict(r), "" if pd.isna(r["n"]) else str(r["n"]),
                                     _tex_math(r["mde"], sign=False)]) + " \\\\")
    m = table["m"].dropna().iloc[0] if table["m"].notna().any() else 0
    caption = (f"Claims ledger: the verdict on each claim. Ours: mean paired difference (intervention $-$ "
               f"comparison, same seed) and its {ADJUSTMENT}-adjusted Student-$t$ interval over the $m = {m}$ "
               f"tests of this ledger; 'unchanged' claims by TOST with margin $\\delta$ (a quarter of the "
               f"comparison arm's error rate, in points); MDE: the difference detectable with 80\\% power at the "
               f"adjusted level. Probe claims compare log values.")
    hidden = sorted(summarized & set(table.loc[table["verdict"] != NOT_TESTED, "claim"]))
    if hidden:
        caption += (f" Not listed: the tests of {', '.join(latex_escape(c) for c in hidden)}, which the summary "
                    "rows combine (in claims.csv and claims.md).")
    untested = table[table["verdict"] == NOT_TESTED]
    for reason, rows in untested.groupby("reason", sort=False):
        caption += f" Not tested ({latex_escape(reason)}): {', '.join(latex_escape(c) for c in rows['claim'])}."
    return end_table(lines, caption, "tab:claims", note)


def write_ledger(claim_tests: pd.DataFrame, tables: dict[str, pd.DataFrame], out: Path | str,
                 note: str = "") -> pd.DataFrame:
    """``claims.csv``, ``claims.md`` and ``claims.tex`` (``out``: any of the three paths)."""
    table = ledger(claim_tests, tables)
    csv_path = Path(out).with_suffix(".csv")
    write_csv(table, csv_path)
    latex = render_latex(table, summarized_claims(claim_tests), note)
    for suffix, text in ((".md", render_markdown(table)), (".tex", latex)):
        with atomic_path(csv_path.with_suffix(suffix)) as tmp:
            tmp.write_text(text)
    return table


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    """CLI entry: ``tables`` are the test list, then the claims' tables in name order
    (:func:`earlyphase.experiments.claims.input_tables`); ``out`` is claims.csv."""
    claim_tests = tables[0]
    tested = (claim_tests["not_tested"] == "") & (claim_tests["table"] != "") & (_pending(claim_tests) == "")
    names = sorted(set(claim_tests.loc[tested, "table"]))
    if len(names) != len(tables) - 1:
        raise ValueError(f"claims: the test list reads {names}, but {len(tables) - 1} tables were given")
    write_ledger(claim_tests, dict(zip(names, tables[1:], strict=True)), out, note)
