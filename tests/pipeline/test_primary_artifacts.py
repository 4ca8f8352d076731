"""Run grids, report frames and cost model of the primary paper's remaining artifacts
(Table 2, stabilization table, Figures 2/3, appendix figures), without training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from earlyphase.experiments import experiment_runs
from earlyphase.experiments.stabilization import chosen_runs, k_max, random_k_values
from earlyphase.experiments.stabilization_probes import probe_run
from earlyphase.interventions import build_interventions
from earlyphase.operations.cost import StepCosts, estimate, format_report
from earlyphase.report.probe_dynamics import normalized_curves
from earlyphase.report.table2 import table2_frame
from earlyphase.report.table_stabilization import render_latex, stabilization_frame
from earlyphase.runs import steps_per_epoch, total_steps


def test_table2_baselines_are_table1_runs_and_switches_are_right(default_params):
    t1 = {r.run_id for r, _ in experiment_runs(default_params, "table1")}
    entries = experiment_runs(default_params, "table2")
    lr = [(r, lab) for r, lab in entries if lab["part"] == "lr_switch"]
    assert {lab["row"] for _, lab in lr} == {"lr_d", "0.1·lr_d", "lr_l2h", "lr_h2l"}
    for run, lab in lr:
        if lab["row"] in ("lr_d", "0.1·lr_d"):
            assert run.run_id in t1  # trained once, shared with Table 1
    l2h = next(r for r, lab in lr if lab["row"] == "lr_l2h").config
    schedule = next(iv for iv in build_interventions(l2h) if hasattr(iv, "lr_at"))
    assert schedule.lr_at(1) == pytest.approx(0.01) and schedule.lr_at(200) == pytest.approx(0.01)
    assert schedule.lr_at(201) == pytest.approx(0.1)
    h2l = next(r for r, lab in lr if lab["row"] == "lr_h2l").config
    schedule = next(iv for iv in build_interventions(h2l) if hasattr(iv, "lr_at"))
    assert schedule.lr_at(200) == pytest.approx(0.1) and schedule.lr_at(201) == pytest.approx(0.01)


def test_delayed_fisher_penalty_runs(default_params):
    fp = [(r, lab) for r, lab in experiment_runs(default_params, "table2") if lab["part"] == "fisher_penalty"]
    per_epoch = steps_per_epoch(default_params, "cifar10-simplecnn")
    assert per_epoch == 391
    for run, lab in fp:
        c = run.config
        assert c["arch"] == "simple_cnn" and c["momentum"] == 0.9 and c["batch_size"] == 128
        assert c["total_steps"] == 300 * 391
        assert c["lr_schedule"] == {"kind": "multistep", "lr": 0.001, "milestones": [150 * 391, 225 * 391],
                                    "gamma": 0.1}
        if lab["row"] == "no FP":
            assert c["penalty"] is None
        else:
            assert c["penalty"]["alpha"] == 0.01 and c["penalty"]["every"] == 10
            assert c["penalty"]["onset_step"] == lab["k"] + 1
            penalty = [iv for iv in build_interventions(c) if hasattr(iv, "is_active")][0]
            assert not penalty.is_active(lab["k"]) or lab["k"] == 0
            assert penalty.is_active(lab["k"] + 1) and penalty.is_recompute_step(lab["k"] + 1)
    assert len({r.run_id for r, _ in fp}) == len(fp)


def test_stabilization_grid(default_params):
    for setup in default_params["experiments"]["stabilization"]["setups"]:
        head = probe_run(default_params, setup).config
        assert head["total_steps"] == 2000 and head["gu_k"] > head["total_steps"]  # head only throughout
        ks = random_k_values(default_params, setup)
        assert len(ks) == 10 and max(ks) <= min(800, k_max(default_params, setup))
        chosen = chosen_runs(default_params, setup, "fisher_trace", 230)
        assert [r.config["gu_k"] for r, _ in chosen] == [230] * 4
        assert total_steps(default_params, setup) == chosen[0][0].config["total_steps"]


def _runs(rows):
    base = {"status": "completed", "diverged_at": None, "seed": 0}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_table2_frame_puts_paper_values_beside_ours():
    runs = _runs([
        {"part": "lr_switch", "setup": "cifar10-resnet18", "row": "lr_l2h", "k": 200, "seed": s,
         "id_acc": 90.0 + s, "ood_acc": 70.0} for s in (0, 1)
    ] + [{"part": "fisher_penalty", "setup": "cifar10-simplecnn", "row": "FP, delay 250", "k": 250,
          "id_acc": 80.0, "ood_acc": 60.0}])
    table = table2_frame(runs)
    row = table[table["row"] == "lr_l2h"].iloc[0]
    assert row["paper_id"] == 93.35 and row["paper_ood"] == 72.89
    assert row["id_mean"] == 90.5 and row["delta_ood"] == pytest.approx(70.0 - 72.89)
    assert np.isnan(table[table["row"] == "FP, delay 250"].iloc[0]["paper_ood"])


def test_stabilization_frame_win_rate_and_paper_values():
    rows = [{"setup": "cifar100-resnet18", "role": "standard", "metric": None, "gu_k": None,
             "id_acc": 70.0, "ood_acc": 45.0}]
    rows += [{"setup": "cifar100-resnet18", "role": "random", "metric": None, "gu_k": k,
              "id_acc": 70.0, "ood_acc": ood} for k, ood in [(10, 44.0), (20, 46.0), (30, 44.5), (40, 47.0)]]
    rows += [{"setup": "cifar100-resnet18", "role": "chosen", "metric": "fisher_trace", "gu_k": 230,
              "chosen_k": 230, "stabilized": True, "id_acc": 70.5, "ood_acc": 45.5}]
    table = stabilization_frame(_runs(rows))
    chosen = table[table["metric"] == "fisher_trace"].iloc[0]
    assert chosen["win_rate"] == 50.0 and chosen["wr_n"] == 4  # beats 44.0 and 44.5
    assert chosen["paper_k"] == 230 and chosen["paper_ood"] == 45.82 and chosen["paper_wr"] == 83.0
    assert chosen["random_k"] == "10,20,30,40"
    # the caption bounds the random k by those drawn (a preset scales the paper's 800 down)
    assert "random $k \\le 40$" in render_latex(table) and "800" not in render_latex(table)


def test_stabilization_frame_reports_the_k_chosen_under_each_scaling():
    rows = [{"setup": "cifar10-resnet18", "role": "random", "metric": None, "gu_k": 10, "id_acc": 90.0,
             "ood_acc": 70.0}]
    rows += [{"setup": "cifar10-resnet18", "role": "chosen", "metric": metric, "gu_k": k, "chosen_k": k,
              "stabilized": True, "id_acc": 91.0, "ood_acc": 71.0}
             for metric, k in (("worst_sharpness", 120), ("worst_sharpness_adaptive", 340))]
    table = stabilization_frame(_runs(rows)).set_index("metric")
    assert table.loc["worst_sharpness", "k"] == 120 and table.loc["worst_sharpness_adaptive", "k"] == 340
    assert table.loc["worst_sharpness_adaptive", "method"] == "GU-S_worst (adaptive)"
    # the paper does not say which c it used: its value stands beside both
    assert table.loc["worst_sharpness", "paper_k"] == table.loc["worst_sharpness_adaptive", "paper_k"] == 230


@pytest.mark.parametrize("params", ["default_params", "smoke_params"])
def test_probe_runs_record_both_scalings_inline(params, request):
    config = request.getfixturevalue(params)
    for run, _ in experiment_runs(config, "probes"):
        both = {"avg_sharpness", "worst_sharpness", "avg_sharpness_adaptive", "worst_sharpness_adaptive"}
        assert both <= set(run.config["probe"]["probes"])
    assert set(config["experiments"]["stabilization"]["metrics"]) >= {"worst_sharpness", "worst_sharpness_adaptive",
                                                                      "avg_sharpness", "avg_sharpness_adaptive"}


def test_appendix_figure_shows_the_scaling_figures_2_and_3_do_not(tmp_path):
    from earlyphase.probes.registry import DEFAULT_SCALING
    from earlyphase.report import appendix_sharpness_scaling
    from earlyphase.report.probe_dynamics import METRICS

    assert DEFAULT_SCALING == "unit" and set(METRICS) == {"fisher_trace_norm", "avg_sharpness", "worst_sharpness"}
    assert appendix_sharpness_scaling.OTHER_SCALING == "adaptive"
    probes = pd.DataFrame({"setup": "cifar10-resnet18", "arch": "resnet18", "status": "completed",
                           "gu_k": [None, None, 5, 5], "step": [0, 10, 0, 10],
                           "avg_sharpness_adaptive": [1.0, 3.0, 2.0, 5.0],
                           "worst_sharpness_adaptive": [2.0, 4.0, 3.0, 9.0]})
    appendix_sharpness_scaling.render([probes], tmp_path / "appendix_sharpness_scaling.pdf")
    assert (tmp_path / "appendix_sharpness_scaling.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="worst_sharpness_adaptive"):
        appendix_sharpness_scaling.render([probes.drop(columns=["avg_sharpness_adaptive", "worst_sharpness_adaptive"])],
                                          tmp_path / "x.pdf")


def test_table1_shows_the_mnist_sgd_variant_when_configured(default_params, tmp_path):
    import copy

    from earlyphase.params import validate_params
    from earlyphase.report.table1 import write_table1

    variant = default_params["setups"]["mnist-resnet18-sgd"]
    assert variant["optimizer"] == "sgd" and default_params["setups"]["mnist-resnet18"]["optimizer"] == "adamw"
    assert {k: v for k, v in variant.items() if k != "optimizer"} == \
        {k: v for k, v in default_params["setups"]["mnist-resnet18"].items() if k != "optimizer"}
    spec = default_params["experiments"]["table1"]
    assert "mnist-resnet18-sgd" not in spec["setups"]  # the default Table 1 is the seed's
    config = copy.deepcopy(default_params)
    table1 = config["experiments"]["table1"]
    table1["setups"].append("mnist-resnet18-sgd")
    table1["gu_k"]["mnist-resnet18-sgd"], table1["seeds"]["mnist-resnet18-sgd"] = 250, [0]
    validate_params(config)
    sgd_runs = [r for r, _ in experiment_runs(config, "table1") if r.setup == "mnist-resnet18-sgd"]
    assert len(sgd_runs) == 4 and {r.config["optimizer"] for r in sgd_runs} == {"sgd"}

    rows = [{"setup": setup, "dataset": "mnist", "optimizer": opt, "row": "lr_d", "id_acc": 99.0, "ood_acc": 40.0}
            for setup, opt in (("mnist-resnet18", "adamw"), ("mnist-resnet18-sgd", "sgd"))]
    write_table1(_runs(rows), tmp_path / "t.tex")
    tex = (tmp_path / "t.tex").read_text()
    assert "MNIST ResNet-18 (SGD)" in tex and tex.count("\\textit{99.06}") == 2  # v1's value beside both
    caption = tex.split("\\caption{", 1)[1]
    assert "(arXiv v1) were trained with SGD" in caption and "Table 3 lists AdamW" in caption
    assert "ours: MNIST ResNet-18 AdamW, MNIST ResNet-18 (SGD) SGD" in caption
    write_table1(_runs(rows[:1]), tmp_path / "default.tex")
    assert "(SGD)" not in (tmp_path / "default.tex").read_text().split("\\caption{")[0]  # no variant column


def test_probe_curves_are_normalized_to_1_1000_per_setup():
    probes = pd.DataFrame({"setup": ["a"] * 4 + ["b"] * 2, "arch": "resnet18", "status": "completed",
                           "gu_k": [None, None, 5, 5, None, None], "step": [0, 10, 0, 10, 0, 10],
                           "avg_sharpness": [1.0, 3.0, 2.0, 5.0, 100.0, 200.0]})
    curves = normalized_curves(probes, "avg_sharpness")
    for _, group in curves.groupby("setup"):
        assert group["value"].min() == 1.0 and group["value"].max() == 1000.0


def test_cost_counts_runs_once_and_uses_a_gpu_measurement(smoke_params, tmp_path):
    costs = StepCosts(tmp_path / "missing.json")
    t = estimate(smoke_params, ["table1", "table2", "all"], costs)
    runs = experiment_runs(smoke_params, "table1")
    assert len(t["table1"].runs) == len(runs) == 32
    assert t["table1"].steps == sum(r.config["total_steps"] for r, _ in runs)
    assert t["table1"].runs <= t["all"].runs and t["table2"].runs & t["table1"].runs  # shared baselines
    assert t["all"].unknown_k_runs == 5 and t["all"].posthoc_probes == 8  # 5 metrics: sharpness under both c
    assert "default" in format_report(t, costs) and "WARNING" in format_report(t, costs)

    reference = tmp_path / "ref.json"
    reference.write_text(json.dumps({"schema": 1, "measurements": [{
        "device": "NVIDIA H100 80GB HBM3", "device_type": "cuda", "date": "2026-01-01", "mode": "fast",
        "train_step": [{"arch": "resnet18", "batch_size": 128, "width": 1.0, "seconds_per_step": 0.01}],
        "probe_point": []}]}))
    measured = StepCosts(reference)
    assert measured.step_seconds("resnet18", 128, 1.0) == pytest.approx(0.01)
    assert measured.step_seconds("resnet18", 64, 1.0) == pytest.approx(0.005)
    assert "H100" in format_report(estimate(smoke_params, ["table1"], measured), measured)


def test_figure1_labels_ticks_that_do_not_collide():
    from earlyphase.report.figure1 import labelled_ticks

    assert labelled_ticks([1, 3, 12, 38, 41, 142]) == {1, 3, 12, 38, 142}
    assert labelled_ticks([1, 2, 3]) == {1, 2, 3}
