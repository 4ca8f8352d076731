"""Run grids of the companion-paper experiments (seeds 002-004): what each artifact trains."""

from __future__ import annotations

import copy
import math

import pytest

from earlyphase.experiments import experiment_runs, fisher, fisher_onset, fisher_table1, phase_diagram, uv_model
from earlyphase.runs import steps_per_epoch, total_steps


def _with_fisher(params: dict, **changes) -> dict:
    config = copy.deepcopy(params)
    config["experiments"]["fisher"].update(changes)
    return config


def test_fisher_grid_is_static_and_the_small_lr_runs_wait_for_eta_star(default_params):
    spec = default_params["experiments"]["fisher"]
    assert spec["small_lr_from"] == "eta_star"  # the paper's protocol is the default
    entries = experiment_runs(default_params, "fisher_table1")
    assert {labels["row"] for _, labels in entries} == {"grid"}  # known before training: the grid only
    assert len(entries) == len(spec["lr_scales"]) * len(spec["seeds"])
    spe = fisher.steps_per_epoch(default_params)  # 45,000 training images: 10 % held out for eta*
    assert spe == 352
    for run, _ in entries:
        assert run.config["lr_schedule"]["milestones"] == [150 * spe, 225 * spe]
        assert run.config["probe"]["probes"] == ["fisher_trace"]


@pytest.mark.parametrize("eta_scale", [0.1, 0.316, 3.16, 10.0])
def test_small_lr_runs_are_at_exactly_a_tenth_of_the_chosen_eta_star(default_params, eta_scale):
    spec = default_params["experiments"]["fisher"]
    setup_lr = default_params["setups"][spec["setup"]]["lr"]
    eta_star = setup_lr * eta_scale  # the grid run the checkpoint chose
    grid_ids = {r.run_id for r, _ in fisher.grid_runs(default_params)}
    entries = fisher_table1.runs_after_eta_star(default_params, eta_scale)
    assert [lab["row"] for lab in (e[1] for e in entries)].count("Baseline") == len(spec["seeds"])
    assert {lab["row"] for _, lab in entries} == {"Baseline", "FP", "GP", "GPx", "GPr"}
    for run, labels in entries:
        assert run.config["lr"] == pytest.approx(eta_star / 10, rel=1e-12)
        assert run.config["lr_schedule"]["lr"] == run.config["lr"]
        if labels["row"] == "Baseline":
            assert run.config["penalty"] is None and run.config["probe"]["probes"] == ["fisher_trace"]
            # eta*/10 on the grid: the Baseline is that grid run, trained once
            assert (run.run_id in grid_ids) == any(math.isclose(s, eta_scale / 10) for s in spec["lr_scales"])
        else:
            assert run.config["penalty"]["alpha"] == spec["penalties"][labels["penalty"]]
            assert run.config["penalty"]["every"] == 10 and run.config["penalty"]["onset_step"] == 1
    # with the fixed-LR option nothing waits for the checkpoint
    assert fisher_table1.runs_after_eta_star(_with_fisher(default_params, small_lr_from="reference"), eta_scale) == []


def test_fixed_lr_mode_keeps_the_static_dag(default_params):
    config = _with_fisher(default_params, small_lr_from="reference")
    spec = config["experiments"]["fisher"]
    setup_lr = config["setups"][spec["setup"]]["lr"]
    entries = experiment_runs(config, "fisher_table1")
    small = [(r, lab) for r, lab in entries if lab["row"] != "grid"]
    assert {lab["row"] for _, lab in small} == {"Baseline", "FP", "GP", "GPx", "GPr"}
    assert {r.config["lr"] for r, _ in small} == {setup_lr * spec["small_lr_scale"]}
    grid_ids = {r.run_id for r, lab in entries if lab["row"] == "grid"}
    assert {r.run_id for r, lab in small if lab["row"] == "Baseline"} <= grid_ids  # shared, not trained twice


def test_fisher_onset_sweep_starts_after_e_epochs_like_table2_delays(default_params):
    spec = default_params["experiments"]["fisher"]
    spe = fisher.steps_per_epoch(default_params)  # of the training images without the validation split
    entries = fisher_onset.runs_after_eta_star(default_params, 1.0)
    onsets = sorted({r.config["penalty"]["onset_step"] for r, lab in entries if lab["row"] == "FP onset"})
    # E epochs done, the penalty from the next step: Table 2's delay d starts at step d + 1
    assert onsets == [e * spe + 1 for e in spec["onset_epochs"]]
    table2 = [(r, lab) for r, lab in experiment_runs(default_params, "table2") if lab["part"] == "fisher_penalty"]
    assert {r.config["penalty"]["onset_step"] - lab["k"] for r, lab in table2 if lab["k"] is not None} == {1}
    from_start = [r for r, lab in entries if lab["row"] == "FP"]
    table_fp = {r.run_id for r, lab in fisher_table1.runs_after_eta_star(default_params, 1.0) if lab["row"] == "FP"}
    assert from_start and {r.run_id for r in from_start} == table_fp  # shared with Table 1's FP
    assert {lab["penalty"] for _, lab in entries} == {None, "fisher"}  # Baseline and FP only
    static = {r.run_id for r, _ in experiment_runs(default_params, "fisher_onset")}
    assert static == {r.run_id for r, _ in fisher.grid_runs(default_params)}


def test_warm_start_runs_add_the_pretraining_steps(default_params):
    spec = default_params["experiments"]["warm_start"]
    main = total_steps(default_params, spec["setup"])
    spe = steps_per_epoch(default_params, spec["setup"])
    entries = experiment_runs(default_params, "warm_start")
    assert len(entries) == len(spec["pretrain_epochs"]) + len(spec["reset_variants"])
    for run, labels in entries:
        warm = run.config.get("warm_start")
        pre = warm["pretrain_steps"] if warm else 0
        assert (pre == 0) == (labels["pretrain_epochs"] == 0)
        assert pre == labels["pretrain_epochs"] * (25000 // 128 + 1)  # ceil(25000 / 128) steps per epoch
        assert run.config["total_steps"] == pre + main
        log = run.config["test_log"]
        assert log["every"] == spe and log["start"] + (spec["last_epochs"] - 1) * spe == run.config["total_steps"]


def test_phase_diagram_jobs_encode_their_parameters(default_params, smoke_params):
    jobs = phase_diagram.jobs(default_params)
    spec = default_params["experiments"]["phase_diagram"]
    assert len(jobs) == (len(spec["widths"]) * len(spec["depths"]) * len(spec["parameterizations"])
                         * len(spec["seeds"]))
    assert all(f"-d{j['depth']}-w{j['width']}-" in tag and tag.endswith(f"seed{j['seed']}") for tag, j in jobs.items())
    # a changed setting changes the path (hash), an unchanged one keeps it
    changed = {**default_params, "experiments": {**default_params["experiments"],
                                                 "phase_diagram": {**spec, "steps": spec["steps"] + 1}}}
    assert not set(phase_diagram.jobs(changed)) & set(jobs)
    assert set(phase_diagram.jobs(default_params)) == set(jobs)
    # sharpness_every at its default (1) leaves the tags as they were; 0 (lambda_0 only) changes them
    for every, same in ((1, True), (0, False)):
        option = {**default_params, "experiments": {**default_params["experiments"],
                                                    "phase_diagram": {**spec, "sharpness_every": every}}}
        assert (set(phase_diagram.jobs(option)) == set(jobs)) is same
    uv = uv_model.jobs(smoke_params)
    assert len(uv) == len(smoke_params["experiments"]["uv_model"]["widths"])
    assert all(job["cs"][0] == 1.0 for job in uv.values())
