"""Kalra & Barkeshli (2023) Figure 7: the uv model's phase diagram, plus the table of
average critical constants per (variant, width).

``uv_phase_diagram.{pdf,png}``: one panel per variant (lambda_max with eta = c/lambda_0;
trace and Frobenius norm with eta = c/tr H_0). ``uv_phase_diagram.csv``: <c_loss>, <c_sharp>,
<c_max> (mean over initializations, std, quartiles) per variant and width. The paper's claims:
with eta = c/lambda_0, <c_loss> tends to 2 at large width and is larger at small width; with
trace scaling, c_max = 4 at every width.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.report._common import write_csv
from earlyphase.report.phase_diagram_figures import critical_constants_table, plot_uv_phase_diagram


def uv_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([critical_constants_table(df, ("width",), v).assign(variant=v)
                      for v in df["variant"].unique()], ignore_index=True)


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    df = tables[0]
    plot_uv_phase_diagram(df, str(out.with_suffix("")), variants=list(dict.fromkeys(df["variant"])))
    table = uv_table(df)
    cols = ["variant", "width", "n_inits"] + [c for c in table.columns if c not in ("variant", "width", "n_inits")]
    write_csv(table[cols], out.with_suffix(".csv"))
