"""The calibrated cost model: packing factor, start-up, checkpoints, GPU-hours and the
wall clock on G GPUs, from a reference file written the way the benchmark writes it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from earlyphase.cli import main
from earlyphase.experiments import experiment_runs
from earlyphase.operations import cost
from earlyphase.operations.cost import StepCosts, checkpoint_bytes, estimate


def _reference(tmp_path, archs=("resnet18", "vgg11")):
    path = tmp_path / "throughput_reference.json"
    steps = [{"arch": a, "batch_size": 128, "width": 1.0, "seconds_per_step": 0.004} for a in archs]
    packs = [{"arch": a, "shape": "cifar", "batch_size": 128, "width": 1.0, "k": k, "images_per_s": 1.0,
              "ratio_vs_k1": ratio, "ratio_vs_reference": 1.0, "startup_seconds": 12.0}
             for a in archs for k, ratio in ((1, 1.0), (2, 1.6), (4, 2.5))]
    path.write_text(json.dumps({"schema": 1, "measurements": [
        {"device": "NVIDIA H100 80GB HBM3", "device_type": "cuda", "date": "2027-01-02", "mode": "full",
         "train_step": steps, "probe_point": [], "pack": []},
        {"device": "NVIDIA H100 80GB HBM3", "device_type": "cuda", "date": "2027-01-02", "mode": "full",
         "train_step": [], "probe_point": [], "pack": packs}]}))
    return path


def test_gpu_hours_follow_the_measured_packing_factor(default_params, tmp_path):
    reference = _reference(tmp_path)
    solo, packed, between = (estimate(default_params, ["table1"], StepCosts(reference, pack=k))["table1"]
                             for k in (1, 4, 3))
    assert packed.seconds_train == pytest.approx(solo.seconds_train / 2.5)  # f(4) = 2.5
    assert between.seconds_train == pytest.approx(solo.seconds_train / 1.6)  # K = 3: f(2), no extrapolation
    assert packed.hours < between.hours < solo.hours
    assert solo.runs == packed.runs and solo.steps == packed.steps  # the work is the same
    # Start-up is measured (12 s) and shared by the K slots of a GPU; evaluation is not packed.
    runs = len(solo.runs)
    assert solo.seconds_overhead >= 12.0 * runs and packed.seconds_overhead < solo.seconds_overhead
    assert packed.seconds_eval == solo.seconds_eval
    assert not solo.unpacked_archs and not packed.unpacked_archs
    # A run packed 4 to a GPU runs 4 / 2.5 times longer than alone.
    assert packed.longest_job_s > solo.longest_job_s


def test_unmeasured_packing_assumes_no_gain_and_says_so(smoke_params, tmp_path):
    costs = StepCosts(_reference(tmp_path, archs=("resnet18",)), pack=4)
    tally = estimate(smoke_params, ["table1"], costs)["table1"]
    assert tally.unpacked_archs == {"vgg11"}
    assert costs.pack_factor("vgg11", 4) == (1.0, False) and costs.pack_factor("resnet18", 4) == (2.5, True)
    with pytest.raises(ValueError, match="runs per GPU"):
        StepCosts(None, pack=0)


def test_checkpoints_by_wall_clock_and_by_steps_are_counted(smoke_params, tmp_path):
    config = {**smoke_params, "training": {**smoke_params["training"], "checkpoint_every": 0,
                                           "checkpoint_minutes": 1e-3}}  # every 0.06 s of a run
    costs = StepCosts(_reference(tmp_path))
    tally = estimate(config, ["table1"], costs)["table1"]
    runs = [run.config for run, _ in experiment_runs(config, "table1")]
    expected = sum(int(c["total_steps"] * 0.004 * (c["batch_size"] * c["width"] ** 2 / 128) // 0.06)
                   for c in runs)
    assert tally.checkpoints == pytest.approx(expected, abs=len(runs))  # floor of each run's wall / interval
    by_steps = {**smoke_params, "training": {**smoke_params["training"], "checkpoint_minutes": None}}
    counted = estimate(by_steps, ["table1"], costs)["table1"].checkpoints
    every = smoke_params["training"]["checkpoint_every"]
    assert counted == sum((c["total_steps"] - 1) // every for c in runs)
    # A checkpoint holds the fp32 weights and one buffer per weight for SGD with momentum
    # (none without), two for Adam/AdamW.
    from earlyphase.runs import build_run_model

    for c in runs:
        buffers = {"sgd": 1 if c["momentum"] else 0, "adamw": 2, "adam": 2}[c["optimizer"]]
        n = sum(p.numel() for p in build_run_model(c).parameters())
        assert checkpoint_bytes(c) == 4 * n * (1 + buffers)
    assert tally.checkpoint_bytes == pytest.approx(
        sum(checkpoint_bytes(r) * (r["total_steps"] * 0.004 * (r["batch_size"] * r["width"] ** 2 / 128)
                                   // 0.06) for r in runs), rel=0.2)


def test_cost_cli_prints_gpu_hours_and_wall_clock_on_g_gpus(tmp_path, capsys):
    reference = _reference(tmp_path)
    out = tmp_path / "cost.txt"
    assert main(["cost", "table1", "all", "--overlay", "config/smoke.yaml", "--reference", str(reference),
                 "--gpus", "2", "--pack", "4", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text == out.read_text()
    assert "NVIDIA H100 80GB HBM3 (measured 2027-01-02" in text
    assert "K = 4 training run(s) per GPU" in text and "G = 2 GPU(s)" in text
    assert "wall h (G=2)" in text and "start-up 12 s per training job" in text
    counted, hours = [line for line in text.splitlines() if line.startswith("table1 ")]
    assert len(counted.split()) == 8 and len(hours.split()) == 7  # the target and 13 numbers in all
    too_wide = [line for line in text.splitlines() if len(line) > cost.REPORT_WIDTH]
    assert cost.REPORT_WIDTH == 100 and not too_wide, too_wide


def test_cost_all_fits_100_columns_even_without_a_reference_file(capsys):
    # No measurement: the long default-cost warning and device note must wrap too.
    assert main(["cost", "all", "--overlay", "config/smoke.yaml", "--reference", "no/such/file.json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("WARNING: no GPU measurement found") for line in lines)
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)


def test_the_cost_model_names_no_experiment():
    """Each experiment's estimate lives with its declaration (``Artifact.extra_costs``); the
    cost model reads the registry and knows no experiment module."""
    tree = ast.parse(Path(cost.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "earlyphase.experiments" in imported
    assert not [m for m in imported if m.startswith("earlyphase.experiments.")]


def test_device_name_cpu_reads_the_cpu_measurement(tmp_path, capsys):
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps({"measurements": [
        {"device": "CPU: a test core", "device_type": "cpu", "date": "2026-12-07", "torch": "x", "mode": "quick",
         "train_step": [{"arch": "resnet18", "batch_size": 128, "width": 0.125, "seconds_per_step": 0.1}]}]}))
    assert main(["cost", "table1", "--overlay", "config/smoke.yaml", "--reference", str(reference),
                 "--device-name", "CPU"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("per-step costs: CPU: a test core")
