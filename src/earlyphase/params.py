"""Load, merge and validate ``params.yaml`` before any job starts.

Validation has two layers: the JSON schema (``workflow/schemas/params.schema.yaml``)
rejects unknown keys, wrong types and out-of-range values (its lists of names, such as the
probes or the penalty kinds, come from the code's registries when it is loaded:
:data:`SCHEMA_REGISTRIES`); the semantic checks below
reject settings that are well-typed but contradictory (an experiment naming an unknown
setup, a corruption the data set does not have, a probe metric batch larger than the probe
points, gradual unfreezing that could never finish within the run); NaN and infinite
numbers are refused everywhere. Every error names the offending key and says why.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "params.schema.yaml"


class ParamsError(ValueError):
    """An invalid params.yaml: the message names the key and the reason."""


def deep_merge(base: dict, overlay: dict) -> dict:
    """Return ``base`` updated recursively by ``overlay`` (the way Snakemake merges configfiles)."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict:
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as err:
        raise ParamsError(f"{path}: file not found") from err
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def apply_overlay(config: dict, root: Path = REPO_ROOT) -> dict:
    """Merge the file named by ``config_overlay`` (if any) over ``config``."""
    overlay = config.get("config_overlay") or ""
    if not overlay:
        return config
    merged = deep_merge(config, _read_yaml(root / overlay))
    merged["config_overlay"] = overlay
    return merged


def load_params(path: Path | str = REPO_ROOT / "params.yaml", *overlays: Path | str) -> dict:
    """Read params.yaml, merge ``config_overlay`` and any further overlays, validate."""
    path = Path(path)
    config = apply_overlay(_read_yaml(path), path.parent)
    for overlay in overlays:
        config = deep_merge(config, _read_yaml(Path(overlay)))
    validate_params(config)
    return config


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _dataset_names() -> list[str]:
    from earlyphase.data.registry import DATASETS

    return list(DATASETS)


def _model_names() -> list[str]:
    from earlyphase.models import MODELS

    return list(MODELS)


def _probe_names() -> list[str]:
    from earlyphase.probes.registry import probe_names

    return list(probe_names())


def _stabilization_metrics() -> list[str]:
    from earlyphase.selection.stabilization import METRICS

    return list(METRICS)


def _penalty_kinds() -> list[str]:
    from earlyphase.interventions.gradient_penalty import KINDS

    return list(KINDS)


# The registries the schema's ``x-registry: <name>`` enums are filled from, read when the schema
# is loaded (so a probe, model or penalty registered in code is a valid name at once).
SCHEMA_REGISTRIES: dict[str, Callable[[], list[str]]] = {
    "datasets": _dataset_names,
    "models": _model_names,
    "probes": _probe_names,
    "stabilization_metrics": _stabilization_metrics,
    "penalty_kinds": _penalty_kinds,
}


def _fill_registry_enums(node, key: str = "") -> None:
    """Replace every ``x-registry: <name>`` of the schema by ``enum: [the registry's names]``."""
    if isinstance(node, dict):
        if "x-registry" in node:
            name = node.pop("x-registry")
            if name not in SCHEMA_REGISTRIES:
                raise ValueError(f"{SCHEMA_PATH}: {key or '(top level)'}: unknown x-registry {name!r}; "
                                 f"known: {', '.join(SCHEMA_REGISTRIES)}")
            node["enum"] = SCHEMA_REGISTRIES[name]()
        for name, child in node.items():
            _fill_registry_enums(child, f"{key}.{name}" if key else str(name))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            _fill_registry_enums(child, f"{key}.{i}")


def params_schema() -> dict:
    """The JSON schema of params.yaml, its registry enums filled in."""
    with open(SCHEMA_PATH) as handle:
        schema = yaml.safe_load(handle)
    _fill_registry_enums(schema)
    return schema


