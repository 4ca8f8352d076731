"""The params schema repeats no list the code keeps: its enums of probes, models, data sets,
Algorithm 2 metrics and penalty kinds are filled from the registries when it is loaded, and
its `experiments` sections are those the experiment and artifact registry reads."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from earlyphase import params
from earlyphase.data.registry import DATASETS
from earlyphase.experiments import ARTIFACTS, EXPERIMENTS
from earlyphase.interventions.gradient_penalty import KINDS
from earlyphase.models import MODELS
from earlyphase.params import ParamsError, params_schema, validate_params
from earlyphase.probes import registry as probe_registry
from earlyphase.probes.spec import FORWARD, Probe
from earlyphase.selection.stabilization import METRICS


def _raw_schema() -> dict:
    return yaml.safe_load(params.SCHEMA_PATH.read_text())


def _values(node, key: str):
    """Every value of ``key`` in a schema, at any depth."""
    if isinstance(node, dict):
        if key in node:
            yield node[key]
        for child in node.values():
            yield from _values(child, key)
    elif isinstance(node, list):
        for child in node:
            yield from _values(child, key)


def test_the_schema_file_keeps_no_copy_of_a_registry():
    registered = set(DATASETS) | set(MODELS) | set(probe_registry.REGISTRY) | set(METRICS) | set(KINDS)
    for enum in _values(_raw_schema(), "enum"):
        assert registered.isdisjoint(enum), f"hand-written registry names in the schema: {enum}"


def test_the_loaded_schema_lists_every_registry():
    schema = params_schema()
    props = schema["properties"]
    experiments = props["experiments"]["properties"]
    assert schema["$defs"]["dataset_name"]["enum"] == list(DATASETS)
    assert props["setups"]["additionalProperties"]["properties"]["arch"]["enum"] == list(MODELS)
    assert props["probe"]["properties"]["probes"]["items"]["enum"] == list(probe_registry.probe_names())
    assert experiments["appendix_sharpness"]["properties"]["probes"]["items"]["enum"] == \
        list(probe_registry.probe_names())
    assert experiments["stabilization"]["properties"]["metrics"]["items"]["enum"] == list(METRICS)
    assert experiments["fisher"]["properties"]["penalties"]["propertyNames"]["enum"] == list(KINDS)
    assert not list(_values(schema, "x-registry"))


def test_an_unknown_registry_in_the_schema_is_named(monkeypatch, tmp_path):
    raw = _raw_schema()
    raw["properties"]["probe"]["properties"]["norm"] = {"x-registry": "norms"}
    path = tmp_path / "params.schema.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setattr(params, "SCHEMA_PATH", path)
    with pytest.raises(ValueError, match=r"properties\.probe\.properties\.norm: unknown x-registry 'norms'"):
        params_schema()


class CurvatureProbe(Probe):
    name = "curvature9"
    label = text_label = "curvature"
    default_on = False

    @classmethod
    def step_equivalents(cls, settings, points):
        return FORWARD * points / 128.0

    def measure(self, model, inputs, targets, generator):
        return {"curvature9": 0.0}


def test_a_probe_registered_in_code_is_a_valid_name_without_a_schema_edit(smoke_params, monkeypatch):
    config = copy.deepcopy(smoke_params)
    config["probe"]["probes"] = [*config["probe"]["probes"], "curvature9"]
    config["experiments"]["appendix_sharpness"]["probes"] = ["curvature9"]
    with pytest.raises(ParamsError) as err:
        validate_params(config)
    assert "probe.probes" in str(err.value) and "experiments.appendix_sharpness.probes.0" in str(err.value)
    monkeypatch.setitem(probe_registry.REGISTRY, CurvatureProbe.name, CurvatureProbe)
    validate_params(config)


def test_penalty_kinds_are_the_gradient_penalty_kinds(smoke_params):
    config = copy.deepcopy(smoke_params)
    config["experiments"]["fisher"]["penalties"] = {"fisher": 0.1, "gpz": 1.0}
    message = f"experiments.fisher.penalties: 'gpz' is not one of {list(KINDS)}"
    with pytest.raises(ParamsError, match=re.escape(message)):
        validate_params(config)
    config["experiments"]["fisher"]["penalties"] = {kind: 0.1 for kind in KINDS}
    validate_params(config)
    config["experiments"]["fisher"]["penalties"]["gp"] = 0.0
    with pytest.raises(ParamsError, match=r"experiments\.fisher\.penalties\.gp: 0\.0 is less than or equal"):
        validate_params(config)


def test_the_experiment_sections_are_those_the_registry_reads():
    """A section no experiment or artifact reads is dead configuration; a key the registry
    reads without a section could never be configured (the schema refuses unknown keys)."""
    read = {getattr(module, "CONFIG_KEY", name) for name, module in EXPERIMENTS.items()}
    read |= {artifact.config_key for artifact in ARTIFACTS.values()}
    sections = set(_raw_schema()["properties"]["experiments"]["properties"])
    assert sections == read
