"""The set of probes recorded by a training run at one step.

``ProbeSuite(config, probe_inputs, probe_targets, device)`` holds the fixed probe points
(un-augmented, normalized training points) and the probe settings; calling
``suite(model, step)`` returns one flat record::

    {"step": s,
     "fisher_trace": raw, "fisher_trace_norm": raw / n, "n_params_fisher": n,
     "avg_sharpness": ..., "worst_sharpness": ..., "hessian_max_eig": ...,
     "feature_rank": r, "feature_effective_rank": ..., "feature_dim": D}

(only the keys of the configured probes, plus ``step``).

Config keys (defaults in :data:`DEFAULTS`): ``probes`` (subset of :data:`PROBES`), ``rho``,
``norm`` ("l2"), ``adaptive``, ``n_draws`` (S_avg noise draws), ``apgd_iters`` (S_worst
iterations), ``batch_size`` (metric batch size), ``eig_iters``, ``eig_examples`` (first N
probe points used for λ_max; ``None`` = all), ``fisher_params`` ("trainable"),
``sharpness_params`` ("all"), ``seed``; extra keys: ``fisher_estimator`` ("per_sample"),
``fisher_chunk`` (per-example gradients held at once), ``eig_params`` (defaults to
``sharpness_params``), ``eig_method`` ("power"), ``eig_warm_start`` (True), ``loss``
("cross_entropy"; used by sharpness and λ_max), ``rank_rel_tol`` (``None``: the float32
matrix_rank threshold; see :mod:`.feature_rank`).

Reproducibility: every probe gets its own ``torch.Generator`` seeded from
``(seed, step, probe name)`` through :class:`numpy.random.SeedSequence`, so a record is a
function of the model, the step and the config (and, with ``eig_warm_start``, of the
previous eigenvector, which :meth:`state_dict` carries across a resume).  Adding or
removing a probe does not change the others' values.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .average_sharpness import average_sharpness
from .feature_rank import feature_rank
from .fisher_trace import fisher_trace
from .hessian_eigenvalue import hessian_max_eigenvalue
from .worst_case_sharpness import worst_case_sharpness

PROBES = ("fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig", "feature_rank")

DEFAULTS: dict[str, Any] = {
    "probes": [p for p in PROBES if p != "feature_rank"],  # feature_rank is opt-in
    "rho": 0.01,
    "norm": "l2",
    "adaptive": False,
    "n_draws": 15,
    "apgd_iters": 15,
    "batch_size": 256,
    "eig_iters": 20,
    "eig_examples": None,
    "fisher_params": "trainable",
    "sharpness_params": "all",
    "seed": 0,
    "fisher_estimator": "per_sample",
    "fisher_chunk": 64,
    "eig_params": None,
    "eig_method": "power",
    "eig_warm_start": True,
    "loss": "cross_entropy",
    "rank_rel_tol": None,
}


def _probe_generator(seed: int, step: int, name: str, device: torch.device) -> torch.Generator:
    entropy = [int(seed), int(step), zlib.crc32(name.encode())]
    value = int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0])
    gen = torch.Generator(device=device)
    gen.manual_seed(value & ((1 << 63) - 1))
    return gen


class ProbeSuite:
    def __init__(
        self,
        config: dict,
        probe_inputs: Tensor,
        probe_targets: Tensor,
        device: torch.device | str,
    ):
        unknown_keys = sorted(set(config) - set(DEFAULTS))
        if unknown_keys:
            raise ValueError(f"unknown probe config keys {unknown_keys}; valid: {sorted(DEFAULTS)}")
        cfg = {**DEFAULTS, **config}
        probes = list(cfg["probes"])
        bad = [p for p in probes if p not in PROBES]
        if bad:
            raise ValueError(f"unknown probe(s) {bad}; valid probes: {list(PROBES)}")
        if cfg["norm"] != "l2":
            raise ValueError(f"only norm 'l2' is implemented, got {cfg['norm']!r}")
        if cfg["eig_params"] is None:
            cfg["eig_params"] = cfg["sharpness_params"]
        cfg["probes"] = probes
        self.config = cfg
        self.device = torch.device(device)
        self.inputs = probe_inputs.to(self.device)
        self.targets = probe_targets.to(self.device)
        if self.inputs.shape[0] != self.targets.shape[0]:
            raise ValueError("probe_inputs and probe_targets differ in length")
        self._eig_vector: dict[str, Tensor] | None = None

    def __call__(self, model: nn.Module, step: int) -> dict[str, float]:
        cfg = self.config
        bs = int(cfg["batch_size"])
        # settings the two sharpness probes share
        sharpness = {
            "params": cfg["sharpness_params"],
            "rho": float(cfg["rho"]),
            "adaptive": bool(cfg["adaptive"]),
            "loss_fn": cfg["loss"],
        }
        data = (model, self.inputs, self.targets)
        rec: dict[str, float] = {"step": step}
        for name in cfg["probes"]:
            gen = _probe_generator(cfg["seed"], step, name, self.device)
            if name == "fisher_trace":
                r = fisher_trace(
                    *data,
                    batch_size=bs,
                    generator=gen,
                    params=cfg["fisher_params"],
                    estimator=cfg["fisher_estimator"],
                    chunk_size=int(cfg["fisher_chunk"]),
                )
                rec["fisher_trace"] = r.trace
                rec["fisher_trace_norm"] = r.trace_norm
                rec["n_params_fisher"] = r.n_params
            elif name == "avg_sharpness":
                r = average_sharpness(
                    *data, batch_size=bs, generator=gen, n_draws=int(cfg["n_draws"]), **sharpness
                )
                rec["avg_sharpness"] = r.value
            elif name == "worst_sharpness":
                r = worst_case_sharpness(
                    *data,
                    batch_size=bs,
                    generator=gen,
                    n_iters=int(cfg["apgd_iters"]),
                    norm=cfg["norm"],
                    **sharpness,
                )
                rec["worst_sharpness"] = r.value
            elif name == "hessian_max_eig":
                n = cfg["eig_examples"]
                x = self.inputs if n is None else self.inputs[: int(n)]
                y = self.targets if n is None else self.targets[: int(n)]
                r = hessian_max_eigenvalue(
                    model,
                    x,
                    y,
                    batch_size=bs,
                    generator=gen,
                    params=cfg["eig_params"],
                    n_iter=int(cfg["eig_iters"]),
                    method=cfg["eig_method"],
                    loss_fn=cfg["loss"],
                    init_vector=self._eig_vector if cfg["eig_warm_start"] else None,
                )
                rec["hessian_max_eig"] = r.eigenvalue
                if cfg["eig_warm_start"]:
                    self._eig_vector = r.vector
            elif name == "feature_rank":
                r = feature_rank(model, self.inputs, batch_size=bs, rel_tol=cfg["rank_rel_tol"])
                rec["feature_rank"] = r.rank
                rec["feature_effective_rank"] = r.effective_rank
                rec["feature_dim"] = r.dim
        return rec

    def state_dict(self) -> dict[str, Any]:
        vec = None
        if self._eig_vector is not None:
            vec = {k: v.detach().cpu().clone() for k, v in self._eig_vector.items()}
        return {"eig_vector": vec}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vec = state.get("eig_vector")
        self._eig_vector = None if vec is None else {k: v.to(self.device) for k, v in vec.items()}
