"""The uv model of Kalra & Barkeshli (2023, Section 5 and Appendix B).

A two-layer linear network with unit input and output dimension in the Neural Tangent
Parameterization, trained by full-batch gradient descent on a single example ``(x, y)``:

    f(x) = x * (v . u) / sqrt(n),          u, v in R^n,  u_i, v_i ~ N(0, 1) at init,
    L    = (f - y)^2 / 2,                  (x, y) = (1, 0) in the paper.

With the residual ``r = f - y`` and ``g = grad f = x (v, u) / sqrt(n)``:

* gradient            dL/du = r x v / sqrt(n),   dL/dv = r x u / sqrt(n);
* Hessian             H = g g^T + r * (x / sqrt(n)) [[0, I], [I, 0]];
* trace ("NTK")       tr H = ||g||^2 = x^2 (||u||^2 + ||v||^2) / n   (the off-diagonal part is
                      traceless);
* Frobenius norm      ||H||_F^2 = (tr H)^2 + 4 x^2 r f / n + 2 x^2 r^2;
* top eigenvalue      H restricted to span{(w, w), (w, -w)} gives a rank-one-plus-diagonal
                      problem whose secular equation reduces to the quadratic
                      mu^2 - (tr H) mu - x^2 (r^2 + 2 f r) / n = 0; the remaining 2(n-1)
                      eigenvalues are +-|r x| / sqrt(n).  Hence
                      lambda_max = max(mu_+, |r x| / sqrt(n))  (the second term only for n > 1)
                      with mu_+ = (tr H + sqrt((tr H)^2 + 4 x^2 (r^2 + 2 f r) / n)) / 2.
                      For y = 0, mu_+ >= tr H, with equality as n -> infinity.

The GD update ``u <- u - eta r x v / sqrt(n)``, ``v <- v - eta r x u / sqrt(n)`` mixes u and v
linearly, so the dynamics closes exactly on the Gram state ``(p, q, s) = (|u|^2, |v|^2, u.v)``;
every quantity above is a function of it (``f = x s / sqrt(n)``, ``tr H = x^2 (p + q) / n``).
:func:`gram_step` iterates it; the phase diagram runs on the Gram state, vectorised over
learning-rate constants and initializations, in O(1) memory per (c, init) whatever the
width.  The parameter-space functions (:func:`gradient`, :func:`gd_step`, :func:`hessian`)
are the reference the tests check the Gram dynamics and the closed forms against.

Learning-rate scaling (Figure 7): ``eta = c / lambda_0`` where ``lambda_0`` is, per
initialization, either the top Hessian eigenvalue (panel a, ``scaling="hessian"``) or the
trace of the Hessian (panels b and c, ``scaling="trace"``); the sharpness measure whose
increase defines ``c_sharp`` is the top eigenvalue (a), the trace (b) or the squared
Frobenius norm (c).  :data:`FIG7_VARIANTS` lists the three combinations.

Command line::

    python -m earlyphase.phase_diagram.uv_model --out results/uv.parquet \
        [--widths 2 4 ... 4096] [--n-inits 500] [--steps 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .critical_constants import (
    DEFAULT_DECIMALS,
    DEFAULT_DIVERGENCE_FACTOR,
    critical_constants,
)

# ----------------------------------------------------------------------------- parameter space


def init_params(
    width: int, n_inits: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n_inits`` independent draws of ``(u, v)``, each of shape ``(n_inits, width)``, N(0, 1)."""
    if width < 1 or n_inits < 1:
        raise ValueError(f"width and n_inits must be >= 1, got {width}, {n_inits}")
    u = rng.standard_normal((n_inits, width))
    v = rng.standard_normal((n_inits, width))
    return u, v


def output(u: np.ndarray, v: np.ndarray, x: float = 1.0) -> np.ndarray:
    """``f = x (v . u) / sqrt(n)`` over the last axis."""
    n = u.shape[-1]
    return x * np.sum(u * v, axis=-1) / math.sqrt(n)


def loss(u: np.ndarray, v: np.ndarray, x: float = 1.0, y: float = 0.0) -> np.ndarray:
    """``(f - y)^2 / 2``."""
    return 0.5 * (output(u, v, x) - y) ** 2


