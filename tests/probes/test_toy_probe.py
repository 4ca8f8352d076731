"""Adding a probe as docs/extending.md describes it: one Probe class, one entry in the
registry (here patched in), and the suite, the cost model and the labels pick it up."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from earlyphase.operations import cost
from earlyphase.probes import registry
from earlyphase.probes.spec import FORWARD, Probe
from earlyphase.probes.suite import ProbeSuite


class LogitNormProbe(Probe):
    """Mean squared norm of the logits over the probe points (a toy probe)."""

    name = "logit_norm"
    columns = ("logit_norm",)
    column = "logit_norm"
    label = r"$\|f(x)\|^2$"
    text_label = "|f|^2"
    defaults = {"logit_scale": 1.0}
    default_on = False

    @classmethod
    def step_equivalents(cls, settings, points):
        return FORWARD * points / 128.0

    def measure(self, model, inputs, targets, generator):
        with torch.no_grad():
            value = model(inputs).pow(2).sum(1).mean() * self.settings["logit_scale"]
        return {"logit_norm": float(value)}


@pytest.fixture()
def toy_registered(monkeypatch):
    monkeypatch.setitem(registry.REGISTRY, LogitNormProbe.name, LogitNormProbe)


def test_the_suite_records_a_registered_probe(toy_registered):
    model = nn.Linear(4, 3)
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    record = ProbeSuite({"probes": ["logit_norm", "avg_sharpness"], "logit_scale": 2.0, "n_draws": 2},
                        x, y, "cpu")(model, 7)
    with torch.no_grad():
        expected = 2.0 * float(model(x).pow(2).sum(1).mean())
    assert record["logit_norm"] == pytest.approx(expected)
    # its key is a valid setting now, and the other probes are unchanged by its presence
    alone = ProbeSuite({"probes": ["avg_sharpness"], "n_draws": 2}, x, y, "cpu")(model, 7)
    assert alone["avg_sharpness"] == record["avg_sharpness"]
    assert registry.default_settings()["logit_scale"] == 1.0
    assert "logit_norm" not in registry.default_settings()["probes"]  # opt-in


def test_cost_and_labels_read_a_registered_probe(toy_registered):
    assert cost.probe_step_equivalents("logit_norm", {}, 256) == pytest.approx(2 / 3)
    assert registry.labels(["logit_norm"]) == {"logit_norm": r"$\|f(x)\|^2$"}


def test_without_the_entry_the_probe_is_unknown():
    with pytest.raises(ValueError, match="unknown probe.*logit_norm"):
        ProbeSuite({"probes": ["logit_norm"]}, torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), "cpu")
