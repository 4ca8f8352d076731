"""Fisher penalty and related gradient-norm penalties (Jastrzebski et al. 2021, eq. 3).

With a mini-batch ``(x_i, y_i)_{i=1..B}`` the training loss becomes::

    l'(w) = (1/B) sum_i CE(x_i, y_i) + alpha * || (1/B) sum_i grad_w CE(x_i, yhat_i) ||^2

and the variants differ in ``yhat`` (``kind``):

* ``fisher`` (FP): ``yhat_i`` sampled from the model's own prediction ``p_w(y | x_i)``; the
  squared norm of the mini-batch gradient with sampled labels estimates ``Tr(F)`` (up to the
  ``1/B`` scaling of the mini-batch estimate); no target label is used;
* ``gp``: ``yhat_i = y_i``, the true labels (the ordinary mini-batch gradient norm);
* ``gpr``: ``yhat_i`` uniform over the classes;
* ``gpx``: the input-gradient norm ``|| d l(x, y) / d x ||^2`` with ``l`` the mean mini-batch
  cross-entropy on the true labels and ``x`` the whole input batch. Read literally this is
  ``(1/B^2) sum_i || grad_{x_i} CE(x_i, y_i) ||^2`` (``gpx_reduction="batch"``, default; it is
  why the paper needs much larger alpha for GPx, 10 .. 1000 against 0.01 .. 10).
  ``gpx_reduction="mean"`` uses the per-example average ``(1/B) sum_i ||grad_{x_i} CE_i||^2``.

``w`` are the parameters that currently require a gradient (with gradual unfreezing, only the
trainable ones). Sampled labels are treated as constants. The gradient norm is built with
``create_graph=True``, so the penalty's gradient is the exact double-backward one.

"Recomputed every 10 steps". Seed 003: "we compute the gradient of the second term only every
10 optimization steps, and in a given iteration use the most recently computed gradient". The
default ``every_mode="reuse"`` implements exactly that: on a recompute step (``onset_step``,
``onset_step + every``, ...) the penalty and its gradient with respect to ``w`` are computed and
cached; on the other steps ``penalty()`` returns a surrogate whose *value* is the cached
penalty and whose *gradient* is the cached gradient (``sum_p <p - p.detach(), g_p> + P``), so
the stale penalty gradient is added to every step's update, as in the paper.
``every_mode="skip"`` is the cheaper reading (the penalty is only applied on recompute steps,
nothing in between), equivalent to scaling alpha by ``1/every`` on average. With ``every=1``
both modes are the plain penalty. No penalty before ``onset_step`` (the "delayed" Fisher
penalty of the primary paper's Appendix D; Jastrzebski et al.'s onset sweep uses epochs, the config
converts them to steps).

Labels are sampled on the CPU with an explicit ``torch.Generator`` seeded with ``seed``, so
draws do not depend on the device or on the global RNG; its state and the cached gradient are
in ``state_dict`` for an exact resume.

The loop calls ``penalty(step, model, inputs, targets, logits)`` after its forward pass and
adds the result to the mean cross-entropy; ``logits`` must be the graph-connected output of
``model(inputs)``. ``gpx`` runs one extra forward pass on ``inputs`` (requiring grad) through
``torch.func.functional_call`` with cloned buffers, so BatchNorm running statistics are not
updated a second time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Intervention
from .registration import Registration

KINDS = ("fisher", "gp", "gpr", "gpx")

# Extra work of a step that computes the penalty, in training steps (one step = a forward
# and a backward, about three forward passes): the gradient built with create_graph (one
# backward, 2/3 step) and the backward through it (a double backward, about two backwards:
# 4/3 step); gpx also runs its own forward (1/3 step). The reuse surrogate of the other
# steps is element-wise work over the parameters, left out.
EXTRA_STEP_EQUIVALENTS = {"fisher": 2.0, "gp": 2.0, "gpr": 2.0, "gpx": 7.0 / 3.0}


def penalty_steps(penalty: dict, total_steps: int) -> int:
    """How many of steps 1..``total_steps`` compute the penalty (its gradient passes)."""
    onset, every = max(1, int(penalty.get("onset_step") or 1)), int(penalty.get("every", 1))
    return 0 if onset > total_steps else (total_steps - onset) // every + 1


def extra_step_equivalents(penalty: dict | None, total_steps: int) -> float:
    """The penalty's extra passes over a run, in training steps (the cost model's count)."""
    if not penalty:
        return 0.0
    return penalty_steps(penalty, total_steps) * EXTRA_STEP_EQUIVALENTS[penalty["kind"]]


def onset_after(delay_steps: int) -> int:
    """``onset_step`` of a penalty delayed by ``delay_steps`` optimizer steps: steps count from
    1, so the penalty starts with the first step after the delay (no delay: step 1). Table 2's
    delays and the Fisher onset sweep's epochs both go through here."""
    return int(delay_steps) + 1


