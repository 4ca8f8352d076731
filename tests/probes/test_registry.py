"""The probe registry is the one list of probes: the schema, the suite, the cost model,
Algorithm 2 and the reports all agree with it."""

from __future__ import annotations

import pytest

from earlyphase.operations import cost
from earlyphase.params import params_schema
from earlyphase.probes import registry
from earlyphase.probes.suite import ProbeSuite
from earlyphase.selection import stabilization


def test_schema_probe_enums_are_the_registry():
    """Generated when the schema is loaded (tests/pipeline/test_schema_registries.py)."""
    schema = params_schema()
    experiments = schema["properties"]["experiments"]["properties"]
    assert schema["properties"]["probe"]["properties"]["probes"]["items"]["enum"] == list(registry.probe_names())
    assert experiments["appendix_sharpness"]["properties"]["probes"]["items"]["enum"] == list(registry.probe_names())


def test_schema_stabilization_metrics_are_algorithm2_probes():
    experiments = params_schema()["properties"]["experiments"]["properties"]
    enum = experiments["stabilization"]["properties"]["metrics"]["items"]["enum"]
    assert enum == list(stabilization.METRICS)
    assert set(enum) <= set(registry.probe_names())


def test_every_probe_declares_its_contract():
    seen_keys: dict[str, str] = {}
    for name, probe in registry.REGISTRY.items():
        assert probe.name == name
        assert probe.column in probe.columns
        assert probe.label and probe.text_label
        assert probe.step_equivalents(registry.default_settings(), 128) > 0
        for key in probe.defaults:  # a setting belongs to one probe (shared ones are SHARED_DEFAULTS)
            assert key not in registry.SHARED_DEFAULTS, (name, key)
            assert seen_keys.setdefault(key, name) == name, key


def test_defaults_live_in_the_registry():
    defaults = registry.default_settings()
    assert defaults["probes"] == ["fisher_trace", "avg_sharpness", "worst_sharpness", "avg_sharpness_adaptive",
                                  "worst_sharpness_adaptive", "hessian_max_eig"]
    assert defaults["adaptive_ascent"] == "scaled"
    assert (defaults["n_draws"], defaults["apgd_iters"], defaults["eig_iters"]) == (15, 15, 20)
    # cost reads the same defaults: settings left out cost what the defaults cost
    assert registry.step_equivalents("avg_sharpness", {}, 256) == pytest.approx((15 + 1) / 3 * 2)
    assert registry.step_equivalents("avg_sharpness", {"n_draws": 5}, 256) == pytest.approx((5 + 1) / 3 * 2)
    assert cost.PROBE_STEP_EQUIVALENTS == {n: registry.step_equivalents(n, {}, 128) for n in registry.REGISTRY}


def test_stabilization_and_report_labels_come_from_the_probes():
    assert stabilization.METRIC_COLUMNS["fisher_trace"] == "fisher_trace_norm"
    assert stabilization.METRIC_LABELS == {"worst_sharpness": "S_worst", "avg_sharpness": "S_avg",
                                           "fisher_trace": "tr(F)", "worst_sharpness_adaptive": "S_worst (adaptive)",
                                           "avg_sharpness_adaptive": "S_avg (adaptive)"}
    assert registry.labels(["hessian_max_eig"]) == {"hessian_max_eig": r"$\lambda_{max}$"}


def test_unknown_probe_is_named():
    with pytest.raises(ValueError, match="hutchinson.*fisher_trace"):
        registry.probe_class("hutchinson")


def test_suite_state_keeps_the_checkpoint_layout():
    import torch

    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    suite = ProbeSuite({"probes": ["avg_sharpness"], "n_draws": 1}, x, y, "cpu")
    assert suite.state_dict() == {"eig_vector": None}


def test_each_sharpness_quantity_has_both_scalings():
    for name in ("avg_sharpness", "worst_sharpness"):
        unit, adaptive = registry.with_scaling(name, "unit"), registry.with_scaling(name, "adaptive")
        assert (unit, adaptive) == (name, f"{name}_adaptive")
        assert registry.with_scaling(adaptive, "unit") == name
        assert registry.probe_class(adaptive).step_equivalents(registry.default_settings(), 128) == \
            registry.probe_class(name).step_equivalents(registry.default_settings(), 128)
    assert registry.DEFAULT_SCALING in registry.SCALINGS
    with pytest.raises(ValueError, match="no probe measures 'fisher_trace' with scaling 'adaptive'"):
        registry.with_scaling("fisher_trace", "adaptive")
