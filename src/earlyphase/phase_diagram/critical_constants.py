"""Critical learning-rate constants of the early transient (Kalra & Barkeshli, Definition 1).

For a learning rate ``eta = c / lambda_0`` let ``L_t`` and ``lambda_t`` be the loss and the
sharpness after ``t`` steps, and ``T`` the length of the early transient window.

* ``c_loss``  = min { c : L_t > L_0 for some 1 <= t <= T }       (loss catapult onset)
* ``c_sharp`` = min { c : lambda_t > lambda_0 for some 1 <= t <= T }  (sharpness catapult onset)
* ``c_max``   = max { c : L_t < k for all 1 <= t <= T }          (largest non-divergent c)

Choices made here, and why:

* **Increase threshold.** "Greater than" is tested after rounding the ratio to two decimals,
  ``round(L_t / L_0, 2) > 1`` (likewise for sharpness): the paper's Appendix C does exactly
  this "to avoid a random increase in loss and sharpness due to fluctuations".  In effect a
  rise of at least ~0.5 % is needed.  ``decimals`` changes it (``None``: a strict ``>``).
* **Divergence threshold** ``k = 1e5`` (``divergence_factor``), an *absolute* loss level.
  The paper calls ``k`` "a fixed large constant" and justifies a fixed value by ``L_0 = O(1)``
  in all its experiments (MSE with 0.5 * mean and criticality at init); the extracted seed
  text elides its value, 1e5 is our documented default.  ``relative_divergence=True`` tests
  ``L_t < k L_0`` instead; we do not default to it because in the uv model ``L_0 = f_0^2 / 2``
  is occasionally ~0 for single initializations, which would flag ordinary catapults as
  divergent.  Non-finite values always count as divergent.
* **Window.** Steps ``1 .. T`` of whatever trajectory is passed in (``window`` truncates it).
  The authors' FCN runs use ``T = 10`` SGD steps; the uv model default is ``T = 100`` GD steps
  (its transient lasts O(log n) steps; see ``uv_model``).
* **Divergent runs** count as a loss increase and as a sharpness increase (their recorded
  values are ``inf``/``nan``), so ``c_loss <= c_max`` and ``c_sharp <= c_max`` hold on the
  grid's resolution.
* **c_max on a grid.** The literal "max over non-divergent c" can pick an isolated survivor
  above a divergent c; we take the largest grid value *below the smallest divergent c*, the
  usual meaning of "maximum trainable learning rate".  If no c on the grid diverges,
  ``c_max`` is the top of the grid and ``c_max_censored`` is True; if even the smallest c
  diverges, ``c_max`` is NaN.  ``c_loss`` / ``c_sharp`` are NaN when no c on the grid shows
  the increase.
* **Averages** are over initializations of the per-initialization constants
  (``<c_loss>`` etc.), NaNs dropped and counted.

All functions are pure and operate on arrays whose last two axes are ``(c, step)``; any
leading axes (initializations, widths) are batch axes.  ``cs`` must be increasing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_DIVERGENCE_FACTOR = 1e5
DEFAULT_DECIMALS = 2


def _ratio_window(traj: np.ndarray, window: int | None) -> np.ndarray:
    traj = np.asarray(traj, dtype=float)
    if traj.ndim < 2 or traj.shape[-1] < 2:
        raise ValueError("trajectories need shape (..., n_c, T + 1) with T >= 1")
    end = traj.shape[-1] if window is None else min(window + 1, traj.shape[-1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return traj[..., 1:end] / traj[..., :1]


def increased(
    traj: np.ndarray, decimals: int | None = DEFAULT_DECIMALS, window: int | None = None
) -> np.ndarray:
    """True where ``round(X_t / X_0, decimals) > 1`` for some ``1 <= t <= T`` (non-finite
    ratios count as increased).  Shape: ``traj.shape[:-1]``."""
    ratio = _ratio_window(traj, window)
    # rounding is monotone, so testing the window's maximum is equivalent to testing each t
    peak = np.max(np.where(np.isfinite(ratio), ratio, np.inf), axis=-1)
    if decimals is not None:
        with np.errstate(invalid="ignore", over="ignore"):
            peak = np.where(np.isfinite(peak), np.round(peak, decimals), np.inf)
    return peak > 1.0


def diverged(
    loss: np.ndarray,
    divergence_factor: float = DEFAULT_DIVERGENCE_FACTOR,
    window: int | None = None,
    relative: bool = False,
) -> np.ndarray:
    """True where ``L_t >= k`` (``relative``: ``L_t >= k L_0``) or ``L_t`` is non-finite for
    some ``1 <= t <= T``."""
    if relative:
        level = _ratio_window(loss, window)
    else:
        loss = np.asarray(loss, dtype=float)
        if loss.ndim < 2 or loss.shape[-1] < 2:
            raise ValueError("trajectories need shape (..., n_c, T + 1) with T >= 1")
        end = loss.shape[-1] if window is None else min(window + 1, loss.shape[-1])
        level = loss[..., 1:end]
    ok = np.isfinite(level) & (level < divergence_factor)
    return ~np.all(ok, axis=-1)


def first_c(cs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Smallest ``c`` where ``mask`` (last axis over ``cs``) is True; NaN if never."""
    cs = np.asarray(cs, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    idx = np.argmax(mask, axis=-1)
    return np.where(mask.any(axis=-1), cs[idx], np.nan)


def max_trainable_c(cs: np.ndarray, div: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(c_max, censored)``: the largest grid c below the smallest divergent c.

    No divergent c: top of the grid, ``censored=True``.  Smallest c divergent: NaN.
    """
    cs = np.asarray(cs, dtype=float)
    div = np.asarray(div, dtype=bool)
    any_div = div.any(axis=-1)
    first = np.argmax(div, axis=-1)
    below = np.where(first > 0, cs[np.maximum(first - 1, 0)], np.nan)
    c_max = np.where(any_div, below, cs[-1])
    return c_max, ~any_div


def critical_constants(
    cs: Sequence[float] | np.ndarray,
    loss: np.ndarray,
    sharpness: np.ndarray,
    *,
    divergence_factor: float = DEFAULT_DIVERGENCE_FACTOR,
    decimals: int | None = DEFAULT_DECIMALS,
    window: int | None = None,
    relative_divergence: bool = False,
) -> dict[str, np.ndarray]:
    """``c_loss``, ``c_sharp``, ``c_max`` and ``c_max_censored`` from trajectories.

    ``loss`` and ``sharpness`` have shape ``(..., n_c, T + 1)`` with step 0 the
    initialization; ``cs`` (length ``n_c``) must be strictly increasing.
    """
    cs = np.asarray(cs, dtype=float)
    if cs.ndim != 1 or np.any(np.diff(cs) <= 0):
        raise ValueError("cs must be a strictly increasing 1-d array")
    loss = np.asarray(loss, dtype=float)
    sharpness = np.asarray(sharpness, dtype=float)
    if loss.shape[-2] != cs.size or sharpness.shape[-2] != cs.size:
        raise ValueError(f"trajectories' c axis (-2) must have length {cs.size}")
    div = diverged(loss, divergence_factor, window, relative_divergence)
    c_max, censored = max_trainable_c(cs, div)
    return {
        "c_loss": first_c(cs, increased(loss, decimals, window) | div),
        "c_sharp": first_c(cs, increased(sharpness, decimals, window) | div),
        "c_max": c_max,
        "c_max_censored": censored,
    }


CONSTANTS = ("c_loss", "c_sharp", "c_max")


def average_critical_constants(
    df: pd.DataFrame, by: Sequence[str] = ("width",), constants: Sequence[str] = CONSTANTS
) -> pd.DataFrame:
    """Average over initializations: one row per group with ``<c>`` (mean), its standard
    deviation, the 25 % / 75 % quantiles (the paper's error bars), and the number of
    initializations that defined it (``n_<c>``)."""
    rows = []
    for key, g in df.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n_inits"] = len(g)
        for c in constants:
            vals = g[c].to_numpy(dtype=float)
            vals = vals[np.isfinite(vals)]
            row[f"{c}_mean"] = vals.mean() if vals.size else np.nan
            row[f"{c}_std"] = vals.std(ddof=1) if vals.size > 1 else np.nan
            row[f"{c}_q25"] = np.quantile(vals, 0.25) if vals.size else np.nan
            row[f"{c}_q75"] = np.quantile(vals, 0.75) if vals.size else np.nan
            row[f"n_{c}"] = int(vals.size)
        rows.append(row)
    return pd.DataFrame(rows)
