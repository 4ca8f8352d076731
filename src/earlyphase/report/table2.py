"""Table 2 of Liu & Gurevych (seed): learning-rate switch and delayed Fisher penalty.

Left: CIFAR-10 ResNet-18 with lr_d, lr_l2h (0.1·lr_d for the first k steps, then lr_d),
0.1·lr_d and lr_h2l (the reverse). Right: the simple CNN on CIFAR-10 without and with the
Fisher penalty from several delays. Our mean ± std (n seeds) beside the paper's value and
the difference; the paper's text gives no numbers for the Fisher-penalty rows ("n/r").
Also writes a CSV with the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.records.aggregate import summarize
from earlyphase.report._common import (
    begin_table,
    end_table,
    group_row,
    grouped_rows,
    latex_escape,
    paper_delta,
    pm,
    write_table,
)
from earlyphase.report.paper_values import SETUP_TITLES, TABLE2_LR, TABLE2_SETUP

LR_ORDER = ["lr_d", "lr_l2h", "0.1·lr_d", "lr_h2l"]


def _fp_order(row: str) -> tuple:
    if row == "no FP":
        return (0, -1)
    return (1, int(row.rsplit(" ", 1)[-1]))


def table2_frame(runs: pd.DataFrame) -> pd.DataFrame:
    table = summarize(runs, ["part", "setup", "row"])
    table["k"] = table.apply(lambda r: runs.loc[(runs["part"] == r["part"]) & (runs["row"] == r["row"]), "k"].iloc[0],
                             axis=1)
    paper = [TABLE2_LR.get(r["row"]) if r["part"] == "lr_switch" and r["setup"] == TABLE2_SETUP else None
             for _, r in table.iterrows()]
    table["paper_id"] = [p[0] if p else float("nan") for p in paper]
    table["paper_ood"] = [p[1] if p else float("nan") for p in paper]
    table["delta_id"] = table["id_mean"] - table["paper_id"]
    table["delta_ood"] = table["ood_mean"] - table["paper_ood"]
    table["_order"] = [(0, LR_ORDER.index(r) if r in LR_ORDER else 9) if p == "lr_switch" else (1, *_fp_order(r))
                       for p, r in zip(table["part"], table["row"], strict=True)]
    return table.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def render_latex(table: pd.DataFrame, note: str = "") -> str:
    """One block per setup; per intervention our mean ± std (n) and, on the line below where the
    paper reports one, its value and our difference (a layout that fits a one-column page)."""
    lines = [
        *begin_table(__name__, "lcc"),
        "intervention & ID accuracy (\\%) & OOD accuracy (\\%) \\\\",
        "\\midrule",
    ]
    for i, (new_setup, r) in enumerate(grouped_rows(table, "setup")):
        if new_setup:
            lines.append("\\midrule")
        if new_setup or i == 0:
            lines.append(group_row(SETUP_TITLES.get(r["setup"], r["setup"]), 3))
        row = r["row"]
        if r["part"] == "lr_switch" and not pd.isna(r["k"]):
            row = f"{row} ($k={int(r['k'])}$)"
        lines.append(" & ".join([latex_escape(row), pm(r["id_mean"], r["id_std"], r["n_seeds"]),
                                 pm(r["ood_mean"], r["ood_std"], r["n_seeds"])]) + " \\\\")
        paper = [paper_delta(r["paper_id"], r["id_mean"]), paper_delta(r["paper_ood"], r["ood_mean"])]
        if any(paper):
            lines.append(" & ".join(["\\quad paper ($\\Delta$)", *paper]) + " \\\\")
    caption = ("Interventions in the early period of training: learning-rate switch (lr\\_l2h: "
               "0.1$\\cdot$lr\\_d for the first $k$ steps, then lr\\_d; lr\\_h2l the reverse) and the Fisher "
               "penalty applied after a delay of $d$ steps. Ours: mean $\\pm$ std ($n$ seeds); below in italics: "
               "Liu \\& Gurevych Table 2 and $\\Delta$ = ours $-$ paper, where the available text reports a value.")
    diverged = table[table["n_diverged"] > 0]
    if len(diverged):
        caption += " Diverged runs excluded: " + "; ".join(
            f"{latex_escape(r['row'])}: {r['n_diverged']}" for _, r in diverged.iterrows()) + "."
    return end_table(lines, caption, "tab:table2", note)


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    table = table2_frame(tables[0])
    write_table(table, render_latex(table, note), out)
