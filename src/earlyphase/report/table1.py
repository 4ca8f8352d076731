"""Table 1 of Liu & Gurevych: ID/OOD accuracy with and without gradual unfreezing (GU).

Rows lr_d, lr_d + GU, 0.1·lr_d, 0.1·lr_d + GU in one block per setup; columns ID and OOD.
Each of our cells is mean ± std over seeds (one seed: the mean and n=1, no spread); the line
below gives the paper's value and our difference from it. Diverged runs are excluded from the
means and counted in a note.
The GU rows carry the verdict on the paper's claim (:mod:`earlyphase.report.verdict`): a mark
after each cell, and the paired differences, intervals and verdicts as CSV columns.
Also writes the same numbers as CSV for machines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.records.aggregate import summarize
from earlyphase.report._common import begin_table, end_table, group_row, latex_escape, pm, write_table
from earlyphase.report.paper_values import SETUP_TITLES, TABLE1, V1_OPTIMIZER
from earlyphase.report.verdict import CAPTION as VERDICT_CAPTION
from earlyphase.report.verdict import mark, verdicts

ROW_ORDER = ["lr_d", "lr_d + GU", "0.1·lr_d", "0.1·lr_d + GU"]
OPTIMIZER_NAMES = {"sgd": "SGD", "adamw": "AdamW", "adam": "Adam"}


def table1_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (setup, row) with ours, the paper's value and the difference;
    the GU rows also with their verdict columns."""
    table = summarize(runs, ["setup", "row"])
    paper = table.apply(lambda r: TABLE1.get((r["setup"], r["row"]), (float("nan"),) * 2), axis=1)
    table["paper_id"] = [p[0] for p in paper]
    table["paper_ood"] = [p[1] for p in paper]
    table["delta_id"] = table["id_mean"] - table["paper_id"]
    table["delta_ood"] = table["ood_mean"] - table["paper_ood"]
    diverged = runs[runs["status"] == "diverged"].groupby(["setup", "row"])["diverged_at"]
    steps = diverged.agg(lambda s: ", ".join(str(int(v)) for v in sorted(s))).to_dict()
    table["diverged_steps"] = [steps.get(key, "") for key in zip(table["setup"], table["row"], strict=True)]
    table = table.merge(verdicts(runs, TABLE1), on=["setup", "row"], how="left")
    table["verdict_pairs"] = table["verdict_pairs"].astype("Int64")  # empty on the standard rows
    order = {row: i for i, row in enumerate(ROW_ORDER)}
    setups = list(dict.fromkeys(runs["setup"]))
    table["_setup_order"] = table["setup"].map({s: i for i, s in enumerate(setups)})
    table["_row_order"] = table["row"].map(lambda r: order.get(r, len(order)))
    return table.sort_values(["_setup_order", "_row_order"]).drop(columns=["_setup_order", "_row_order"])


def _cell(mean: float, std: float, verdict=None) -> str:
    symbol = mark(verdict)
    return pm(mean, std, suffix="\\," + symbol if symbol else "")


def _paper_cell(paper: float, delta: float) -> str:
    if pd.isna(paper):
        return ""
    return f"\\textit{{{paper:.2f}}} ({'--' if pd.isna(delta) else f'{delta:+.2f}'})"


def _seed_count(seeds: pd.Series) -> str:
    return f"$n={seeds.min()}$" if seeds.min() == seeds.max() else f"$n={seeds.min()}$--${seeds.max()}$"


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
        lines.append(group_row(title, 3, f" ({_seed_count(cell.loc[setup]['n_seeds'])})"))
        for row in rows:
            if (setup, row) not in cell.index:
                continue
            c = cell.loc[(setup, row)]
            lines.append(" & ".join([latex_escape(row), _cell(c["id_mean"], c["id_std"], c.get("verdict_id_holds")),
                                     _cell(c["ood_mean"], c["ood_std"], c.get("verdict_ood_holds"))]) + " \\\\")
            if not (pd.isna(c["paper_id"]) and pd.isna(c["paper_ood"])):
                lines.append(" & ".join(["\\quad paper ($\\Delta$)", _paper_cell(c["paper_id"], c["delta_id"]),
                                         _paper_cell(c["paper_ood"], c["delta_ood"])]) + " \\\\")
            if c["n_diverged"]:
                where = f" (loss not finite at step {c['diverged_steps']})" if c.get("diverged_steps") else ""
                notes.append(f"{title}, {row}: {int(c['n_diverged'])} diverged run(s) excluded{where}")
    caption = ("ID and OOD test accuracy (\\%) with and without gradual unfreezing (GU), mean $\\pm$ std "
               "over $n$ seeds; italics: Liu \\& Gurevych (arXiv v1 Table 1), $\\Delta$ = ours $-$ paper. "
               "OOD: mean over corruptions and severities.")
    if "verdict_id_holds" in table and table["verdict_id_holds"].notna().any():
        caption += " " + VERDICT_CAPTION
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


def write_table1(runs: pd.DataFrame, tex_path: Path | str, caption_note: str = "") -> None:
    """``tex_path`` and the CSV beside it."""
    table = table1_frame(runs)
    note = " ".join(part for part in (stand_in_note(runs), optimizer_note(runs).strip(), caption_note.strip()) if part)
    write_table(table, render_latex(table, note), Path(tex_path))


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    """CLI entry: ``out`` is the .tex path; the CSV lands beside it."""
    write_table1(tables[0], out, caption_note=note)
