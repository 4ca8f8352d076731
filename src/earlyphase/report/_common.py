"""Helpers shared by the report modules: atomic figure and table saving, LaTeX cells and tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from earlyphase.atomic import atomic_path


def save_figure(figure, out_stem: Path | str) -> None:
    """Write ``<out_stem>.pdf`` and ``.png`` atomically."""
    import matplotlib.pyplot as plt

    out_stem = Path(out_stem)
    for suffix in (".pdf", ".png"):
        with atomic_path(out_stem.with_suffix(suffix)) as tmp:
            figure.savefig(tmp, format=suffix[1:], bbox_inches="tight", dpi=200)
    plt.close(figure)


def write_table(table: pd.DataFrame, latex: str, out: Path) -> None:
    """Write ``latex`` to ``out`` (the .tex path) and ``table`` as CSV beside it, atomically."""
    with atomic_path(out.with_suffix(".csv")) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(out) as tmp:
        tmp.write_text(latex)


def grouped_rows(table: pd.DataFrame, key: str) -> Iterator[tuple[bool, pd.Series]]:
    """``(starts_new_group, row)`` per row; the flag marks a change of ``row[key]`` after the first row."""
    previous = None
    for _, r in table.iterrows():
        yield previous is not None and r[key] != previous, r
        previous = r[key]


def end_table(lines: list[str], caption: str, label: str, note: str = "") -> str:
    """Close the tabular and table opened in ``lines`` with ``caption`` (plus ``note``) and ``label``."""
    if note:
        caption += " " + note
    lines = [*lines, "\\bottomrule", "\\end{tabular}", f"\\caption{{{caption}}}", f"\\label{{{label}}}",
             "\\end{table}", ""]
    return "\n".join(lines)


def pm(mean: float, std: float, n: int | None = None) -> str:
    """``$m \\pm s$`` (with `` (n)`` when given); ``--`` for a missing mean."""
    if pd.isna(mean):
        return "--"
    cell = f"${mean:.2f} \\pm {0.0 if pd.isna(std) else std:.2f}$"
    return cell if n is None else f"{cell} ({int(n)})"


def num(value: float, fmt: str = ".2f") -> str:
    return "n/r" if value is None or pd.isna(value) else format(value, fmt)


def delta(ours: float, paper: float) -> str:
    if ours is None or paper is None or pd.isna(ours) or pd.isna(paper):
        return "--"
    return f"{ours - paper:+.2f}"


def latex_escape(text: str) -> str:
    return str(text).replace("·", "$\\cdot$").replace("_", "\\_").replace("%", "\\%")