def gradient(
    u: np.ndarray, v: np.ndarray, x: float = 1.0, y: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form ``(dL/du, dL/dv) = (r x v, r x u) / sqrt(n)``."""
    n = u.shape[-1]
    r = (output(u, v, x) - y)[..., None]
    scale = r * x / math.sqrt(n)
    return scale * v, scale * u


def gd_step(
    u: np.ndarray, v: np.ndarray, lr: np.ndarray | float, x: float = 1.0, y: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-descent step; ``lr`` broadcasts against the leading (batch) axes."""
    gu, gv = gradient(u, v, x, y)
    lr = np.asarray(lr, dtype=float)[..., None]
    return u - lr * gu, v - lr * gv


def hessian(u: np.ndarray, v: np.ndarray, x: float = 1.0, y: float = 0.0) -> np.ndarray:
    """Dense ``2n x 2n`` Hessian of the loss w.r.t. ``theta = (u, v)`` (tests and tiny n)."""
    n = u.shape[-1]
    g = x * np.concatenate([v, u], axis=-1) / math.sqrt(n)
    r = output(u, v, x) - y
    eye = np.eye(n)
    m = np.block([[np.zeros((n, n)), eye], [eye, np.zeros((n, n))]]) * x / math.sqrt(n)
    return g[..., :, None] * g[..., None, :] + r[..., None, None] * m


def trace_hessian(u: np.ndarray, v: np.ndarray, x: float = 1.0) -> np.ndarray:
    n = u.shape[-1]
    return x**2 * (np.sum(u * u, axis=-1) + np.sum(v * v, axis=-1)) / n


def sharpness(u: np.ndarray, v: np.ndarray, x: float = 1.0, y: float = 0.0) -> np.ndarray:
    """Top Hessian eigenvalue in closed form (see the module docstring)."""
    p, q, s = gram_from_params(u, v)
    return gram_observables(p, q, s, u.shape[-1], x, y)["sharpness"]


def frobenius_sq(u: np.ndarray, v: np.ndarray, x: float = 1.0, y: float = 0.0) -> np.ndarray:
    p, q, s = gram_from_params(u, v)
    return gram_observables(p, q, s, u.shape[-1], x, y)["frobenius_sq"]


# ----------------------------------------------------------------------------- Gram state


def gram_from_params(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(|u|^2, |v|^2, u.v)`` over the last axis."""
    return np.sum(u * u, axis=-1), np.sum(v * v, axis=-1), np.sum(u * v, axis=-1)


def gram_observables(
    p: np.ndarray, q: np.ndarray, s: np.ndarray, width: int, x: float = 1.0, y: float = 0.0
) -> dict[str, np.ndarray]:
    """Output, loss, trace, top eigenvalue and squared Frobenius norm of the Hessian."""
    n = float(width)
    f = x * s / math.sqrt(n)
    r = f - y
    tr = x**2 * (p + q) / n
    disc = np.maximum(tr**2 + 4.0 * x**2 * (r**2 + 2.0 * f * r) / n, 0.0)
    mu_plus = 0.5 * (tr + np.sqrt(disc))
    if width > 1:
        top = np.maximum(mu_plus, np.abs(r * x) / math.sqrt(n))
    else:
        top = mu_plus
    frob = tr**2 + 4.0 * x**2 * r * f / n + 2.0 * x**2 * r**2
    return {
        "output": f,
        "loss": 0.5 * r**2,
        "trace": tr,
        "sharpness": top,
        "frobenius_sq": frob,
    }


def gram_step(
    p: np.ndarray,
    q: np.ndarray,
    s: np.ndarray,
    lr: np.ndarray | float,
    width: int,
    x: float = 1.0,
    y: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact GD step on the Gram state: with ``a = lr r x / sqrt(n)``, ``u' = u - a v``,
    ``v' = v - a u``."""
    n = float(width)
    r = x * s / math.sqrt(n) - y
    a = lr * r * x / math.sqrt(n)
    p_new = p - 2.0 * a * s + a * a * q
    q_new = q - 2.0 * a * s + a * a * p
    s_new = s * (1.0 + a * a) - a * (p + q)
    return p_new, q_new, s_new


MEASURES = ("sharpness", "trace", "frobenius_sq")
SCALINGS = {"hessian": "sharpness", "trace": "trace"}

#: Figure 7's three panels: (name, learning-rate scaling, sharpness measure).
FIG7_VARIANTS: tuple[tuple[str, str, str], ...] = (
    ("hessian", "hessian", "sharpness"),
    ("trace", "trace", "trace"),
    ("frobenius", "trace", "frobenius_sq"),
)


@dataclass
class Trajectories:
    """Per-step observables, each of shape ``(n_c, n_inits, steps + 1)``; step 0 is the init.

    Entries after a run has blown up (loss above ``stop_factor * L_0`` or non-finite) are
    ``inf`` (loss, measures) so that they count as "increased" and "diverged" downstream.
    """

    cs: np.ndarray
    loss: np.ndarray
    trace: np.ndarray
    sharpness: np.ndarray
    frobenius_sq: np.ndarray
    lr: np.ndarray  # (n_c, n_inits)

    def measure(self, name: str) -> np.ndarray:
        if name not in MEASURES:
            raise ValueError(f"unknown measure {name!r}; valid: {MEASURES}")
        return getattr(self, name)


def trajectories(
    p0: np.ndarray,
    q0: np.ndarray,
    s0: np.ndarray,
    width: int,
    cs: Sequence[float] | np.ndarray,
    steps: int,
    scaling: str = "hessian",
    x: float = 1.0,
    y: float = 0.0,
    stop_loss: float = 1e30,
) -> Trajectories:
    """GD trajectories for every (c, init) pair at once, ``eta = c / lambda_0(init)``.

    ``p0, q0, s0`` have shape ``(n_inits,)``; ``scaling`` is ``"hessian"`` (top eigenvalue at
    init) or ``"trace"`` (trace of the Hessian at init).  Once a run's loss exceeds
    ``stop_loss`` or anything overflows, it is recorded as ``inf`` from then on.
    """
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r}; valid: {tuple(SCALINGS)}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    cs = np.asarray(cs, dtype=float)
    obs0 = gram_observables(p0, q0, s0, width, x, y)
    lr = cs[:, None] / obs0[SCALINGS[scaling]][None, :]
    shape = (cs.size, p0.size)
    p = np.broadcast_to(p0, shape).copy()
    q = np.broadcast_to(q0, shape).copy()
    s = np.broadcast_to(s0, shape).copy()
    # time-major buffers (contiguous writes), moved to (c, init, step) at the end
    buf = {k: np.empty((steps + 1,) + shape) for k in ("loss",) + MEASURES}
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            if t > 0:
                p, q, s = gram_step(p, q, s, lr, width, x, y)
            obs = gram_observables(p, q, s, width, x, y)
            for k in buf:
                buf[k][t] = obs[k]
        # a run is dead from the first step where anything is non-finite or the loss is huge
        blown = ~(buf["loss"] <= stop_loss)
        for k in MEASURES:
            blown |= ~np.isfinite(buf[k])
        blown = np.logical_or.accumulate(blown, axis=0)
        for k in buf:
            buf[k][blown] = np.inf
    out = {k: np.moveaxis(v, 0, -1) for k, v in buf.items()}
    return Trajectories(cs=cs, lr=lr, **out)


def c_grid(x_min: float = 0.0, x_max: float = 3.5, dx: float = 0.02) -> np.ndarray:
    """``c = 2^x`` for ``x`` from ``x_min`` to ``x_max`` in steps of ``dx`` (paper: 0.1)."""
    n = int(round((x_max - x_min) / dx)) + 1
    return 2.0 ** (x_min + dx * np.arange(n))


def run_uv_phase_diagram(
    widths: Sequence[int] = tuple(2**k for k in range(1, 13)),
    cs: Sequence[float] | np.ndarray | None = None,
    n_inits: int = 500,
    steps: int = 100,
    seed: int = 0,
    variants: Sequence[str] = ("hessian", "trace", "frobenius"),
    x: float = 1.0,
    y: float = 0.0,
    divergence_factor: float = DEFAULT_DIVERGENCE_FACTOR,
    decimals: int = DEFAULT_DECIMALS,
) -> pd.DataFrame:
    """Critical constants of the uv model per (variant, width, initialization).

    Returns a tidy frame with columns ``variant, scaling, measure, width, init, c_loss,
    c_sharp, c_max, loss0, trace0, sharpness0, frobenius_sq0, steps, seed, c_min_grid,
    c_max_grid``.  The same initializations are used for every variant; width ``w`` draws
    its initializations from ``np.random.default_rng([seed, w])`` so adding a width does not
    change the others.  See :mod:`earlyphase.phase_diagram.critical_constants` for the
    definitions (Definition 1 of the paper).
    """
    cs = c_grid() if cs is None else np.sort(np.asarray(cs, dtype=float))
    by_name = {name: (scaling, measure) for name, scaling, measure in FIG7_VARIANTS}
    unknown = set(variants) - set(by_name)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; valid: {sorted(by_name)}")
    frames = []
    for width in widths:
        rng = np.random.default_rng([seed, int(width)])
        u, v = init_params(int(width), n_inits, rng)
        p0, q0, s0 = gram_from_params(u, v)
        obs0 = gram_observables(p0, q0, s0, int(width), x, y)
        cache: dict[str, Trajectories] = {}
        for name in variants:
            scaling, measure = by_name[name]
            if scaling not in cache:
                cache[scaling] = trajectories(p0, q0, s0, int(width), cs, steps, scaling, x, y)
            traj = cache[scaling]
            crit = critical_constants(
                cs,
                np.moveaxis(traj.loss, 1, 0),
                np.moveaxis(traj.measure(measure), 1, 0),
                divergence_factor=divergence_factor,
                decimals=decimals,
            )
            frames.append(
                pd.DataFrame(
                    {
                        "variant": name,
                        "scaling": scaling,
                        "measure": measure,
                        "width": int(width),
                        "init": np.arange(n_inits),
                        "c_loss": crit["c_loss"],
                        "c_sharp": crit["c_sharp"],
                        "c_max": crit["c_max"],
                        "loss0": obs0["loss"],
                        "trace0": obs0["trace"],
                        "sharpness0": obs0["sharpness"],
                        "frobenius_sq0": obs0["frobenius_sq"],
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    df["steps"] = steps
    df["seed"] = seed
    df["c_min_grid"] = float(cs[0])
    df["c_max_grid"] = float(cs[-1])
    return df


def uv_trajectory_frame(
    width: int,
    cs: Sequence[float],
    steps: int = 100,
    seed: int = 0,
    scaling: str = "hessian",
    x: float = 1.0,
    y: float = 0.0,
) -> pd.DataFrame:
    """Long-format trajectories of one initialization (for Figure 9-style plots):
    columns ``width, c, step, loss, trace, sharpness, frobenius_sq``."""
    rng = np.random.default_rng([seed, int(width)])
    u, v = init_params(int(width), 1, rng)
    traj = trajectories(*gram_from_params(u, v), int(width), cs, steps, scaling, x, y)
    rows = []
    for i, c in enumerate(traj.cs):
        rows.append(
            pd.DataFrame(
                {
                    "width": int(width),
                    "c": c,
                    "step": np.arange(steps + 1),
                    "loss": traj.loss[i, 0],
                    "trace": traj.trace[i, 0],
                    "sharpness": traj.sharpness[i, 0],
                    "frobenius_sq": traj.frobenius_sq[i, 0],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _write_atomic(df: pd.DataFrame, out: str) -> None:
    directory = os.path.dirname(os.path.abspath(out))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(fd)
    try:
        if out.endswith(".csv"):
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="uv-model phase diagram (Kalra & Barkeshli Fig. 7)")
    ap.add_argument("--out", required=True, help="output .parquet (or .csv)")
    ap.add_argument("--widths", type=int, nargs="+", default=[2**k for k in range(1, 13)])
    ap.add_argument("--n-inits", type=int, default=500)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--x-max", type=float, default=3.5, help="largest log2 c of the grid")
    ap.add_argument("--dx", type=float, default=0.02, help="log2 c grid step (paper: 0.1)")
    ap.add_argument(
        "--variants", nargs="+", default=["hessian", "trace", "frobenius"], help="Fig. 7 panels"
    )
    args = ap.parse_args(argv)
    df = run_uv_phase_diagram(
        widths=args.widths,
        cs=c_grid(0.0, args.x_max, args.dx),
        n_inits=args.n_inits,
        steps=args.steps,
        seed=args.seed,
        variants=args.variants,
    )
    _write_atomic(df, args.out)


if __name__ == "__main__":
    main()
