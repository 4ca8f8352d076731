"""The probes the suite can record: one :class:`~.spec.Probe` class each, listed once here.

Everything else reads this list: :class:`~.suite.ProbeSuite` (which probes exist, their
defaults, how a record is made), :mod:`earlyphase.operations.cost` (step equivalents),
:mod:`earlyphase.selection.stabilization` (the column Algorithm 2 reads), the report modules (figure
and table labels) and the params schema, whose probe enums are filled from
:func:`probe_names` when it is loaded (:data:`earlyphase.params.SCHEMA_REGISTRIES`).

The probes (Liu & Gurevych, Sections 3 and 5, Appendix E.1; Jastrzebski et al. for tr(F)):

* ``fisher_trace``: tr(F) with labels sampled from the model (:mod:`.fisher_trace`);
* ``avg_sharpness``: S_avg^rho, Gaussian weight noise (:mod:`.average_sharpness`);
* ``worst_sharpness``: S_worst^rho by Auto-PGD (:mod:`.worst_case_sharpness`);
* ``avg_sharpness_adaptive``, ``worst_sharpness_adaptive``: the same with c = |w|
  (the two above use c = 1; see :data:`SCALINGS`);
* ``hessian_max_eig``: lambda_max of the loss Hessian (:mod:`.hessian_eigenvalue`);
* ``feature_rank``: rank of the features fed to the head, opt-in (:mod:`.feature_rank`).

Adding a probe: a module with its function, a :class:`~.spec.Probe` subclass below and one
entry in :data:`REGISTRY` (see docs/extending.md).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .average_sharpness import average_sharpness
from .feature_rank import feature_rank
from .fisher_trace import fisher_trace
from .hessian_eigenvalue import hessian_max_eigenvalue
from .spec import FORWARD, Probe
from .worst_case_sharpness import worst_case_sharpness

SHARED_DEFAULTS: dict[str, Any] = {
    "rho": 0.01,
    "norm": "l2",
    "batch_size": 256,  # metric batch (m-sharpness with m = 256)
    "sharpness_params": "all",
    "seed": 0,
    "loss": "cross_entropy",  # used by sharpness and lambda_max
}
"""Settings more than one probe reads."""


SCALINGS = {"unit": "c = 1", "adaptive": "c = |w|"}
"""Perturbation scalings c of the sharpness probes (:mod:`.scaling`). The paper writes
δ ~ N(0, ρ² diag(c²)) and ||δ ⊙ c⁻¹|| ≤ ρ without saying which c; both are recorded, each by
its own probe (``avg_sharpness`` / ``avg_sharpness_adaptive``, likewise ``worst_sharpness``)."""
DEFAULT_SCALING = "unit"
"""The scaling Figures 2 and 3 show (the reference code's default); the appendix figure
``appendix_sharpness_scaling`` shows the other."""


def _sharpness_settings(probe: type[Probe], settings: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments the sharpness probes share; c comes from the probe's scaling."""
    return {
        "params": settings["sharpness_params"],
        "rho": float(settings["rho"]),
        "adaptive": probe.scaling == "adaptive",
        "loss_fn": settings["loss"],
    }


class FisherTraceProbe(Probe):
    name = "fisher_trace"
    columns = ("fisher_trace", "fisher_trace_norm", "n_params_fisher")
    column = "fisher_trace_norm"
    label = "tr(F) / #trainable params"
    text_label = "tr(F)"
    defaults = {"fisher_params": "trainable", "fisher_estimator": "per_sample", "fisher_chunk": 64}

    @classmethod
    def step_equivalents(cls, settings, points):
        return 3.0 * points / 128.0  # exact per-example gradients: about 3 steps per 128 points

    def measure(self, model, inputs, targets, generator):
        s = self.settings
        r = fisher_trace(model, inputs, targets, batch_size=int(s["batch_size"]), generator=generator,
                         params=s["fisher_params"], estimator=s["fisher_estimator"],
                         chunk_size=int(s["fisher_chunk"]))
        return {"fisher_trace": r.trace, "fisher_trace_norm": r.trace_norm, "n_params_fisher": r.n_params}


class AverageSharpnessProbe(Probe):
    name = "avg_sharpness"
    scaling = "unit"
    label = r"$S_{avg}^{\rho}$"
    text_label = "S_avg"
    defaults = {"n_draws": 15, "draws_per_call": 1}  # >1: that many draws per vmap'd call

    @classmethod
    def step_equivalents(cls, settings, points):
        return FORWARD * (settings["n_draws"] + 1) * points / 128.0  # clean pass + one per draw

    def measure(self, model, inputs, targets, generator):
        s = self.settings
        r = average_sharpness(model, inputs, targets, batch_size=int(s["batch_size"]), generator=generator,
                              n_draws=int(s["n_draws"]), draws_per_call=int(s["draws_per_call"]),
                              **_sharpness_settings(type(self), s))
        return {self.name: r.value}


class AdaptiveAverageSharpnessProbe(AverageSharpnessProbe):
    name = "avg_sharpness_adaptive"
    scaling = "adaptive"
    label = r"$S_{avg}^{\rho}$, $c=|w|$"
    text_label = "S_avg (adaptive)"
    defaults = {}


class WorstCaseSharpnessProbe(Probe):
    name = "worst_sharpness"
    scaling = "unit"
    label = r"$S_{worst}^{\rho}$"
    text_label = "S_worst"
    # adaptive_ascent: the constraint-consistent ascent in u = δ/c, or the reference's step
    # (see worst_case_sharpness); the two coincide at c = 1. apgd_iters: the paper's 15, converged
    # where the gradient leads the ascent, a few per cent low near a minimum (the module's
    # "Iterations and their bias").
    defaults = {"apgd_iters": 15, "adaptive_ascent": "scaled"}

    @classmethod
    def step_equivalents(cls, settings, points):
        return (settings["apgd_iters"] + 1) * points / 128.0  # one gradient per iteration, plus the clean loss

    def measure(self, model, inputs, targets, generator):
        s = self.settings
        r = worst_case_sharpness(model, inputs, targets, batch_size=int(s["batch_size"]), generator=generator,
                                 n_iters=int(s["apgd_iters"]), norm=s["norm"], ascent=s["adaptive_ascent"],
                                 **_sharpness_settings(type(self), s))
        return {self.name: r.value}


class AdaptiveWorstCaseSharpnessProbe(WorstCaseSharpnessProbe):
    name = "worst_sharpness_adaptive"
    scaling = "adaptive"
    label = r"$S_{worst}^{\rho}$, $c=|w|$"
    text_label = "S_worst (adaptive)"
    defaults = {}


class HessianEigenProbe(Probe):
    """λ_max on the first ``eig_examples`` probe points; with ``eig_warm_start`` the power
    iteration starts from the previous record's eigenvector (carried across a resume)."""

    name = "hessian_max_eig"
    label = r"$\lambda_{max}$"
    text_label = "lambda_max"
    defaults = {
        "eig_iters": 20,
        "eig_examples": None,  # None: all probe points
        "eig_params": None,  # None: sharpness_params
        "eig_method": "power",
        "eig_warm_start": True,
    }

    def __init__(self, settings, device):
        super().__init__(settings, device)
        self._vector: dict[str, Tensor] | None = None

    @classmethod
    def step_equivalents(cls, settings, points):
        n = settings["eig_examples"] or points
        return 2.0 * settings["eig_iters"] * n / 128.0  # one Hessian-vector product per iteration

    def measure(self, model, inputs, targets, generator):
        s = self.settings
        n = s["eig_examples"]
        x = inputs if n is None else inputs[: int(n)]
        y = targets if n is None else targets[: int(n)]
        params = s["sharpness_params"] if s["eig_params"] is None else s["eig_params"]
        r = hessian_max_eigenvalue(model, x, y, batch_size=int(s["batch_size"]), generator=generator,
                                   params=params, n_iter=int(s["eig_iters"]), method=s["eig_method"],
                                   loss_fn=s["loss"], init_vector=self._vector if s["eig_warm_start"] else None)
        if s["eig_warm_start"]:
            self._vector = r.vector
        return {"hessian_max_eig": r.eigenvalue}

    def state_dict(self):
        vec = None if self._vector is None else {k: v.detach().cpu().clone() for k, v in self._vector.items()}
        return {"eig_vector": vec}

    def load_state_dict(self, state):
        vec = state.get("eig_vector")
        self._vector = None if vec is None else {k: v.to(self.device) for k, v in vec.items()}


class FeatureRankProbe(Probe):
    name = "feature_rank"
    columns = ("feature_rank", "feature_effective_rank", "feature_dim")
    label = "numerical rank"
    text_label = "rank"
    defaults = {"rank_rel_tol": None}  # None: the float32 matrix_rank threshold
    default_on = False

    @classmethod
    def step_equivalents(cls, settings, points):
        return FORWARD * points / 128.0  # one forward pass; the SVD is small

    def measure(self, model, inputs, targets, generator):
        r = feature_rank(model, inputs, batch_size=int(self.settings["batch_size"]),
                         rel_tol=self.settings["rank_rel_tol"])
        return {"feature_rank": r.rank, "feature_effective_rank": r.effective_rank, "feature_dim": r.dim}


REGISTRY: dict[str, type[Probe]] = {
    p.name: p
    for p in (FisherTraceProbe, AverageSharpnessProbe, WorstCaseSharpnessProbe, AdaptiveAverageSharpnessProbe,
              AdaptiveWorstCaseSharpnessProbe, HessianEigenProbe, FeatureRankProbe)
}
"""Probe name -> class, in record order."""


def with_scaling(name: str, scaling: str) -> str:
    """The probe that measures ``name``'s quantity with perturbation scaling ``scaling``."""
    quantity = probe_class(name).quantity
    for probe in REGISTRY.values():
        if probe.quantity == quantity and probe.scaling == scaling:
            return probe.name
    raise ValueError(f"no probe measures {quantity!r} with scaling {scaling!r}; scalings: {list(SCALINGS)}")


def probe_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def probe_class(name: str) -> type[Probe]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown probe {name!r}; valid probes: {list(REGISTRY)}") from None


def default_settings() -> dict[str, Any]:
    """The merged probe config's defaults: ``probes`` (the default-on probes), the shared
    settings and every probe's own; the one place these defaults live."""
    out: dict[str, Any] = {"probes": [n for n, p in REGISTRY.items() if p.default_on], **SHARED_DEFAULTS}
    for probe in REGISTRY.values():
        out.update(probe.defaults)
    return out


def step_equivalents(name: str, settings: dict[str, Any], points: int) -> float:
    """Cost of one call of probe ``name`` over ``points`` points, in training steps of batch
    128; settings missing from ``settings`` take their defaults."""
    return probe_class(name).step_equivalents({**default_settings(), **settings}, points)


def labels(names=None) -> dict[str, str]:
    """Figure label per probe name (all probes, or ``names`` in that order)."""
    return {n: probe_class(n).label for n in (REGISTRY if names is None else names)}


def make_probe(name: str, settings: dict[str, Any], device: torch.device | str) -> Probe:
    return probe_class(name)(settings, torch.device(device))


__all__ = [
    "DEFAULT_SCALING",
    "REGISTRY",
    "SCALINGS",
    "SHARED_DEFAULTS",
    "Probe",
    "default_settings",
    "labels",
    "make_probe",
    "probe_class",
    "probe_names",
    "step_equivalents",
    "with_scaling",
]
