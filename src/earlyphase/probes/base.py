"""Conventions shared by every curvature probe.

Every probe is a plain function with explicit arguments::

    probe(model, inputs, targets, *, batch_size, generator, params, ...)

* ``inputs`` is a float tensor that is already normalized and lives on the model's device;
  ``targets`` holds integer class labels (or whatever the pluggable ``loss_fn`` expects).
* ``generator`` is a :class:`torch.Generator`; it is the *only* source of randomness a probe
  uses.  Global RNG state is never consumed (and :func:`probe_mode` restores it anyway).
* ``params`` selects which parameters the probe covers (differentiates with respect to,
  perturbs, or counts):

  - ``"trainable"``: parameters with ``requires_grad=True`` *at probe time*.  During
    gradual unfreezing this is the head plus the blocks unfrozen so far.
  - ``"all"``: every parameter of the model (BN affine weights, biases, head), whatever its
    ``requires_grad`` flag.  Buffers (BN running statistics) are never covered.

  Defaults: tr(F) covers ``"trainable"`` (arXiv v1 normalizes tr(F) by the number of
  trainable parameters); sharpness and the Hessian eigenvalue cover ``"all"`` (the
  reference Auto-PGD sharpness implementation perturbs every parameter).

Probes never mutate the model: they evaluate it through
:func:`torch.func.functional_call` with substituted parameter tensors, so frozen parameters
can be differentiated without touching their ``requires_grad`` flag, no ``.grad`` field is
written, and the training optimizer is never called.  :func:`probe_mode` puts the model in
eval mode (BatchNorm uses its *running* statistics, dropout is off) and restores, bit for
bit, everything it found on exit, as a second line of defence.

Probes evaluate the model in float32 / the parameters' dtype with autocast disabled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from earlyphase.training.rng import rng_state, set_rng_state

ParamSelection = Literal["trainable", "all"]
LossFn = Callable[[Tensor, Tensor], Tensor]

PARAM_SELECTIONS = ("trainable", "all")


# ----------------------------------------------------------------------------- losses


def cross_entropy(outputs: Tensor, targets: Tensor) -> Tensor:
    """Batch-mean cross-entropy of logits against integer labels (the default loss)."""
    return F.cross_entropy(outputs, targets)


def half_mse(outputs: Tensor, targets: Tensor) -> Tensor:
    """``0.5 * mean_x ||f(x) - y||^2`` (squared error summed over outputs, mean over examples).

    This is the MSE convention of Kalra & Barkeshli's phase-diagram paper.  Integer
    ``targets`` are one-hot encoded to the width of ``outputs``.
    """
    if not torch.is_floating_point(targets):
        targets = F.one_hot(targets.long(), outputs.shape[-1]).to(outputs.dtype)
    return 0.5 * (outputs - targets).pow(2).sum(dim=-1).mean()


LOSSES: dict[str, LossFn] = {"cross_entropy": cross_entropy, "half_mse": half_mse}


def resolve_loss(loss_fn: LossFn | str | None) -> LossFn:
    if loss_fn is None:
        return cross_entropy
    if isinstance(loss_fn, str):
        try:
            return LOSSES[loss_fn]
        except KeyError:
            raise ValueError(f"unknown loss {loss_fn!r}; valid: {sorted(LOSSES)}") from None
    return loss_fn


# ------------------------------------------------------------------ parameter handling


def unwrap_model(model: nn.Module) -> nn.Module:
    """Return the eager module behind a ``torch.compile`` wrapper (probes run eagerly)."""
    return getattr(model, "_orig_mod", model)


def select_params(model: nn.Module, params: ParamSelection) -> dict[str, Tensor]:
    """Parameters covered by a probe, by name, in ``named_parameters`` order."""
    if params == "all":
        return dict(model.named_parameters())
    if params == "trainable":
        return {n: p for n, p in model.named_parameters() if p.requires_grad}
    raise ValueError(f"params must be one of {PARAM_SELECTIONS}, got {params!r}")


class FunctionalModel:
    """Evaluate ``model`` with some of its parameters replaced.

    ``covered`` are the names the probe varies; every other parameter and every buffer is
    passed detached from the module itself, so autograd graphs only ever reach the
    tensors the probe supplies.
    """

    def __init__(self, model: nn.Module, params: ParamSelection):
        self.model = unwrap_model(model)
        covered = select_params(self.model, params)
        self.names: list[str] = list(covered)
        self.base: dict[str, Tensor] = {n: p.detach() for n, p in covered.items()}
        self.fixed: dict[str, Tensor] = {
            n: p.detach() for n, p in self.model.named_parameters() if n not in covered
        }
        self.fixed.update({n: b for n, b in self.model.named_buffers()})

    @property
    def n_params(self) -> int:
        return sum(t.numel() for t in self.base.values())

    def __call__(self, params: dict[str, Tensor], inputs: Tensor) -> Tensor:
        return functional_call(self.model, {**self.fixed, **params}, (inputs,))

    def zeros(self) -> dict[str, Tensor]:
        return {n: torch.zeros_like(t) for n, t in self.base.items()}

    def leaves(self, delta: dict[str, Tensor] | None = None) -> dict[str, Tensor]:
        """Fresh autograd leaves at the covered parameters (shifted by ``delta`` if given)."""
        if delta is None:
            return {n: t.clone().requires_grad_(True) for n, t in self.base.items()}
        return {n: (t + delta[n]).requires_grad_(True) for n, t in self.base.items()}


def grads_or_zeros(leaves: dict[str, Tensor], grads: tuple[Tensor | None, ...]) -> dict[str, Tensor]:
    """``torch.autograd.grad(..., allow_unused=True)`` output by name, ``None`` as zeros."""
    return {
        n: torch.zeros_like(leaves[n]) if g is None else g
        for n, g in zip(leaves, grads, strict=True)
    }


# ------------------------------------------------------------------ tensor-dict algebra


def tdot(a: dict[str, Tensor], b: dict[str, Tensor]) -> Tensor:
    return sum((a[n] * b[n]).sum() for n in a)  # type: ignore[return-value]


def tnorm(a: dict[str, Tensor]) -> Tensor:
    return torch.sqrt(sum(a[n].pow(2).sum() for n in a))  # type: ignore[arg-type]


def randn_like(t: Tensor, generator: torch.Generator) -> Tensor:
    """Standard normal noise shaped like ``t`` drawn from ``generator`` (any device)."""
    if generator.device == t.device:
        return torch.randn(t.shape, generator=generator, device=t.device, dtype=t.dtype)
    out = torch.randn(t.shape, generator=generator, device=generator.device, dtype=t.dtype)
    return out.to(t.device)


def sample_categorical(probs: Tensor, generator: torch.Generator) -> Tensor:
    """One class index per row of ``probs`` drawn from ``generator``."""
    p = probs.to(generator.device, torch.float64)
    return torch.multinomial(p, 1, generator=generator).squeeze(1).to(probs.device)


def batches(n: int, batch_size: int) -> Iterator[slice]:
    """Fixed-order consecutive batches (the last one may be smaller)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def check_inputs(inputs: Tensor, targets: Tensor) -> None:
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"inputs and targets disagree on the number of examples: "
            f"{inputs.shape[0]} vs {targets.shape[0]}"
        )
    if inputs.shape[0] == 0:
        raise ValueError("a probe needs at least one example")


