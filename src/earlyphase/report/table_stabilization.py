"""arXiv v1 Table 2 of Liu & Gurevych: gradual unfreezing at the k chosen by Algorithm 2.

Per setup and metric (S_worst, S_avg with c = 1 and with c = |w|, tr(F)) of the head-only
probe run: the chosen k,
the ID/OOD accuracy of GU at that k (mean ± std over seeds) and the win rate, the share of
the random k (<= ``random_k.k_max``, 800 as in the paper) whose mean OOD accuracy is below
the chosen k's, each beside the paper's value. The lr_d standard training row gives the
reference. CSV beside the .tex.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.probes.registry import probe_class
from earlyphase.report._common import (
    begin_table,
    end_table,
    group_row,
    grouped_rows,
    latex_escape,
    num,
    paper_delta,
    pm,
    write_table,
)
from earlyphase.report.paper_values import SETUP_TITLES, STABILIZATION
from earlyphase.selection.stabilization import METRIC_LABELS, win_rate


def _stats(frame: pd.DataFrame) -> dict:
    ok = frame[frame["status"] == "completed"]
    return {"id_mean": ok["id_acc"].mean(), "id_std": ok["id_acc"].std(), "ood_mean": ok["ood_acc"].mean(),
            "ood_std": ok["ood_acc"].std(), "n_seeds": ok["seed"].nunique(),
            "n_diverged": int((frame["status"] == "diverged").sum())}


def stabilization_frame(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for setup in dict.fromkeys(runs["setup"]):
        data = runs[runs["setup"] == setup]
        std = data[data["role"] == "standard"]
        if len(std):
            rows.append({"setup": setup, "method": "lr_d (standard)", "metric": None, "k": None, **_stats(std)})
        random = data[data["role"] == "random"]
        random_ood = random[random["status"] == "completed"].groupby("gu_k")["ood_acc"].mean()
        diverged_k = set(random["gu_k"]) - set(random_ood.index)
        random_values = list(random_ood.values) + [float("nan")] * len(diverged_k)
        for metric in dict.fromkeys(data.loc[data["role"] == "chosen", "metric"]):
            chosen = data[(data["role"] == "chosen") & (data["metric"] == metric)]
            stats = _stats(chosen)
            wr = win_rate(stats["ood_mean"], random_values)
            # the paper does not say which c its sharpness used: its value stands beside both
            paper = STABILIZATION.get((setup, probe_class(metric).quantity), (None,) * 4)
            rows.append({
                "setup": setup, "method": f"GU-{METRIC_LABELS[metric]}", "metric": metric,
                "k": int(chosen["chosen_k"].iloc[0]), "stabilized": bool(chosen["stabilized"].iloc[0]),
                **stats, "win_rate": 100 * wr["win_rate"], "wr_n": wr["n"], "wr_missing": wr["n_missing"],
                "random_k": ",".join(str(int(k)) for k in sorted(random["gu_k"].unique())),
                "paper_k": paper[0], "paper_id": paper[1], "paper_ood": paper[2], "paper_wr": paper[3],
            })
    return pd.DataFrame(rows)


def _largest_random_k(table: pd.DataFrame) -> str:
    """The largest random k drawn (the caption's bound; 800 or less in the paper's setting)."""
    drawn = [int(k) for ks in table.get("random_k", pd.Series(dtype=object)).dropna() for k in str(ks).split(",") if k]
    return str(max(drawn)) if drawn else "k_{max}"


def render_latex(table: pd.DataFrame, note: str = "") -> str:
    """One block per setup; per method our chosen k, accuracy and win rate and, on the line below,
    the paper's values with our differences (a layout that fits a one-column page)."""
    lines = [
        *begin_table(__name__, "lcccc"),
        "method & $k$ & ID (\\%) & OOD (\\%) & WR (\\%) \\\\",
        "\\midrule",
    ]
    for i, (new_setup, r) in enumerate(grouped_rows(table, "setup")):
        if new_setup:
            lines.append("\\midrule")
        if new_setup or i == 0:
            lines.append(group_row(SETUP_TITLES.get(r["setup"], r["setup"]), 5))
        chosen = r["metric"] is not None and not pd.isna(r["metric"])
        k = "--" if not chosen else f"{int(r['k'])}" + ("" if r.get("stabilized", True) else "$^\\dagger$")
        wr = "--" if not chosen else (f"{r['win_rate']:.0f} ({int(r['wr_n'])})" if not pd.isna(r["win_rate"]) else "--")
        lines.append(" & ".join([latex_escape(r["method"]), k, pm(r["id_mean"], r["id_std"], r["n_seeds"]),
                                 pm(r["ood_mean"], r["ood_std"]), wr]) + " \\\\")
        if chosen:
            lines.append(" & ".join([
                "\\quad paper ($\\Delta$)", f"\\textit{{{num(r.get('paper_k'), '.0f')}}}",
                paper_delta(r.get("paper_id"), r["id_mean"]) or "\\textit{n/r}",
                paper_delta(r.get("paper_ood"), r["ood_mean"]) or "\\textit{n/r}",
                f"\\textit{{{num(r.get('paper_wr'), '.0f')}}}",
            ]) + " \\\\")
    caption = ("Gradual unfreezing at the $k$ chosen by the stabilization heuristic (Algorithm 2 of Liu \\& "
               "Gurevych, arXiv v1) on each probe of a head-only run; accuracy mean $\\pm$ std ($n$ seeds); WR, win "
               f"rate: share of random $k \\le {_largest_random_k(table)}$ (count in parentheses) with lower mean "
               "OOD accuracy. Below in "
               "italics: v1 Table 2 and $\\Delta$ = ours $-$ paper (n/r: not reported), beside both perturbation "
               "scalings of a sharpness probe (c = 1, and $c = |w|$ marked adaptive), since the paper does not say "
               "which it used. $^\\dagger$: the signal never stabilized inside the window (last probe step used).")
    return end_table(lines, caption, "tab:stabilization", note)


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    table = stabilization_frame(tables[0])
    write_table(table, render_latex(table, note), out)
