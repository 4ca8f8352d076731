"""Jastrzebski et al. (2021) Table 1, SimpleCNN / CIFAR-10 w/o aug., beside ours.

Columns eta*, Baseline (the small LR), GPx, GP, FP, GPr. eta* is the LR-grid point with the
best mean final validation accuracy, on a part of the training set held out of every Fisher
run (the checkpoint's rule, applied to the same grid runs; the caption says which split); the
Baseline and the penalties ran at the small LR, eta*/10 by default. Rows: test (ID) accuracy with the paper's
value, OOD accuracy on CIFAR-10-C (no paper reported one), and the maximum of tr(F) over the
probed early window with the paper's Table 4 value (ours: the probe's per-example tr(F) on
fixed training points over the early window only; the paper's: along the whole trajectory).
Writes the .tex and a .csv beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from earlyphase.report._common import begin_table, end_table, paper_delta, pm, write_table
from earlyphase.report.data_names import data_names
from earlyphase.report.fisher_common import (
    PAPER_MAX_TRF,
    PAPER_TABLE1,
    ROWS,
    grid_summary,
    pick_eta_star,
    small_lr_note,
    small_lr_rows,
)


def _column_runs(runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    eta_star = pick_eta_star(runs)
    grid = runs[runs["row"] == "grid"]
    small = small_lr_rows(runs)
    columns = {"eta*": grid[np.isclose(grid["lr"], eta_star)]}
    for row in ROWS[1:]:
        columns[row] = small[small["row"] == row]
    return columns


def fisher_table(runs: pd.DataFrame, probes: pd.DataFrame) -> pd.DataFrame:
    max_trf = (probes.groupby("run_id")["fisher_trace"].max() if len(probes) and "fisher_trace" in probes
               else pd.Series(dtype=float))
    rows = []
    for name, sub in _column_runs(runs).items():
        done = sub[sub["status"] == "completed"]
        trf = max_trf.reindex(done["run_id"]).dropna()
        rows.append({
            "column": name, "lr": float(sub["lr"].iloc[0]) if len(sub) else np.nan,
            "n_seeds": int(done["seed"].nunique()), "n_diverged": int((sub["status"] != "completed").sum()),
            "val_mean": done["val_acc"].mean() if "val_acc" in done else np.nan,
            "id_mean": done["id_acc"].mean(), "id_std": done["id_acc"].std(),
            "ood_mean": done["ood_acc"].mean(), "ood_std": done["ood_acc"].std(),
            "max_trF_mean": trf.mean() if len(trf) else np.nan,
            "paper_id": PAPER_TABLE1[name], "paper_max_trF": PAPER_MAX_TRF[name],
        })
    table = pd.DataFrame(rows)
    table["delta_id"] = table["id_mean"] - table["paper_id"]
    return table


def split_text(runs: pd.DataFrame) -> str:
    """Which split eta* was chosen on, for the caption (the grid runs' ``validation_fraction``)."""
    grid = runs[runs["row"] == "grid"]
    fractions = grid["validation_fraction"].dropna().unique() if "validation_fraction" in grid else []
    if len(fractions) != 1:
        return "a validation split held out of the training set"
    percent = f"{100 * float(fractions[0]):.3g}"
    return (f"a validation split of {percent}\\% of the training set (the last {percent}\\% of a fixed permutation; "
            "every Fisher run trains on the rest)")


def render_latex(table: pd.DataFrame, grid: pd.DataFrame, note: str = "", small_lr: str = "",
                 split: str = "a validation split held out of the training set",
                 data: tuple[str, str] = ("CIFAR-10", "CIFAR-10-C")) -> str:
    """One row per column of the paper's table (eta*, Baseline, GPx, GP, FP, GPr), ours and, on the
    line below, the paper's values with our difference (a layout that fits a one-column page);
    ``data``: our runs' data set and its corrupted test set (the paper's is CIFAR-10)."""
    lines = [*begin_table(__name__, "lcccc"),
             "& LR & test acc. (\\%) & OOD acc. (\\%) & max tr(F) \\\\",
             "\\midrule"]
    for r in table.itertuples():
        name = r.column.replace("eta*", "$\\eta^*$")
        lr = "--" if pd.isna(r.lr) else f"{r.lr:.3g}"
        trf = "--" if pd.isna(r.max_trF_mean) else f"{r.max_trF_mean:.3g}"
        lines.append(f"{name} & {lr} & {pm(r.id_mean, r.id_std)} & {pm(r.ood_mean, r.ood_std)} & {trf} \\\\")
        lines.append(f"\\quad paper ($\\Delta$) & & {paper_delta(r.paper_id, r.id_mean)} & "
                     f"\\textit{{n/r}} & \\textit{{{r.paper_max_trF:.2f}}} \\\\")
    n = table["n_seeds"]
    grid_text = ", ".join(f"{r.lr:.3g}: {r.val_mean:.2f}/{r.id_mean:.2f}" if not pd.isna(r.val_mean)
                          else f"{r.lr:.3g}: diverged" for r in grid.itertuples())
    paper_data = "" if data[0] == "CIFAR-10" else ", on CIFAR-10"
    caption = (f"SimpleCNN on {data[0]} without augmentation (Jastrzebski et al., Table 1): final test accuracy "
               f"(\\%), mean $\\pm$ std over $n={n.min()}$--${n.max()}$ seeds; below in italics: the paper (Table 1; "
               f"Table 4 for tr(F){paper_data}) and $\\Delta$ = ours $-$ paper. "
               f"$\\eta^*$ is the point of our LR grid with the best mean validation accuracy, on {split}, "
               f"never the test set (LR: validation/test accuracy, {grid_text}); Baseline and the penalties use the "
               f"small LR{f' ({small_lr})' if small_lr else ''}. OOD: {data[1]} accuracy averaged over "
               "corruptions and severities (not reported by the paper). tr(F): maximum of the per-example "
               "Fisher trace over our probed early window (the paper's: over the whole run).")
    diverged = table[table["n_diverged"] > 0]
    if len(diverged):
        eta = "$\\eta^*$"
        caption += " Diverged runs excluded: " + ", ".join(
            f"{r.column.replace('eta*', eta)} ({r.n_diverged})" for r in diverged.itertuples()) + "."
    return end_table(lines, caption, "tab:fisher_table1", note)


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    runs = tables[0]
    probes = tables[1] if len(tables) > 1 else pd.DataFrame()
    table = fisher_table(runs, probes)
    latex = render_latex(table, grid_summary(runs), note, small_lr_note(runs), split_text(runs), data_names(runs))
    write_table(table, latex, out)
