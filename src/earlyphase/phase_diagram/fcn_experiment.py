"""One FCN run of the real-data early-training phase diagram (Kalra & Barkeshli, Section 2).

Setup (Kalra & Barkeshli 2023, Appendix A, and the authors' public training utilities):

* bias-free ReLU FCN, SP or NTP, initialised at criticality
  (:func:`earlyphase.models.build_model` ``("fcn", ...)``);
* images standardised per channel (statistics of the array passed in), labels one-hot;
* MSE loss ``0.5 * mean((f(x) - y)^2)`` with the mean over examples *and* classes, as in the
  authors' code.  (``earlyphase.probes.base.half_mse`` sums over classes instead; the two
  differ by the factor ``num_classes``, which rescales ``L`` and ``lambda`` alike and leaves
  the dynamics under ``eta = c / lambda_0`` -- hence every critical constant -- unchanged);
* plain SGD, batch 512, batches drawn without replacement from a seeded permutation per epoch;
  the same initialisation and batch sequence for every ``c`` of one seed;
* ``lambda_0`` = top Hessian eigenvalue at initialisation, ``eta = c / lambda_0``;
* sharpness by power iteration on Hessian-vector products (20 iterations) on a fixed subset
  of ``n_sharpness`` = 4096 training examples, every ``sharpness_every`` steps; the loss is
  recorded on the same subset every step (plus the mini-batch loss). ``sharpness_every = 0``
  measures ``lambda_0`` only: c_loss and c_max need the loss alone, and the sharpness of
  every step is nearly all of a run's cost on a CPU (c_sharp is then not estimated);
* ``T`` = 10 steps by default (the early transient window of the authors' FCN runs).

A run whose subset loss exceeds ``stop_loss`` (default 1e5, the divergence threshold of
:mod:`.critical_constants`) or becomes non-finite stops; later steps are recorded as ``inf``.
The threshold ``k`` of Definition 1 is applied to that same quantity, ``L_t``: the loss on
the fixed subset after step t, normalized as above (``0.5 * mean`` over examples and
classes, the batch-average loss of the paper's Appendix A), which is O(1) at initialization
-- the paper's reason for a fixed k. The mini-batch loss is recorded but never tested.

Deterministic on CPU for a given ``seed`` (model init, batch order, subset and power-iteration
start vector each come from their own seeded generator; global RNG state is restored).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from .critical_constants import DEFAULT_DIVERGENCE_FACTOR


def mse_half_mean(outputs: Tensor, targets: Tensor) -> Tensor:
    """``0.5 * mean((outputs - targets)^2)`` over examples and classes."""
    return 0.5 * (outputs - targets).pow(2).mean()


def standardize_images(images: np.ndarray) -> Tensor:
    """uint8 ``(N, H, W, C)`` -> float32 ``(N, C, H, W)`` with zero mean / unit std per channel."""
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W[, C]), got shape {images.shape}")
    x = torch.from_numpy(np.ascontiguousarray(images)).to(torch.float64) / 255.0
    mean = x.mean(dim=(0, 1, 2), keepdim=True)
    std = x.std(dim=(0, 1, 2), keepdim=True).clamp_min(1e-12)
    return ((x - mean) / std).permute(0, 3, 1, 2).contiguous().to(torch.float32)


def one_hot(labels: np.ndarray, num_classes: int) -> Tensor:
    lab = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    return torch.nn.functional.one_hot(lab, num_classes).to(torch.float32)


def _params(model: nn.Module) -> list[Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


def top_hessian_eigenvalue(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    iters: int = 20,
    generator: torch.Generator | None = None,
    loss_fn=mse_half_mean,
) -> float:
    """Top Hessian eigenvalue of ``loss_fn(model(inputs), targets)`` by power iteration on
    exact Hessian-vector products (double backward), returning the Rayleigh quotient of the
    last iterate.  Power iteration finds the eigenvalue of largest magnitude, which for MSE
    near initialisation is the (positive) top eigenvalue."""
    params = _params(model)
    loss = loss_fn(model(inputs), targets)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    v = [torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in params]

    def normalize(vec: list[Tensor]) -> list[Tensor]:
        norm = torch.sqrt(sum((t * t).sum() for t in vec))
        if not norm > 0:  # zero Hessian (e.g. every ReLU dead): keep a harmless unit vector
            return vec
        return [t / norm for t in vec]

    def hvp(vec: list[Tensor]) -> list[Tensor]:
        dot = sum((g * t).sum() for g, t in zip(grads, vec, strict=True))
        return list(torch.autograd.grad(dot, params, retain_graph=True))

    if not any(g.requires_grad for g in grads):  # loss independent of params (dead net)
        return 0.0
    v = normalize(v)
    for _ in range(iters):
        v = normalize(hvp(v))
    hv = hvp(v)
    return float(sum((a * b).sum() for a, b in zip(v, hv, strict=True)).detach())


def build_fcn(
    num_classes: int,
    in_shape: tuple[int, int, int],
    depth: int,
    width: int,
    parameterization: str,
    seed: int,
) -> nn.Module:
    """The shared FCN, initialised from ``seed`` without touching the global RNG state."""
    from earlyphase.models import build_model

    c, h, w = in_shape
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(
            "fcn",
            num_classes,
            c,
            width=width,
            depth=depth,
            parameterization=parameterization,
            in_features=c * h * w,
        )


def _batch_indices(n: int, batch_size: int, steps: int, seed: int) -> list[Tensor]:
    gen = torch.Generator().manual_seed(seed)
    out: list[Tensor] = []
    perm = torch.randperm(n, generator=gen)
    pos = 0
    for _ in range(steps):
        if pos + batch_size > n:
            if pos == 0 or batch_size >= n:
                out.append(perm[:batch_size])
                perm = torch.randperm(n, generator=gen)
                continue
            perm = torch.randperm(n, generator=gen)
            pos = 0
        out.append(perm[pos : pos + batch_size])
        pos += batch_size
    return out


def run_fcn_phase_diagram(
    images: np.ndarray,
    labels: np.ndarray,
    cs: Sequence[float],
    *,
    num_classes: int,
    depth: int,
    width: int,
    parameterization: str = "sp",
    steps: int = 10,
    batch_size: int = 512,
    n_sharpness: int = 4096,
    sharpness_every: int = 1,
    power_iters: int = 20,
    seed: int = 0,
    stop_loss: float = DEFAULT_DIVERGENCE_FACTOR,
) -> pd.DataFrame:
    """Early-training runs of one FCN initialisation for every ``c`` in ``cs``.

    Returns a tidy frame, one row per (c, step): ``c, step, lr, lambda0, loss, batch_loss,
    sharpness (NaN where not measured), diverged, width, depth, parameterization, seed,
    batch_size, n_sharpness``.  Step 0 is the initialisation (``batch_loss`` NaN).
    """
    x_all = standardize_images(images)
    y_all = one_hot(labels, num_classes)
    n = x_all.shape[0]
    gen = torch.Generator().manual_seed(seed + 1)
    subset = torch.randperm(n, generator=gen)[: min(n_sharpness, n)]
    x_sub, y_sub = x_all[subset], y_all[subset]
    batches = _batch_indices(n, batch_size, steps, seed + 2)

    model0 = build_fcn(num_classes, tuple(x_all.shape[1:]), depth, width, parameterization, seed)
    init_state = {k: v.clone() for k, v in model0.state_dict().items()}

    def sharp(model: nn.Module) -> float:
        g = torch.Generator().manual_seed(seed + 3)
        return top_hessian_eigenvalue(model, x_sub, y_sub, power_iters, g)

    lambda0 = sharp(model0)
    with torch.no_grad():
        loss0 = float(mse_half_mean(model0(x_sub), y_sub))

    rows = []
    for c in cs:
        lr = float(c) / lambda0
        model = model0
        model.load_state_dict(init_state)
        params = _params(model)
        dead = False
        rows.append((c, 0, lr, loss0, np.nan, lambda0, False))
        for t in range(1, steps + 1):
            if dead:
                rows.append((c, t, lr, np.inf, np.inf, np.inf, True))
                continue
            idx = batches[t - 1]
            batch_loss = mse_half_mean(model(x_all[idx]), y_all[idx])
            grads = torch.autograd.grad(batch_loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p.sub_(lr * g)
                loss_t = float(mse_half_mean(model(x_sub), y_sub))
            if not np.isfinite(loss_t) or loss_t >= stop_loss:
                dead = True
                rows.append((c, t, lr, np.inf, float(batch_loss), np.inf, True))
                continue
            measured = sharpness_every > 0 and (t % sharpness_every == 0 or t == steps)
            s_t = sharp(model) if measured else np.nan
            rows.append((c, t, lr, loss_t, float(batch_loss.detach()), s_t, False))
    df = pd.DataFrame(
        rows, columns=["c", "step", "lr", "loss", "batch_loss", "sharpness", "diverged"]
    )
    df["lambda0"] = lambda0
    df["width"] = width
    df["depth"] = depth
    df["parameterization"] = parameterization
    df["seed"] = seed
    df["batch_size"] = batch_size
    df["n_sharpness"] = int(x_sub.shape[0])
    return df


def fcn_critical_constants(df: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """Per (width, depth, parameterization, seed) critical constants from the tidy runs of
    :func:`run_fcn_phase_diagram` (sharpness steps that were not measured are dropped; a run
    that measured only ``lambda_0`` (``sharpness_every = 0``) has c_sharp NaN).
    ``kwargs`` go to :func:`critical_constants.critical_constants`."""
    from .critical_constants import critical_constants

    keys = ["width", "depth", "parameterization", "seed"]
    out = []
    for key, g in df.groupby(keys, sort=True):
        cs = np.sort(g["c"].unique())
        loss = g.pivot(index="c", columns="step", values="loss").loc[cs].to_numpy()
        sh = g.pivot(index="c", columns="step", values="sharpness").loc[cs]
        sh = sh.loc[:, sh.notna().any(axis=0)].to_numpy()
        trajectory = bool(np.isfinite(g.loc[g["step"] > 0, "sharpness"]).any())
        # without a measured trajectory the loss stands in for the sharpness, and c_sharp is dropped
        crit = critical_constants(cs, loss, sh if trajectory else loss, **kwargs)
        if not trajectory:
            crit["c_sharp"] = np.nan
        row = dict(zip(keys, key, strict=True))
        row.update({k: (bool(v) if k == "c_max_censored" else float(v)) for k, v in crit.items()})
        row["lambda0"] = float(g["lambda0"].iloc[0])
        out.append(row)
    return pd.DataFrame(out)
