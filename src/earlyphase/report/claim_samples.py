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

The companion papers' forms (Jastrzebski et al., Kalra & Barkeshli):

* ``vs_eta_star``: the intervention runs against the LR-grid run (``row == "grid"``) at the
  eta* they were trained from (their ``eta_star_scale`` label, the checkpoint's choice), or
  against the point ``eta_star_share`` of the way from the ``comparison`` runs to it (0.5:
  the midpoint, so d > 0 means "recovers more than half the gap"). Per run, the ``metric``
  column, or with ``test["probe"]`` the log of the probe's maximum over the run's records
  (the early peak of tr(F)).
* ``trend``: per seed, the least-squares slope of ``metric`` against log2(1 + ``test["x"]``)
  over the selected runs, against 0 (the Fisher penalty's onset epoch, 0 = from the start).
* ``critical_level``: per initialization (seed), log2 of a critical constant (c_loss, c_max;
  :mod:`earlyphase.phase_diagram.critical_constants`) at one (depth, width) point, or its mean
  over the grid's points, against log2 of a number or of another constant of the same run.
* ``critical_trend``: per initialization, the slope of log2 of a critical constant against
  log2(depth / width) over the grid's points, against 0.
"""

from __future__ import annotations

import hashlib

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


def _run_values(frame: pd.DataFrame, test: dict, metric: str | None) -> pd.Series:
    """Per seed, one number per run: ``metric``, or the log of the probe's peak over the run."""
    if "probe" not in test:
        return _one_per_seed(frame.set_index("seed")[metric], test["label"])
    finite = frame.assign(_probe=frame[test["probe"]].where(np.isfinite(frame[test["probe"]])))  # a run-log
    peaks = finite.groupby("run_id").agg(seed=("seed", "first"), peak=("_probe", "max"))  # has no status column
    return _one_per_seed(_log_positive(peaks.set_index("seed")["peak"]), test["label"])


def eta_star_rows(frame: pd.DataFrame, trained_from: pd.DataFrame) -> pd.DataFrame:
    """The LR-grid rows at the eta* that the ``trained_from`` runs were trained from (one value
    of their ``eta_star_scale`` label); no rows when they have none."""
    if "eta_star_scale" not in trained_from or trained_from["eta_star_scale"].isna().all():
        return frame.iloc[:0]
    scales = trained_from["eta_star_scale"].dropna().unique()
    if len(scales) != 1:
        raise ValueError(f"runs of one claim test were trained from different eta* scales: {sorted(scales)}")
    grid = frame[frame["row"] == "grid"]
    return grid[np.isclose(pd.to_numeric(grid["lr_scale"]), float(scales[0]))]


def vs_eta_star_pairs(frame: pd.DataFrame, test: dict, metric: str | None = None) -> pd.DataFrame:
    runs = select(frame, test["intervention"])
    at_eta_star = _run_values(eta_star_rows(frame, runs), test, metric)
    comparison = at_eta_star
    share = float(test.get("eta_star_share", 1.0))
    if share < 1.0:
        start = _run_values(select(frame, test["comparison"]), test, metric)
        comparison = (1.0 - share) * start + share * at_eta_star  # NaN where a seed lacks either arm
    return paired(_run_values(runs, test, metric), comparison)


def slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x (NaN with fewer than two distinct x)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(np.unique(x)) < 2:
        return np.nan
    centred = x - x.mean()
    return float((centred * (y - y.mean())).sum() / (centred**2).sum())


def _slopes(frame: pd.DataFrame, xy) -> pd.Series:
    """Per seed, the slope of y on x, where ``xy(rows of one seed) -> (x, y)``."""
    return pd.Series({seed: slope(*xy(rows)) for seed, rows in frame.groupby("seed")}, dtype=float)


def trend_pairs(runs: pd.DataFrame, test: dict, metric: str) -> pd.DataFrame:
    slopes = _slopes(select(runs, test["intervention"]),
                     lambda g: (np.log2(1.0 + pd.to_numeric(g[test["x"]])), g[metric]))
    return paired(slopes, pd.Series(0.0, index=slopes.index))


_CRITICAL_CACHE: dict[bytes, pd.DataFrame] = {}


def _critical_constants(trajectories: pd.DataFrame) -> pd.DataFrame:
    """fcn_critical_constants, once per distinct table: a ledger's phase-diagram tests all read
    the same trajectories (keyed by a hash of their content, not by the frame object)."""
    from earlyphase.phase_diagram.fcn_experiment import fcn_critical_constants

    key = hashlib.sha256(pd.util.hash_pandas_object(trajectories).to_numpy().tobytes()
                         + repr(list(trajectories.columns)).encode()).digest()
    if key not in _CRITICAL_CACHE:
        _CRITICAL_CACHE.clear()  # one table at a time is all a ledger needs
        _CRITICAL_CACHE[key] = fcn_critical_constants(trajectories)
    return _CRITICAL_CACHE[key].copy()  # callers may add columns


def _critical(trajectories: pd.DataFrame, test: dict) -> pd.DataFrame:
    """Per (depth, width, seed): the critical constants of the selected runs."""
    return select(_critical_constants(trajectories), test.get("select", {}))


def _spread_note(crit: pd.DataFrame, constant: str) -> str:
    """The constant's quartiles over the initializations and points read, and how many had no
    value on the c grid (left out of the test: e.g. no c of the grid raised the loss)."""
    values = crit[constant].dropna()
    note = ""
    if len(values):
        low, mid, high = np.quantile(values, [0.25, 0.5, 0.75])
        note = (f"{constant}: median {mid:.3g} (25-75 %: {low:.3g}-{high:.3g}) over {len(values)} "
                "initialization(s) x point(s)")
    missing = len(crit) - len(values)
    if missing:
        note += f"{'; ' if note else ''}{missing} without a {constant} on the c grid, left out"
    return note


def critical_level_pairs(trajectories: pd.DataFrame, test: dict, metric=None) -> pd.DataFrame:
    crit = _critical(trajectories, test)
    if test.get("at"):
        crit = select(crit, test["at"])
    reference = test["reference"]
    levels = np.log2(crit[reference]) if isinstance(reference, str) else np.full(len(crit), np.log2(reference))
    crit = crit.assign(_value=np.log2(crit[test["constant"]]), _reference=levels)
    per_seed = crit.groupby("seed")[["_value", "_reference"]].mean()  # one point, or the mean over the grid
    pairs = paired(per_seed["_value"], per_seed["_reference"])
    notes = [_spread_note(crit, test["constant"])]
    if isinstance(reference, str) and crit[reference].isna().any():
        notes.append(f"{int(crit[reference].isna().sum())} without a {reference} on the c grid, left out")
    pairs.attrs["note"] = "; ".join(note for note in notes if note)
    return pairs


def critical_trend_pairs(trajectories: pd.DataFrame, test: dict, metric=None) -> pd.DataFrame:
    crit = _critical(trajectories, test)
    slopes = _slopes(crit, lambda g: (np.log2(g["depth"] / g["width"]), np.log2(g[test["constant"]])))
    pairs = paired(slopes, pd.Series(0.0, index=slopes.index))
    pairs.attrs["note"] = _spread_note(crit, test["constant"])
    return pairs


READERS = {"runs": run_pairs, "probe_window": probe_window_pairs, "unfreeze": unfreeze_pairs,
           "chosen_vs_random": chosen_vs_random_pairs, "vs_eta_star": vs_eta_star_pairs, "trend": trend_pairs,
           "critical_level": critical_level_pairs, "critical_trend": critical_trend_pairs}


def paired_samples(kind: str, table: pd.DataFrame, test: dict, metric: str | None = None) -> pd.DataFrame:
    """The paired arms of one test (see the module docstring); empty without completed runs."""
    if kind not in READERS:
        raise ValueError(f"unknown kind of arms {kind!r}; known: {sorted(READERS)}")
    completed = table[table["status"] == "completed"] if "status" in table.columns else table
    if completed.empty:
        return pd.DataFrame(columns=ARMS, index=pd.Index([], name="seed"))
    return READERS[kind](completed, test, metric)
