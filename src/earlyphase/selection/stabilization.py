"""Stabilization heuristic of Liu & Gurevych (arXiv v1, Algorithm 2) and the win rate.

Algorithm 2 picks the unfreezing interval k from a probe trajectory recorded while only
the head is trainable:

1. normalize the trajectory to [0, 1] (min-max; a constant signal becomes all zeros), so
   the threshold ``epsilon`` is a share of the signal's range (0.02 = 2 %);
2. skip the initial transient: ``t_delta`` is the index where the rapid change ends.
   ``transient="max_change"`` (default) takes the index right after the largest single
   change ``|S[i+1] - S[i]|``; an integer gives ``t_delta`` directly (in probe records);
3. smooth the rest with a moving average of window ``tau`` ("valid" part only);
4. ``delta_mu = |diff(mu)|``; the stabilization index is ``t_delta`` plus the first index
   ``j`` with ``delta_mu[j] <= epsilon``.

The index counts probe records (record i is the i-th entry of the trajectory, normally
step ``i * probe.every`` with the step-0 record first); :func:`stabilization_step` maps it
to a training step, which is the chosen k.

Win rate (v1 Table 2): the share of randomly drawn k (10 values <= 800, seeded) whose OOD
accuracy is below the OOD accuracy at the chosen k. Runs whose OOD accuracy is missing
(diverged) are left out of the share and counted separately by the report.

Everything here is a pure function of numpy arrays; tests use synthetic signals with a
known stabilization point.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from earlyphase.probes.registry import probe_class

# Algorithm 2 runs on the probe's own column (tr(F) normalized by the number of trainable
# parameters; with only the head trainable the count is constant, and the min-max
# normalization makes the choice of raw or normalized trace irrelevant).
METRICS = ("worst_sharpness", "avg_sharpness", "fisher_trace", "worst_sharpness_adaptive", "avg_sharpness_adaptive")
"""The probes arXiv v1 Table 2 chooses k with; the sharpness ones under either scaling c
(the paper does not say which it used)."""
METRIC_COLUMNS = {m: probe_class(m).column for m in METRICS}
METRIC_LABELS = {m: probe_class(m).text_label for m in METRICS}


def normalize(signal) -> np.ndarray:
    """Min-max normalization to [0, 1]; a constant (or empty) signal gives zeros."""
    s = np.asarray(signal, dtype=float)
    if s.size == 0:
        return s
    if not np.all(np.isfinite(s)):
        raise ValueError("the probe trajectory has non-finite values (diverged run?)")
    span = s.max() - s.min()
    if span == 0:
        return np.zeros_like(s)
    return (s - s.min()) / span


def transient_end(normalized, transient: str | int = "max_change") -> int:
    """``t_delta``: index where the rapid initial change ends."""
    s = np.asarray(normalized, dtype=float)
    if isinstance(transient, (int, np.integer)) and not isinstance(transient, bool):
        if transient < 0:
            raise ValueError(f"transient must be >= 0, got {transient}")
        return int(transient)
    if transient != "max_change":
        raise ValueError(f"transient must be 'max_change' or an integer, got {transient!r}")
    if s.size < 2:
        return 0
    return int(np.argmax(np.abs(np.diff(s)))) + 1


def moving_average(signal, tau: int) -> np.ndarray:
    """Mean over each full window of ``tau`` consecutive values (numpy 'valid' mode)."""
    if int(tau) != tau or tau < 1:
        raise ValueError(f"tau must be an integer >= 1, got {tau!r}")
    s = np.asarray(signal, dtype=float)
    if s.size < tau:
        return np.empty(0)
    return np.convolve(s, np.ones(int(tau)) / tau, mode="valid")


@dataclass(frozen=True)
class Stabilization:
    """Result of Algorithm 2 on one trajectory (indices count probe records)."""

    index: int | None          # t_delta + first j with delta_mu[j] <= epsilon; None if never
    t_delta: int
    stabilized: bool

    def as_dict(self) -> dict:
        return asdict(self)


def stabilization_index(signal, tau: int = 3, epsilon: float = 0.02,
                        transient: str | int = "max_change") -> Stabilization:
    """Algorithm 2 on a raw probe trajectory (see the module docstring)."""
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    s = normalize(signal)
    t_delta = transient_end(s, transient)
    mu = moving_average(s[t_delta:], tau)
    delta_mu = np.abs(np.diff(mu))
    hits = np.flatnonzero(delta_mu <= epsilon)
    if hits.size == 0:
        return Stabilization(index=None, t_delta=t_delta, stabilized=False)
    return Stabilization(index=t_delta + int(hits[0]), t_delta=t_delta, stabilized=True)


def stabilization_step(steps, values, tau: int = 3, epsilon: float = 0.02,
                       transient: str | int = "max_change", k_max: int | None = None) -> dict:
    """The chosen k (a training step) from a probe trajectory ``(steps, values)``.

    Records are sorted by step first. When the signal never stabilizes, k is the last
    recorded step (flagged ``stabilized: false``); k is clipped to ``[1, k_max]`` (the
    largest k whose unfreezing ends within the run), flagged ``clipped: true``.
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    if steps.shape != values.shape or steps.size == 0:
        raise ValueError("steps and values must be non-empty and of equal length")
    order = np.argsort(steps, kind="stable")
    steps, values = steps[order], values[order]
    result = stabilization_index(values, tau, epsilon, transient)
    index = result.index if result.stabilized else len(steps) - 1
    k = int(steps[index])
    clipped = False
    if k < 1:
        k, clipped = 1, True
    if k_max is not None and k > k_max:
        k, clipped = int(k_max), True
    return {"k": k, "index": index, "t_delta": result.t_delta, "stabilized": result.stabilized,
            "clipped": clipped}


