"""The step-cost lookup of the cost model: rows matched by input shape, the FCN's own row,
gradient-penalty runs costed with their extra passes, and a warning for every default."""

from __future__ import annotations

import json

import pytest

from earlyphase.interventions.gradient_penalty import extra_step_equivalents, penalty_steps
from earlyphase.operations.cost import StepCosts, format_report, input_shape


def _row(arch, shape, seconds, batch=128, width=1.0):
    return {"arch": arch, "shape": "mnist" if shape == [1, 28, 28] else "cifar", "input_shape": shape,
            "batch_size": batch, "width": width, "seconds_per_step": seconds}


def _reference(tmp_path, rows, probes=(), device_type="cuda"):
    path = tmp_path / "throughput_reference.json"
    path.write_text(json.dumps({"schema": 1, "measurements": [
        {"device": "NVIDIA H100 80GB HBM3", "device_type": device_type, "date": "2027-01-02", "mode": "full",
         "train_step": list(rows), "probe_point": list(probes), "pack": []}]}))
    return path


def test_a_mnist_run_is_costed_from_the_mnist_row_not_the_cifar_one(tmp_path):
    costs = StepCosts(_reference(tmp_path, [_row("resnet18", [3, 32, 32], 0.006),
                                            _row("resnet18", [1, 28, 28], 0.004)]))
    assert costs.step_seconds("resnet18", 128, 1.0, (1, 28, 28)) == pytest.approx(0.004)
    assert costs.step_seconds("resnet18", 128, 1.0, (3, 32, 32)) == pytest.approx(0.006)
    assert costs.step_seconds("resnet18", 64, 0.5, (1, 28, 28)) == pytest.approx(0.004 * 64 * 0.25 / 128)
    assert costs.reshaped == set() and costs.defaulted == set() and costs.warnings() == []


def test_another_shapes_row_is_scaled_by_pixels_and_reported(tmp_path):
    costs = StepCosts(_reference(tmp_path, [_row("resnet18", [3, 32, 32], 0.006)]))
    assert costs.step_seconds("resnet18", 128, 1.0, (1, 28, 28)) == pytest.approx(0.006 * 28 * 28 / (32 * 32))
    (line,) = costs.warnings()
    assert "another input shape" in line and "resnet18 1x28x28 from 3x32x32" in line


def test_the_fcn_has_its_own_row_and_a_missing_row_is_a_warned_default(tmp_path):
    # The FCN row's width counts hidden units: only the batch scales it.
    costs = StepCosts(_reference(tmp_path, [_row("resnet18", [3, 32, 32], 0.006),
                                            _row("fcn", [1, 28, 28], 0.0008, batch=128, width=512)]))
    assert costs.step_seconds("fcn", 512, 1.0) == pytest.approx(0.0008 * 4)
    assert costs.defaulted == set()
    assert costs.step_seconds("vgg11", 128, 1.0, (3, 32, 32)) == pytest.approx(0.010)  # the default
    assert costs.defaulted == {"vgg11"}
    warning = costs.warnings()[0]
    assert warning.startswith("WARNING: no measured training step for vgg11") and "default" in warning
    assert " ".join(warning.split()) in " ".join(format_report({}, costs).split())  # wrapped at 100


def test_an_unknown_architecture_is_an_error_not_priced_as_resnet18(tmp_path):
    costs = StepCosts(_reference(tmp_path, [_row("resnet18", [3, 32, 32], 0.006)]))
    with pytest.raises(ValueError, match=r"unknown architecture 'vit_tiny'.*known: fcn, resnet18, simple_cnn, vgg11"):
        costs.step_seconds("vit_tiny", 128, 1.0, (3, 32, 32))
    with pytest.raises(ValueError, match="unknown architecture 'vit_tiny'"):
        StepCosts(None).step_seconds("vit_tiny", 128, 1.0)
    assert costs.defaulted == set()  # nothing was priced from a default


def test_input_shape_comes_from_the_data_set_and_channels():
    assert input_shape({"data": {"dataset": "mnist"}, "in_channels": 1}) == (1, 28, 28)
    assert input_shape({"data": {"dataset": "cifar100"}, "in_channels": 3}) == (3, 32, 32)
    assert input_shape({"data": {"dataset": "synthetic"}}) is None


def test_a_penalty_run_costs_its_extra_passes_on_the_steps_that_compute_it(tmp_path):
    penalty = {"kind": "fisher", "alpha": 0.01, "every": 10, "onset_step": 1, "every_mode": "reuse"}
    assert penalty_steps(penalty, 100) == 10 and penalty_steps({**penalty, "onset_step": 95}, 100) == 1
    assert penalty_steps({**penalty, "onset_step": 101}, 100) == 0
    assert extra_step_equivalents(penalty, 100) == pytest.approx(20.0)  # 10 recomputes x 2 steps
    assert extra_step_equivalents({**penalty, "kind": "gpx", "every": 1}, 30) == pytest.approx(70.0)
    costs = StepCosts(_reference(tmp_path, [_row("simple_cnn", [3, 32, 32], 0.002)]))
    plain = {"arch": "simple_cnn", "batch_size": 128, "width": 1.0, "total_steps": 100, "in_channels": 3,
             "data": {"dataset": "cifar10"}, "penalty": None}
    assert costs.run_seconds(plain) == pytest.approx(0.2)
    assert costs.run_seconds({**plain, "penalty": penalty}) == pytest.approx(0.002 * 120)


def test_cpu_measurements_are_read_only_when_asked_for(tmp_path):
    reference = _reference(tmp_path, [_row("resnet18", [3, 32, 32], 0.5)], device_type="cpu")
    assert StepCosts(reference).measurement is None
    costs = StepCosts(reference, device_type="cpu")
    assert costs.step_seconds("resnet18", 128, 1.0, (3, 32, 32)) == pytest.approx(0.5)
    assert "has no GPU measurement" in StepCosts(reference).note


def test_probe_rows_prefer_the_same_shape(tmp_path):
    probes = [{"arch": "resnet18", "shape": "cifar", "width": 1.0, "probe": "fisher_trace", "seconds": 2.0,
               "points": 1024}]
    costs = StepCosts(_reference(tmp_path, [_row("resnet18", [3, 32, 32], 0.006)], probes))
    assert costs.probe_seconds("resnet18", "fisher_trace", {}, 2048, 256, 1.0, (3, 32, 32)) == pytest.approx(4.0)
    mnist = costs.probe_seconds("resnet18", "fisher_trace", {}, 2048, 256, 1.0, (1, 28, 28))
    assert mnist == pytest.approx(4.0 * 28 * 28 / 1024)
    costs.probe_seconds("simple_cnn", "fisher_trace", {}, 2048, 256, 1.0, (3, 32, 32))
    assert "fisher_trace on simple_cnn" in " ".join(costs.warnings())