def _schema_errors(config: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(params_schema())
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        if error.validator == "additionalProperties":
            reason = f"unknown key(s): {error.message.split('(')[-1].rstrip(')')}"
        elif error.validator == "propertyNames":
            reason = f"{error.instance!r} is not an allowed name ({error.message})"
        elif error.validator == "minItems" and error.instance == []:
            reason = "must not be empty"
        else:
            reason = error.message
        messages.append(f"{_key_path(error)}: {reason}")
    return messages


def _non_finite_numbers(node, key: str = "") -> list[str]:
    """Every NaN or infinite float, at any depth: YAML reads ``.nan`` and ``.inf`` as floats,
    and range checks such as ``exclusiveMinimum`` let NaN through (every comparison is false)."""
    if isinstance(node, float) and not math.isfinite(node):
        return [f"{key or '(top level)'}: must be a finite number, got {node}"]
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return []
    messages = []
    for name, value in children:
        messages += _non_finite_numbers(value, f"{key}.{name}" if key else str(name))
    return messages


def _corruption_errors(config: dict) -> list[str]:
    """An explicit corruption list may only name corruptions the data set has."""
    from earlyphase.data.registry import DATASETS

    messages = []
    for name, dataset in config["datasets"].items():
        listed = dataset["ood"]["corruptions"]
        if name not in DATASETS or not isinstance(listed, list):
            continue
        known = DATASETS[name].all_corruptions
        unknown = [c for c in listed if c not in known]
        if unknown:
            messages.append(f"datasets.{name}.ood.corruptions: unknown corruption(s) {unknown} for {name}; "
                            f"valid: {', '.join(known)}")
    return messages


def _data_source_errors(config: dict) -> list[str]:
    """Sources a data set cannot have: a stand-in or a released -C archive that does not
    exist, or a local source without its folder."""
    from earlyphase.data.local_mirror import DEFAULT_PATHS
    from earlyphase.data.sources import CORRUPTED_ARCHIVES
    from earlyphase.runs import OFFLINE_DEFAULT_SIZES

    messages = []
    for name, dataset in config["datasets"].items():
        key = f"datasets.{name}"
        if dataset["source"] == "offline" and name not in OFFLINE_DEFAULT_SIZES:
            messages.append(f"{key}.source: {name} has no offline stand-in; use local or torchvision")
        if dataset["source"] == "local" and "path" not in dataset and name not in DEFAULT_PATHS:
            messages.append(f"{key}.path: source local needs the folder that holds the raw files")
        if dataset["source"] == "offline" and "subset" in dataset:
            messages.append(f"{key}.subset: the offline stand-in is sized by {key}.offline")
        if dataset["source"] != "local" and "path" in dataset:
            messages.append(f"{key}.path: only read with source local (source is {dataset['source']})")
        ood = dataset["ood"]
        if ood["source"] in ("official", "local") and name not in CORRUPTED_ARCHIVES:
            messages.append(f"{key}.ood.source: {name} has no released corrupted archive; use generated")
        if ood["source"] == "local" and "path" not in ood:
            messages.append(f"{key}.ood.path: ood source local needs the folder that holds the archive")
    return messages


def _probe_batch_errors(config: dict) -> list[str]:
    """The metric batch (m-sharpness with m = batch_size) must fit in the probe points, else
    every probe batch would silently hold only ``points`` examples."""
    blocks = [("probe", config["probe"])]
    fisher = config["experiments"].get("fisher", {})
    if isinstance(fisher.get("probe"), dict):
        blocks.append(("experiments.fisher.probe", {**config["probe"], **fisher["probe"]}))
    return [f"{key}.batch_size: {block['batch_size']} is larger than {key}.points ({block['points']}); "
            "the metric batch must fit in the probe points"
            for key, block in blocks if block["batch_size"] > block["points"]]


def _semantic_errors(config: dict) -> list[str]:
    from earlyphase.models import setup_options
    from earlyphase.runs import blocks_of, total_steps

    messages = []
    setups = config["setups"]
    for name, setup in setups.items():
        if setup["dataset"] not in config["datasets"]:
            messages.append(f"setups.{name}.dataset: {setup['dataset']!r} has no entry under datasets")
        allowed = setup_options(setup["arch"])
        for option in setup.get("model", {}):
            if option not in allowed:
                messages.append(f"setups.{name}.model.{option}: {setup['arch']} has no such option; "
                                f"its options are {list(allowed) or 'none'}")
    messages += _corruption_errors(config) + _data_source_errors(config) + _probe_batch_errors(config)
    experiments = config["experiments"]
    for key, setup in _setup_references(experiments, "experiments"):
        if setup not in setups:
            messages.append(f"{key}: unknown setup {setup!r}; defined setups are {sorted(setups)}")
    table1 = experiments["table1"]
    # Per-setup maps are checked only for the listed setups: an overlay that narrows
    # `setups` keeps the merged entries of the others, which are simply unused.
    for key in ("gu_k", "seeds"):
        missing = [s for s in table1["setups"] if s not in table1[key]]
        if missing:
            messages.append(f"experiments.table1.{key}: no value for setup(s) {missing}")
    if messages:
        return messages
    for setup_name in table1["setups"]:
        setup = setups[setup_name]
        k = table1["gu_k"][setup_name]
        n_blocks = blocks_of(setup["arch"])
        steps = total_steps(config, setup_name)
        if k * n_blocks > steps:
            messages.append(
                f"experiments.table1.gu_k.{setup_name}: k={k} with {n_blocks} blocks unfreezes the last "
                f"block at step {k * n_blocks}, after the run ends at step {steps}; use k <= {steps // n_blocks}"
            )
    for setup_name in experiments["probes"]["setups"]:
        n_blocks = blocks_of(setups[setup_name]["arch"])
        for k in experiments["probes"]["k_values"]:
            if k * n_blocks > total_steps(config, setup_name):
                messages.append(
                    f"experiments.probes.k_values: k={k} never finishes unfreezing {setup_name} "
                    f"within {total_steps(config, setup_name)} steps"
                )
    for name, dataset in config["datasets"].items():
        offline = dataset.get("offline")
        if dataset["source"] == "offline" and name == "mnist" and offline:
            total = offline.get("train_size", 0) + offline.get("test_size", 0)
            if total > 1797:
                messages.append(
                    f"datasets.mnist.offline: train_size + test_size = {total} exceeds the 1797 "
                    "handwritten digits bundled with scikit-learn"
                )
    return messages


def _setup_references(node, key: str):
    """Every (key path, setup name) under a ``setup:`` or ``setups:`` key, at any depth."""
    if isinstance(node, dict):
        for name, value in node.items():
            path = f"{key}.{name}"
            if name == "setup" and isinstance(value, str):
                yield path, value
            elif name == "setups" and isinstance(value, list):
                yield from ((path, item) for item in value if isinstance(item, str))
            else:
                yield from _setup_references(value, path)


def validate_params(config: dict[str, Any]) -> None:
    """Raise :class:`ParamsError` listing every problem, each as ``key: reason``."""
    messages = _non_finite_numbers(config) + _schema_errors(config)
    if not messages:
        messages = _semantic_errors(config)
    if messages:
        raise ParamsError("invalid params.yaml:\n  " + "\n  ".join(messages))
