"""Bad input fails early with a message naming the thing and what to do, and leaves no
partial output: params (malformed, contradictory, unknown names), data files (missing,
truncated), resume checkpoints (corrupt), unknown names in a run config."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from earlyphase.cli import main
from earlyphase.training.trainer import CHECKPOINT_NAME, Trainer

from .helpers import REPO, run_cli, tiny_config, train_args


def _validate(capsys, *overlays) -> tuple[int, str]:
    args = ["validate", "--params", str(REPO / "params.yaml")]
    for overlay in overlays:
        args += ["--overlay", str(overlay)]
    code = main(args)
    return code, capsys.readouterr().err


def _overlay(tmp_path, data: dict, name="overlay.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_malformed_yaml_names_the_file_and_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("setups:\n  cifar10-resnet18: {lr: 0.1\n  epochs: 3\n")  # unclosed flow map
    code, err = _validate(capsys, bad)
    assert code != 0
    assert str(bad) in err and "not valid YAML" in err and "line" in err


def test_contradictory_params_name_the_key_and_the_fix(tmp_path, capsys):
    overlay = _overlay(tmp_path, {"experiments": {"table1": {"gu_k": {"cifar10-vgg11": 100000}}}})
    code, err = _validate(capsys, overlay)
    assert code != 0
    assert "experiments.table1.gu_k.cifar10-vgg11" in err and "use k <=" in err


@pytest.mark.parametrize(("mutation", "key", "name"), [
    ({"setups": {"cifar10-vgg11": {"arch": "vgg99"}}}, "setups.cifar10-vgg11.arch", "vgg99"),
    ({"setups": {"cifar10-vgg11": {"dataset": "svhn"}}}, "setups.cifar10-vgg11.dataset", "svhn"),
    ({"probe": {"probes": ["fisher_trace", "curvature9"]}}, "probe.probes.1", "curvature9"),
    ({"datasets": {"svhn": {"source": "offline", "ood": {"source": "generated",
                                                         "corruptions": "all", "severities": [1]}}}},
     "datasets", "svhn"),
])
def test_unknown_names_are_rejected_by_the_schema(tmp_path, capsys, mutation, key, name):
    code, err = _validate(capsys, _overlay(tmp_path, mutation))
    assert code != 0
    assert key in err and name in err


@pytest.mark.parametrize(("change", "message"), [
    ({"arch": "resnet99"}, "unknown arch 'resnet99'; valid names"),
    ({"probe": {"probes": ["fisher_trace", "curvature9"]}}, "unknown probe(s) ['curvature9']"),
    ({"optimizer": "lion"}, "unknown optimizer 'lion'"),
])
def test_unknown_names_in_a_run_config_fail_the_train_command(tmp_path, capsys, smoke_params,
                                                               tiny_clean_dir, change, message):
    """A hand-edited --config JSON (the rules always pass validated ones) fails just as clearly."""
    config = tiny_config(smoke_params, probe=True)
    for key, value in change.items():
        config[key] = {**config[key], **value} if isinstance(value, dict) else value
    run_dir = tmp_path / "run"
    code = main(train_args(config, run_dir, tiny_clean_dir)[3:])
    assert code != 0
    assert message in capsys.readouterr().err
    assert not run_dir.exists()


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_missing_or_truncated_data_fails_the_train_command(tmp_path, capsys, smoke_params,
                                                           tiny_clean_dir, damage):
    data = tmp_path / "clean"
    shutil.copytree(tiny_clean_dir, data)
    victim = data / "train_images.npy"
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    run_dir = tmp_path / "run"
    code = main(train_args(tiny_config(smoke_params), run_dir, data)[3:])
    err = capsys.readouterr().err
    assert code != 0
    assert str(victim) in err and "rebuild it with `snakemake" in err
    assert ("missing data file" if damage == "missing" else "truncated") in err
    assert not run_dir.exists()


def test_corrupt_checkpoint_fails_the_process_naming_the_file(tmp_path, smoke_params, tiny_clean_dir):
    config = tiny_config(smoke_params)
    run_dir = tmp_path / "run"
    trainer = Trainer(config, run_dir, tiny_clean_dir, progress=False)
    for _ in range(2):
        trainer.train_step()
    trainer.save_checkpoint()
    checkpoint = run_dir / CHECKPOINT_NAME
    size = checkpoint.stat().st_size
    with open(checkpoint, "r+b") as handle:  # a real checkpoint cut short (disk full, bad copy)
        handle.truncate(size // 2)

    result = run_cli(train_args(config, run_dir, tiny_clean_dir))
    assert result.returncode != 0
    assert f"cannot read resume checkpoint {checkpoint}" in result.stderr
    assert "Delete it to restart this run" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (run_dir / "final").exists() and not (run_dir / ".partial-final").exists()
    assert checkpoint.stat().st_size == size // 2  # left for the user to inspect, not replaced


def test_a_checkpoint_of_another_config_is_refused(tmp_path, capsys, smoke_params, tiny_clean_dir):
    config = tiny_config(smoke_params)
    run_dir = tmp_path / "run"
    trainer = Trainer(config, run_dir, tiny_clean_dir, progress=False)
    trainer.train_step()
    trainer.save_checkpoint()
    other = {**config, "lr": config["lr"] * 2}
    assert main(train_args(other, run_dir, tiny_clean_dir)[3:]) != 0
    err = capsys.readouterr().err
    assert str(run_dir / CHECKPOINT_NAME) in err and "different config" in err
    assert not (run_dir / "final").exists()


def test_data_damage_is_detected_not_silently_trained_on(tmp_path, capsys, smoke_params,
                                                         tiny_clean_dir):
    """Labels that do not match the images (a half-copied folder) are refused too."""
    data = tmp_path / "clean"
    shutil.copytree(tiny_clean_dir, data)
    labels = np.load(data / "train_labels.npy")
    np.save(data / "train_labels.npy", labels[:-10])
    code = main(train_args(tiny_config(smoke_params), tmp_path / "run", data)[3:])
    assert code != 0
    assert str(data / "train_labels.npy") in capsys.readouterr().err


def _probe_calls():
    import torch

    from earlyphase.probes import fisher_trace, hessian_max_eigenvalue, worst_case_sharpness

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    y = torch.randint(0, 3, (8,))

    def gen():
        return torch.Generator().manual_seed(0)

    return {
        "worst_case_sharpness": lambda x: worst_case_sharpness(model, x, y, batch_size=4, generator=gen(), n_iters=2),
        "hessian_max_eigenvalue": lambda x: hessian_max_eigenvalue(model, x, y, batch_size=4, generator=gen(),
                                                                   n_iter=2),
        "fisher_trace": lambda x: fisher_trace(model, x, y, batch_size=4, generator=gen()),
    }


@pytest.mark.parametrize("probe", ["worst_case_sharpness", "hessian_max_eigenvalue", "fisher_trace"])
def test_a_probe_under_inference_mode_names_itself_and_the_fix(probe):
    import torch

    call = _probe_calls()[probe]
    x = torch.randn(8, 5)
    with torch.inference_mode(), pytest.raises(RuntimeError) as err:
        call(x)
    assert str(err.value).startswith(f"{probe}: called under torch.inference_mode()")
    assert "call it outside inference_mode" in str(err.value)
    with torch.inference_mode():
        frozen = x.clone()  # an inference tensor, used outside the mode: refused as clearly
    with pytest.raises(ValueError, match=rf"^{probe}: the inputs were created under torch.inference_mode"):
        call(frozen)
    with torch.no_grad():  # no_grad is fine: the probes enable gradients where they need them
        assert call(x) is not None


def test_posthoc_points_below_the_metric_batch_are_refused_naming_the_key(tmp_path, capsys):
    code, err = _validate(capsys, _overlay(tmp_path, {"experiments": {"appendix_sharpness": {"points": 100}}}))
    assert code != 0
    assert "experiments.appendix_sharpness.points: 100 is smaller than the metric batch probe.batch_size (256)" in err
