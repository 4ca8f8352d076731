"""Run grids of the companion-paper experiments (seeds 002-004): what each artifact trains."""

from __future__ import annotations

from earlyphase.experiments import experiment_runs, phase_diagram, uv_model
from earlyphase.runs import steps_per_epoch, total_steps


def test_fisher_table_runs_grid_and_penalties_at_the_small_lr(default_params):
    spec = default_params["experiments"]["fisher"]
    entries = experiment_runs(default_params, "fisher_table1")
    grid = [r for r, labels in entries if labels["row"] == "grid"]
    assert len(grid) == len(spec["lr_scales"]) * len(spec["seeds"])
    setup_lr = default_params["setups"][spec["setup"]]["lr"]
    spe = steps_per_epoch(default_params, spec["setup"])
    for run, labels in entries:
        assert run.config["lr_schedule"]["milestones"] == [150 * spe, 225 * spe]
        assert run.config["probe"]["probes"] == ["fisher_trace"]
        if labels["row"] != "grid":
            assert run.config["lr"] == setup_lr * spec["small_lr_scale"]
            assert run.config["penalty"]["alpha"] == spec["penalties"][labels["penalty"]]
            assert run.config["penalty"]["every"] == 10 and run.config["penalty"]["onset_step"] == 1
    # the Baseline is a grid run: shared, not trained twice
    assert any(r.config["lr_scale"] == spec["small_lr_scale"] for r in grid)


def test_fisher_onset_sweep_in_steps_and_shares_the_grid(default_params):
    spec = default_params["experiments"]["fisher"]
    spe = steps_per_epoch(default_params, spec["setup"])
    entries = experiment_runs(default_params, "fisher_onset")
    onsets = sorted({r.config["penalty"]["onset_step"] for r, lab in entries if lab["row"] == "FP onset"})
    assert onsets == [e * spe for e in spec["onset_epochs"]]
    table_ids = {r.run_id for r, _ in experiment_runs(default_params, "fisher_table1")}
    grid_ids = {r.run_id for r, lab in entries if lab["row"] == "grid"}
    assert grid_ids <= table_ids


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
    uv = uv_model.jobs(smoke_params)
    assert len(uv) == len(smoke_params["experiments"]["uv_model"]["widths"])
    assert all(job["cs"][0] == 1.0 for job in uv.values())