def require_autograd(probe: str, inputs: Tensor) -> None:
    """Probes that differentiate the loss need autograd, which ``torch.inference_mode``
    switches off (``torch.no_grad`` is fine: they enable gradients where they need them).
    Without this check the caller would get a bare autograd error from deep inside the probe."""
    if torch.is_inference_mode_enabled():
        raise RuntimeError(
            f"{probe}: called under torch.inference_mode(), where autograd is off; this probe "
            "differentiates the loss, so call it outside inference_mode (torch.no_grad() is fine)"
        )
    if inputs.is_inference():
        raise ValueError(
            f"{probe}: the inputs were created under torch.inference_mode() and cannot enter an "
            "autograd graph; create them outside inference_mode, or pass inputs.clone() made outside it"
        )


# --------------------------------------------------------------------------- probe_mode

_FP32_PRECISION_KNOBS = (("cudnn", "conv"), ("cuda", "matmul"))


@contextlib.contextmanager
def ieee_fp32() -> Iterator[None]:
    """TF32 off for cuDNN convolutions and CUDA matrix products inside the block.

    TF32 keeps a 10-bit mantissa in the products; the sharpness probes take differences of
    losses at rho = 0.01 perturbations, which are of the order of that rounding. Restores
    the previous settings on exit. (No effect on CPU computations.)
    """
    knobs = [getattr(getattr(torch.backends, a), b) for a, b in _FP32_PRECISION_KNOBS]
    if all(hasattr(k, "fp32_precision") for k in knobs):
        saved = [k.fp32_precision for k in knobs]
        try:
            for k in knobs:
                k.fp32_precision = "ieee"
            yield
        finally:
            for k, value in zip(knobs, saved, strict=True):
                k.fp32_precision = value
        return
    saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)  # older torch
    try:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@contextlib.contextmanager
def probe_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run probes on ``model`` and leave no trace.

    On entry the whole model is put in eval mode (BatchNorm normalizes with its running
    statistics and does not update them; dropout is off) and autocast is disabled.  On exit
    it restores exactly what it found:

    * the ``training`` flag of every submodule,
    * parameter values (copied back bitwise) and ``requires_grad`` flags,
    * ``.grad`` fields (the same tensor objects, with their values copied back, or ``None``),
    * buffers (BatchNorm running statistics, ``num_batches_tracked``),
    * the global torch (CPU and the model's CUDA device), numpy and python RNG states.

    Inside, fp32 convolutions and matrix products are exact fp32 (TF32 off, see
    :func:`ieee_fp32`), whatever the training process set.

    The optimizer is not involved: probes never call it and nothing here touches it.
    Yields the eager module (unwrapping ``torch.compile``).
    """
    inner = unwrap_model(model)
    flags = [(m, m.training) for m in inner.modules()]
    params = list(inner.named_parameters())
    saved_values = [p.detach().clone() for _, p in params]
    saved_req = [p.requires_grad for _, p in params]
    saved_grads = [p.grad for _, p in params]
    saved_grad_values = [None if g is None else g.detach().clone() for g in saved_grads]
    buffers = list(inner.named_buffers())
    saved_buffers = [b.detach().clone() for _, b in buffers]
    device = params[0][1].device if params else None
    rng = rng_state(device)
    device_types = {p.device.type for _, p in params} or {"cpu"}
    try:
        inner.eval()
        with contextlib.ExitStack() as stack:
            stack.enter_context(ieee_fp32())
            for dt in device_types:
                if dt in ("cpu", "cuda"):
                    stack.enter_context(torch.autocast(device_type=dt, enabled=False))
            yield inner
    finally:
        with torch.no_grad():
            for (_, p), v, req, g, gv in zip(
                params, saved_values, saved_req, saved_grads, saved_grad_values, strict=True
            ):
                p.copy_(v)
                if p.requires_grad != req:
                    p.requires_grad_(req)
                p.grad = g
                if g is not None:
                    g.copy_(gv)
            for (_, b), v in zip(buffers, saved_buffers, strict=True):
                b.copy_(v)
        for m, training in flags:
            m.training = training
        set_rng_state(rng)
