"""A table's headline numbers as a DVC metrics file: ``paths.results``/metrics/<artifact>.json.

Read from the table's CSV (what the report wrote, so the two never disagree), nested by the
artifact's ``metric_keys`` (setup, then row, ...), with per cell its ``metric_values`` (mean
ID and OOD accuracy, seed count, ...) and every column whose name contains ``verdict``. DVC
flattens the nesting into ``<setup>.<row>.<value>`` columns of ``dvc metrics show``,
``dvc metrics diff`` and ``dvc exp show``. Missing numbers are written as null.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from earlyphase.operations.atomic import write_json


def _plain(value):
    """A JSON value: numbers and strings as they are, NaN as None, numpy scalars unwrapped."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def table_metrics(table: pd.DataFrame, keys: tuple[str, ...], values: tuple[str, ...]) -> dict:
    missing = [c for c in (*keys, *values) if c not in table.columns]
    if missing:
        raise ValueError(f"metrics: columns {missing} are not in the table (columns: {list(table.columns)})")
    verdicts = [c for c in table.columns if "verdict" in c and c not in values]
    metrics: dict = {}
    for _, row in table.iterrows():
        cell = metrics
        for key in keys:
            cell = cell.setdefault(str(row[key]), {})
        if cell:
            raise ValueError(f"metrics: two rows of the table share { {k: row[k] for k in keys} }")
        cell.update({column: _plain(row[column]) for column in (*values, *verdicts)})
    return metrics


def write_metrics(csv_path: Path | str, keys: tuple[str, ...], values: tuple[str, ...], out: Path | str) -> dict:
    metrics = table_metrics(pd.read_csv(csv_path), keys, values)
    write_json(out, metrics)
    return metrics