class GradientPenalty(Intervention):
    compile_conflict = "gradient penalties need double backward"

    def __init__(
        self,
        kind: str = "fisher",
        alpha: float = 0.01,
        every: int = 1,
        onset_step: int = 1,
        every_mode: str = "reuse",
        seed: int = 0,
        gpx_reduction: str = "batch",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown penalty kind {kind!r}; valid: {', '.join(KINDS)}")
        if int(every) != every or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        if every_mode not in ("reuse", "skip"):
            raise ValueError(f"every_mode must be 'reuse' or 'skip', got {every_mode!r}")
        if gpx_reduction not in ("batch", "mean"):
            raise ValueError(f"gpx_reduction must be 'batch' or 'mean', got {gpx_reduction!r}")
        self.kind = kind
        self.alpha = float(alpha)
        self.every = int(every)
        self.onset_step = max(1, int(onset_step or 1))
        self.every_mode = every_mode
        self.seed = int(seed)
        self.gpx_reduction = gpx_reduction
        self._gen = torch.Generator(device="cpu")
        self._gen.manual_seed(self.seed)
        self._cache: dict[str, torch.Tensor] = {}
        self._cache_value: torch.Tensor | None = None
        self._cache_step: int | None = None
        self.last_value: torch.Tensor | None = None  # penalty of the last step, on the device

    # ------------------------------------------------------------------ schedule
    def is_active(self, step: int) -> bool:
        return step >= self.onset_step

    def is_recompute_step(self, step: int) -> bool:
        return step >= self.onset_step and (step - self.onset_step) % self.every == 0

    # ------------------------------------------------------------------ labels
    def sample_labels(self, logits: torch.Tensor) -> torch.Tensor:
        """Labels ``yhat`` for ``fisher`` (from softmax) or ``gpr`` (uniform); CPU generator."""
        n, c = logits.shape
        if self.kind == "fisher":
            probs = torch.softmax(logits.detach().float(), dim=1).cpu()
            y = torch.multinomial(probs, 1, generator=self._gen).squeeze(1)
        elif self.kind == "gpr":
            y = torch.randint(0, c, (n,), generator=self._gen)
        else:
            raise ValueError(f"{self.kind} uses the true labels")
        return y.to(logits.device)

    # ------------------------------------------------------------------ raw penalty
    def raw_penalty(self, model, inputs, targets, logits) -> torch.Tensor:
        """``alpha * ||...||^2`` as a differentiable tensor (fresh computation, no caching)."""
        if self.kind == "gpx":
            return self.alpha * self._input_gradient_norm(model, inputs, targets)
        params = [p for p in model.parameters() if p.requires_grad]
        labels = targets if self.kind == "gp" else self.sample_labels(logits)
        loss = F.cross_entropy(logits, labels)
        grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
        sq = sum(g.pow(2).sum() for g in grads if g is not None)
        return self.alpha * sq

    def _input_gradient_norm(self, model: nn.Module, inputs, targets) -> torch.Tensor:
        # Run on clones of the buffers: BatchNorm updates the clones, the model's own running
        # statistics (and the autograd versions of the loop's graph) are left untouched.
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
        x = inputs.detach().requires_grad_(True)
        loss = F.cross_entropy(torch.func.functional_call(model, buffers, (x,)), targets)
        (gx,) = torch.autograd.grad(loss, x, create_graph=True)
        sq = gx.pow(2).sum()  # = (1/B^2) sum_i ||grad_{x_i} CE_i||^2
        if self.gpx_reduction == "mean":
            sq = sq * x.shape[0]  # = (1/B) sum_i ||grad_{x_i} CE_i||^2
        return sq

    # ------------------------------------------------------------------ hook
    def penalty(self, step, model, inputs, targets, logits) -> torch.Tensor | None:
        if not self.is_active(step):
            self.last_value = None
            return None
        recompute = self.is_recompute_step(step)
        if self.every_mode == "skip" or self.every == 1:
            if not recompute:
                self.last_value = None
                return None
            value = self.raw_penalty(model, inputs, targets, logits)
            self.last_value = value.detach()  # a tensor: reading it would sync the host
            return value
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if recompute or self._cache_value is None:
            value = self.raw_penalty(model, inputs, targets, logits)
            grads = torch.autograd.grad(
                value, [p for _, p in named], retain_graph=True, allow_unused=True
            )
            self._cache = {
                n: g.detach() for (n, _), g in zip(named, grads, strict=True) if g is not None
            }
            self._cache_value = value.detach()
            self._cache_step = step
        out = self._cache_value.to(logits.device).clone()
        for n, p in named:
            g = self._cache.get(n)
            if g is not None:  # no-op .to() unless the cache was restored on another device
                out = out + ((p - p.detach()) * g.to(p.device)).sum()
        self.last_value = self._cache_value
        return out

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        return {
            "generator": self._gen.get_state(),
            "cache": {n: g.cpu() for n, g in self._cache.items()},
            "cache_value": None if self._cache_value is None else self._cache_value.cpu(),
            "cache_step": self._cache_step,
        }

    def load_state_dict(self, state: dict) -> None:
        self._gen.set_state(state["generator"])
        self._cache = dict(state.get("cache", {}))
        cv = state.get("cache_value")
        self._cache_value = cv
        self._cache_step = state.get("cache_step")

    def __repr__(self) -> str:
        return (
            f"GradientPenalty(kind={self.kind!r}, alpha={self.alpha}, every={self.every}, "
            f"onset_step={self.onset_step}, every_mode={self.every_mode!r}, seed={self.seed})"
        )


def _run_config(spec: dict | None, config: dict, run: dict) -> dict:
    return {"penalty": spec}  # null in every run config without a penalty, as the run ids were made


def _id_tag(run_config: dict) -> str:
    spec = run_config["penalty"]
    return spec["kind"] if spec else ""


def _build(run_config: dict) -> Intervention | None:
    spec = run_config.get("penalty")
    if spec is None:
        return None
    spec = dict(spec)
    spec.setdefault("seed", run_config.get("seed", 0))
    return GradientPenalty(**spec)


# run config key ``penalty``: {kind: fisher|gp|gpr|gpx, alpha, every, onset_step, every_mode,
# seed} or null; ``seed`` defaults to the run's ``seed``
REGISTRATION = Registration(run_config=_run_config, id_tag=_id_tag, build=_build)
