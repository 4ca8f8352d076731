"""Run ids encode every parameter; shared runs resolve to one id; the paper's grid is complete."""

from __future__ import annotations

import copy

import pytest

from earlyphase import runs
from earlyphase.experiments import all_runs, experiment_runs


def test_table1_grid_has_the_papers_seed_counts(default_params):
    table1 = experiment_runs(default_params, "table1")
    per_setup = {}
    for run, _ in table1:
        per_setup[run.setup] = per_setup.get(run.setup, 0) + 1
    # 4 rows per column; seeds 6/4/4/4
    assert per_setup == {"mnist-resnet18": 24, "cifar10-resnet18": 16, "cifar100-resnet18": 16, "cifar10-vgg11": 16}
    assert len({run.run_id for run, _ in table1}) == len(table1)


def test_run_ids_are_deterministic_and_readable(default_params):
    first = runs.resolve_run(default_params, "cifar10-resnet18", 0, gu_k=250)
    again = runs.resolve_run(copy.deepcopy(default_params), "cifar10-resnet18", 0, gu_k=250)
    assert first.run_id == again.run_id
    assert first.run_id.startswith("cifar10-resnet18/lr0.1-gu_k250-")
    assert first.run_id.endswith("/seed0")


def test_every_parameter_changes_the_run_path(default_params):
    base = runs.resolve_run(default_params, "cifar10-resnet18", 0).run_id
    changed = []
    for key, value in [("lr", 0.2), ("width", 0.5), ("momentum", 0.5), ("batch_size", 64), ("augment", False),
                       ("weight_decay", 1e-4), ("epochs", 100)]:
        params = copy.deepcopy(default_params)
        params["setups"]["cifar10-resnet18"][key] = value
        changed.append(runs.resolve_run(params, "cifar10-resnet18", 0).run_id)
    params = copy.deepcopy(default_params)
    params["datasets"]["cifar10"]["source"] = "offline"
    changed.append(runs.resolve_run(params, "cifar10-resnet18", 0).run_id)
    params = copy.deepcopy(default_params)
    params["training"]["log_every"] = 7
    changed.append(runs.resolve_run(params, "cifar10-resnet18", 0).run_id)
    assert base not in changed
    assert len(set(changed)) == len(changed)
    # The seed is the last path component, not part of the hash: seeds of one variant group together.
    seed1 = runs.resolve_run(default_params, "cifar10-resnet18", 1).run_id
    assert seed1.rsplit("/", 1)[0] == base.rsplit("/", 1)[0]


def test_probe_settings_only_change_probed_runs(default_params):
    params = copy.deepcopy(default_params)
    params["probe"]["rho"] = 0.05
    unprobed = runs.resolve_run(params, "mnist-resnet18", 0).run_id
    assert unprobed == runs.resolve_run(default_params, "mnist-resnet18", 0).run_id
    assert (runs.resolve_run(params, "mnist-resnet18", 0, probe=True).run_id
            != runs.resolve_run(default_params, "mnist-resnet18", 0, probe=True).run_id)


def test_shared_baselines_are_one_run(default_params):
    table1_ids = {run.run_id for run, _ in experiment_runs(default_params, "table1")}
    figure1_ids = {run.run_id for run, _ in experiment_runs(default_params, "figure1")}
    baseline = runs.resolve_run(default_params, "cifar10-resnet18", 0).run_id
    assert baseline in table1_ids and baseline in figure1_ids
    everything = all_runs(default_params)
    from earlyphase.experiments import EXPERIMENTS

    listed = sum(len(experiment_runs(default_params, name)) for name in EXPERIMENTS)
    assert len(everything) < listed


def test_k_grid_spans_one_to_total_steps_over_blocks(default_params):
    grid = runs.k_grid(default_params, "cifar10-resnet18", 8, [750])
    k_max = runs.total_steps(default_params, "cifar10-resnet18") // 5
    assert grid[0] == 1 and grid[-1] == k_max == 15640
    assert 750 in grid
    assert grid == sorted(set(grid))
    ratios = [b / a for a, b in zip(grid, grid[1:], strict=False) if b != 750 and a != 750]
    assert max(ratios) / min(ratios) < 1.5  # roughly geometric


def test_block_counts_come_from_the_models():
    from earlyphase.models import build_model

    # the primary paper's partitions: ResNet-18 stem + 4 stages, VGG-11's 8 convolutions
    for arch, count in {"resnet18": 5, "vgg11": 8, "simple_cnn": 4}.items():
        model = build_model(arch, 10, 3, width=0.125)
        assert runs.blocks_of(arch) == len(model.block_names) == count, arch
    with pytest.raises(ValueError, match="unknown arch"):
        runs.blocks_of("resnet50")
