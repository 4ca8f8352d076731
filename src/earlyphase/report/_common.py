"""Helpers shared by the report modules: atomic figure saving and LaTeX cells."""

from __future__ import annotations

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
