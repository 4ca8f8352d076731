"""The two arms of a claim's test, read from an aggregated table and paired by seed.

One reader per kind of :class:`~earlyphase.experiments.claim.Arms`; :func:`paired_samples`
dispatches. Each returns a frame indexed by seed with columns ``intervention`` and
``comparison``, holding only the seeds whose runs completed in both arms and gave a number.
A test selects its runs with *selectors*, dicts of column -> value (``None`` selects a
missing value: ``gu_k: None`` is standard training), so the list of tests is plain JSON
fixed by the configuration.

* ``runs``: one number per run (ID or OOD accuracy) of two sets of runs.
* ``probe_window``: per run, the mean of log(probe) over the recorded early window (Figure 2).
* ``unfreeze``: within a GU run, log(probe) at the first probe point after each unfreezing
  step against the last one before it (Figure 2's drops).
* ``chosen_vs_random``: per seed, OOD accuracy of GU at the k Algorithm 2 chose against the
  mean over the random-k runs of the same seed; ``attrs["note"]`` carries the win rate, the
  summary the paper reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlyphase.models import num_blocks
from earlyphase.selection.stabilization import win_rate

ARMS = ["intervention", "comparison"]


def select(frame: pd.DataFrame, selector: dict) -> pd.DataFrame:
    """The rows of ``frame`` matching every column -> value of ``selector`` (None: missing)."""
    mask = pd.Series(True, index=frame.index)
    for column, value in selector.items():
        if column not in frame.columns:
            raise ValueError(f"a claim test selects on column {column!r}, which the table lacks "
                             f"(columns: {sorted(frame.columns)})")
        if value is None:
            mask &= frame[column].isna()
        elif isinstance(value, float):
            mask &= np.isclose(pd.to_numeric(frame[column], errors="coerce"), value)
        else:
            mask &= frame[column] == value
    return frame[mask]


def paired(intervention: pd.Series, comparison: pd.Series) -> pd.DataFrame:
    """The seeds present (and not NaN) in both arms, in seed order."""
    frame = pd.concat({"intervention": intervention, "comparison": comparison}, axis=1, join="inner").dropna()
    frame.index.name = "seed"
    return frame.sort_index()


def _one_per_seed(values: pd.Series, what: str) -> pd.Series:
    if values.index.duplicated().any():
        raise ValueError(f"claim test {what}: two completed runs of one seed")
    return values


def run_pairs(runs: pd.DataFrame, test: dict, metric: str) -> pd.DataFrame:
    arms = [_one_per_seed(select(runs, test[arm]).set_index("seed")[metric], f"{test['label']} ({arm})")
            for arm in ARMS]
    return paired(*arms)


def _log_positive(values: pd.Series) -> pd.Series:
    """log of the positive values; zero or negative readings (possible for S_avg) are left out."""
    return np.log(values.where(values > 0))


def window_log_mean(probes: pd.DataFrame, column: str) -> pd.Series:
    """Per seed, the mean over the recorded steps of log(probe ``column``)."""
    return probes.assign(_log=_log_positive(probes[column])).groupby("seed")["_log"].mean()


def probe_window_pairs(probes: pd.DataFrame, test: dict, metric=None) -> pd.DataFrame:
    return paired(*(window_log_mean(select(probes, test[arm]), test["probe"]) for arm in ARMS))


def unfreeze_points(steps, k: int, n_blocks: int) -> list[tuple[int, int]]:
    """(last probe step before, first probe step at or after) each unfreezing step j·k.

    The block unfrozen at step j·k first changes the model in that step's update, and the
    probe of step s sees the model after s updates: s < j·k is before, s >= j·k after. Pairs
    repeat when several unfreezings fall between two probe points; each counts once.
    """
    steps = sorted({int(s) for s in steps})
    pairs = []
    for j in range(1, n_blocks + 1):
        before = [s for s in steps if s < j * k]
        after = [s for s in steps if s >= j * k]
        if before and after and (before[-1], after[0]) not in pairs:
            pairs.append((before[-1], after[0]))
    return pairs


def unfreeze_pairs(probes: pd.DataFrame, test: dict, metric=None) -> pd.DataFrame:
    """Per seed, the mean over the unfreezing steps inside the window of log(probe) just after
    (intervention) and just before (comparison)."""
    rows = {}
    for seed, run in select(probes, test["intervention"]).groupby("seed"):
        logs = pd.Series(_log_positive(run[test["probe"]]).to_numpy(), index=run["step"].to_numpy())
        pairs = [(before, after) for before, after in
                 unfreeze_points(run["step"], int(test["k"]), num_blocks(run["arch"].iloc[0]))
                 if np.isfinite(logs[before]) and np.isfinite(logs[after])]
        if pairs:
            rows[seed] = (logs[[a for _, a in pairs]].mean(), logs[[b for b, _ in pairs]].mean())
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=ARMS)
    return paired(frame["intervention"], frame["comparison"])


def chosen_vs_random_pairs(runs: pd.DataFrame, test: dict, metric: str) -> pd.DataFrame:
    chosen, random = select(runs, test["intervention"]), select(runs, test["comparison"])
    pairs = paired(_one_per_seed(chosen.set_index("seed")[metric], f"{test['label']} (chosen k)"),
                   random.groupby("seed")[metric].mean())
    rate = win_rate(chosen[metric].mean() if len(chosen) else None,
                    list(random.groupby("gu_k")[metric].mean().values))
    if rate["n"] and not np.isnan(rate["win_rate"]):  # share of random k whose mean is below the chosen k's
        pairs.attrs["note"] = f"win rate {100 * rate['win_rate']:.0f}% of {rate['n']} random k"
    return pairs


READERS = {"runs": run_pairs, "probe_window": probe_window_pairs, "unfreeze": unfreeze_pairs,
           "chosen_vs_random": chosen_vs_random_pairs}


def paired_samples(kind: str, table: pd.DataFrame, test: dict, metric: str | None = None) -> pd.DataFrame:
    """The paired arms of one test (see the module docstring); empty without completed runs."""
    if kind not in READERS:
        raise ValueError(f"unknown kind of arms {kind!r}; known: {sorted(READERS)}")
    completed = table[table["status"] == "completed"] if "status" in table.columns else table
    if completed.empty:
        return pd.DataFrame(columns=ARMS, index=pd.Index([], name="seed"))
    return READERS[kind](completed, test, metric)
