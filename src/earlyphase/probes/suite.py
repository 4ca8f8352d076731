"""The set of probes recorded by a training run at one step.

``ProbeSuite(config, probe_inputs, probe_targets, device)`` holds the fixed probe points
(un-augmented, normalized training points) and the probe settings; calling
``suite(model, step)`` returns one flat record::

    {"step": s,
     "fisher_trace": raw, "fisher_trace_norm": raw / n, "n_params_fisher": n,
     "avg_sharpness": ..., "worst_sharpness": ...,
     "avg_sharpness_adaptive": ..., "worst_sharpness_adaptive": ..., "hessian_max_eig": ...,
     "feature_rank": r, "feature_effective_rank": ..., "feature_dim": D}

(only the keys of the configured probes, plus ``step``).

Config keys: ``probes`` (subset of :data:`PROBES`) and the settings of the probes; their
defaults (:func:`.registry.default_settings`) and what each key means are declared once, by the probe classes
of :mod:`.registry` (shared keys: ``rho``, ``norm`` ("l2"), ``batch_size`` (metric batch
size), ``sharpness_params``, ``seed``, ``loss``). The perturbation scaling c of a sharpness
probe is part of the probe (``avg_sharpness`` c = 1, ``avg_sharpness_adaptive`` c = |w|).

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

from .registry import REGISTRY, default_settings, make_probe, probe_names

PROBES = probe_names()
"""Names of the registered probes (a snapshot; :data:`.registry.REGISTRY` is the source)."""

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
        defaults = default_settings()
        unknown_keys = sorted(set(config) - set(defaults))
        if unknown_keys:
            raise ValueError(f"unknown probe config keys {unknown_keys}; valid: {sorted(defaults)}")
        cfg = {**defaults, **config}
        probes = list(cfg["probes"])
        bad = [p for p in probes if p not in REGISTRY]
        if bad:
            raise ValueError(f"unknown probe(s) {bad}; valid probes: {list(REGISTRY)}")
        if cfg["norm"] != "l2":
            raise ValueError(f"only norm 'l2' is implemented, got {cfg['norm']!r}")
        cfg["probes"] = probes
        self.config = cfg
        self.device = torch.device(device)
        self.inputs = probe_inputs.to(self.device)
        self.targets = probe_targets.to(self.device)
        if self.inputs.shape[0] != self.targets.shape[0]:
            raise ValueError("probe_inputs and probe_targets differ in length")
        self.probes = {name: make_probe(name, cfg, self.device) for name in probes}

    def __call__(self, model: nn.Module, step: int) -> dict[str, float]:
        rec: dict[str, float] = {"step": step}
        for name, probe in self.probes.items():
            gen = _probe_generator(self.config["seed"], step, name, self.device)
            rec.update(probe.measure(model, self.inputs, self.targets, gen))
        return rec

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"eig_vector": None}  # the layout of checkpoints without λ_max
        for probe in self.probes.values():
            state.update(probe.state_dict())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for probe in self.probes.values():
            probe.load_state_dict(state)