def random_ks(seed: int, n: int = 10, k_max: int = 800, k_min: int = 1) -> list[int]:
    """``n`` distinct k drawn uniformly from ``[k_min, k_max]`` (seeded), sorted."""
    if k_max < k_min:
        raise ValueError(f"k_max={k_max} < k_min={k_min}")
    n = min(int(n), k_max - k_min + 1)
    rng = np.random.default_rng(seed)
    return sorted(int(k) for k in rng.choice(np.arange(k_min, k_max + 1), size=n, replace=False))


def win_rate(chosen, randoms) -> dict:
    """Share of random-k results strictly below the chosen-k result (NaNs left out).

    Returns ``{"win_rate": share in [0, 1] or NaN, "wins": int, "n": compared, "n_missing": int}``.
    """
    randoms = np.asarray(randoms, dtype=float)
    missing = int(np.isnan(randoms).sum())
    valid = randoms[~np.isnan(randoms)]
    if valid.size == 0 or chosen is None or np.isnan(chosen):
        return {"win_rate": float("nan"), "wins": 0, "n": int(valid.size), "n_missing": missing}
    wins = int((valid < chosen).sum())
    return {"win_rate": wins / valid.size, "wins": wins, "n": int(valid.size), "n_missing": missing}


def choose_k(probes, metric: str, settings: dict) -> dict:
    """Algorithm 2 on one metric of a head-only run's probe records (a DataFrame with
    ``step`` and the metric's column, see :data:`METRIC_COLUMNS`); ``settings`` holds
    ``tau``, ``epsilon``, ``transient`` and ``k_max``. Returns the JSON the workflow stores."""
    if metric not in METRIC_COLUMNS:
        raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRIC_COLUMNS)}")
    column = METRIC_COLUMNS[metric]
    if column not in probes.columns:
        raise ValueError(f"probe records have no column {column!r} (is {metric} in probe.probes?)")
    out = stabilization_step(probes["step"].to_numpy(), probes[column].to_numpy(), settings["tau"],
                             settings["epsilon"], settings["transient"], settings.get("k_max"))
    return {"metric": metric, "column": column, **out, "settings": settings}
