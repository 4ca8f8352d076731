"""ProbeSuite: records, validation, reproducibility, resume."""

from __future__ import annotations

import pytest
import torch

from earlyphase.probes import ProbeSuite, average_sharpness, worst_case_sharpness
from earlyphase.probes.suite import _probe_generator

from .helpers import gen, tiny_mlp


@pytest.fixture()
def setup():
    model = tiny_mlp(1)
    x = torch.randn(40, 5, generator=gen(0), dtype=torch.float64)
    y = torch.randint(0, 4, (40,), generator=gen(1))
    cfg = {"n_draws": 3, "apgd_iters": 4, "batch_size": 16, "eig_iters": 5, "seed": 7}
    return model, x, y, cfg


def test_unknown_probe_names_the_valid_ones(setup):
    _, x, y, cfg = setup
    with pytest.raises(ValueError, match="sharpnes.*fisher_trace.*avg_sharpness"):
        ProbeSuite({**cfg, "probes": ["sharpnes"]}, x, y, "cpu")


def test_record_is_reproducible_and_flat(setup):
    model, x, y, cfg = setup
    a = ProbeSuite(cfg, x, y, "cpu")(model, 10)
    b = ProbeSuite(cfg, x, y, "cpu")(model, 10)
    assert a == b
    assert a["step"] == 10
    assert set(a) == {
        "step",
        "fisher_trace",
        "fisher_trace_norm",
        "n_params_fisher",
        "avg_sharpness",
        "worst_sharpness",
        "avg_sharpness_adaptive",
        "worst_sharpness_adaptive",
        "hessian_max_eig",
    }
    assert all(isinstance(v, (int, float)) for v in a.values())
    c = ProbeSuite(cfg, x, y, "cpu")(model, 20)
    assert c["avg_sharpness"] != a["avg_sharpness"]  # another step, other noise draws
    # one probe alone gives the same value as within the full set
    only = ProbeSuite({**cfg, "probes": ["avg_sharpness"]}, x, y, "cpu")(model, 10)
    assert only == {"step": 10, "avg_sharpness": a["avg_sharpness"]}
    assert a["worst_sharpness"] >= 0


def test_suite_passes_its_settings(setup):
    model, x, y, cfg = setup
    cfg = {**cfg, "probes": ["avg_sharpness_adaptive", "worst_sharpness_adaptive"], "rho": 0.2,
           "adaptive_ascent": "reference"}
    rec = ProbeSuite(cfg, x, y, "cpu")(model, 5)
    kw = dict(batch_size=16, rho=0.2, adaptive=True, params="all")
    g = _probe_generator(7, 5, "avg_sharpness_adaptive", torch.device("cpu"))
    assert (
        rec["avg_sharpness_adaptive"] == average_sharpness(model, x, y, generator=g, n_draws=3, **kw).value
    )
    g = _probe_generator(7, 5, "worst_sharpness_adaptive", torch.device("cpu"))
    w = worst_case_sharpness(model, x, y, generator=g, n_iters=4, ascent="reference", **kw).value
    assert rec["worst_sharpness_adaptive"] == w
    w_other = worst_case_sharpness(model, x, y, generator=g, n_iters=4, **{**kw, "rho": 0.1})
    assert w_other.value != w


def test_both_scalings_are_recorded_side_by_side(setup):
    """c = 1 and c = |w| at the same probe point, each with its own noise draws."""
    model, x, y, cfg = setup
    names = ["avg_sharpness", "worst_sharpness", "avg_sharpness_adaptive", "worst_sharpness_adaptive"]
    rec = ProbeSuite({**cfg, "probes": names}, x, y, "cpu")(model, 5)
    assert set(rec) == {"step", *names}
    kw = dict(batch_size=16, rho=0.01, params="all")
    for name, adaptive in (("worst_sharpness", False), ("worst_sharpness_adaptive", True)):
        g = _probe_generator(7, 5, name, torch.device("cpu"))
        assert rec[name] == worst_case_sharpness(model, x, y, generator=g, n_iters=4, adaptive=adaptive, **kw).value
    assert rec["worst_sharpness"] != rec["worst_sharpness_adaptive"]


def test_state_dict_resume_reproduces_warm_started_eigenvalue(setup):
    model, x, y, cfg = setup
    cfg = {**cfg, "probes": ["hessian_max_eig"]}
    s1 = ProbeSuite(cfg, x, y, "cpu")
    s1(model, 0)
    state = s1.state_dict()
    expected = s1(model, 10)
    s2 = ProbeSuite(cfg, x, y, "cpu")
    s2.load_state_dict(state)
    assert s2(model, 10) == expected
    fresh = ProbeSuite(cfg, x, y, "cpu")(model, 10)
    assert fresh != expected  # the warm start mattered
