"""The eta* checkpoint: the best point of the Fisher experiment's LR grid by validation
accuracy (never test accuracy), chosen from the grid runs' records after they finished, and
the runs it adds at exactly eta*/10."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from earlyphase.experiments import fisher, fisher_table1
from earlyphase.selection.eta_star import choose_eta_star

# Synthetic grid result: final validation accuracy per (lr scale, seed); None = diverged.
GRID = {0.1: [60.0, 62.0], 0.316: [70.0, 71.0], 1.0: [74.0, 75.0], 3.16: [76.0, 74.0], 10.0: [None, 90.0]}
# Test accuracy that disagrees with validation everywhere: its best point is the smallest LR.
TEST_ACC = {0.1: 95.0, 0.316: 80.0, 1.0: 70.0, 3.16: 65.0, 10.0: 50.0}


def _grid_runs(setup_lr: float = 0.01) -> pd.DataFrame:
    rows = []
    for scale, accs in GRID.items():
        for seed, acc in enumerate(accs):
            rows.append({"row": "grid", "lr": setup_lr * scale, "lr_scale": scale, "seed": seed,
                         "status": "diverged" if acc is None else "completed",
                         "val_acc": float("nan") if acc is None else acc,
                         "id_acc": float("nan") if acc is None else TEST_ACC[scale], "ood_acc": 50.0})
    return pd.DataFrame(rows)


def test_eta_star_follows_validation_accuracy_where_test_accuracy_disagrees():
    runs = _grid_runs()
    by_test = runs[runs["status"] == "completed"].groupby("lr_scale")["id_acc"].mean().idxmax()
    assert by_test == 0.1  # test accuracy would pick the smallest LR
    choice = choose_eta_star(runs)
    assert choice["lr_scale"] == 10.0 and choice["split"] == "validation"
    assert "validation" in choice["rule"] and "never the test set" in choice["rule"]
    # raising test accuracy anywhere changes nothing; raising validation accuracy does
    runs.loc[runs["lr_scale"] == 1.0, "id_acc"] = 99.9
    assert choose_eta_star(runs)["lr_scale"] == 10.0
    runs.loc[runs["lr_scale"] == 1.0, "val_acc"] = 99.9
    assert choose_eta_star(runs)["lr_scale"] == 1.0


def test_records_without_validation_accuracy_are_refused_not_ranked_by_test():
    runs = _grid_runs()
    with pytest.raises(ValueError, match="no validation accuracy.*never on the test set"):
        choose_eta_star(runs.drop(columns="val_acc"))
    runs.loc[(runs["lr_scale"] == 0.1) & (runs["seed"] == 0), "val_acc"] = float("nan")  # one run without
    with pytest.raises(ValueError, match="1 completed LR-grid run"):
        choose_eta_star(runs)


def test_the_checkpoint_picks_the_best_mean_over_seeds():
    choice = choose_eta_star(_grid_runs())
    # 10.0 has one completed seed at 90 and one diverged: its mean (90) is over completed runs
    assert choice["lr_scale"] == 10.0 and choice["eta_star"] == pytest.approx(0.1)
    grid = {round(g["lr_scale"], 3): g for g in choice["grid"]}
    assert grid[10.0]["n_diverged"] == 1 and grid[3.16]["val_mean"] == 75.0
    assert grid[3.16]["id_mean"] == TEST_ACC[3.16]  # recorded beside it, not used


def test_a_fully_diverged_point_is_never_chosen_and_ties_go_to_the_smaller_lr():
    runs = _grid_runs()
    runs.loc[runs["lr_scale"] == 10.0, ["status", "val_acc", "id_acc"]] = ["diverged", float("nan"), float("nan")]
    assert choose_eta_star(runs)["lr_scale"] == 3.16  # 75.0 beats 74.5
    runs.loc[runs["lr_scale"] == 1.0, "val_acc"] = 75.0
    assert choose_eta_star(runs)["lr_scale"] == 1.0  # a tie at 75.0: the smaller LR
    runs["status"], runs["val_acc"], runs["id_acc"] = "diverged", float("nan"), float("nan")
    with pytest.raises(ValueError, match="no completed LR-grid run"):
        choose_eta_star(runs)


def test_the_runs_after_the_checkpoint_are_at_eta_star_over_ten(default_params):
    setup_lr = default_params["setups"][default_params["experiments"]["fisher"]["setup"]]["lr"]
    runs = _grid_runs(setup_lr)
    runs.loc[runs["lr_scale"] == 10.0, ["status", "val_acc", "id_acc"]] = ["diverged", float("nan"), float("nan")]
    choice = choose_eta_star(runs)
    assert choice["lr_scale"] == 3.16
    small = fisher_table1.runs_after_eta_star(default_params, choice["lr_scale"])
    assert small and all(r.config["lr"] == pytest.approx(choice["eta_star"] / 10, rel=1e-12) for r, _ in small)
    assert choice["eta_star"] / 10 != pytest.approx(setup_lr * 0.1)  # not the fixed reference/10


def _fake_run(root, run_id: str, scale: float, seed: int, accuracy: float | None):
    final = root / run_id / "final"
    final.mkdir(parents=True)
    final.joinpath("config.json").write_text(json.dumps({
        "setup": "cifar10-simplecnn-noaug", "data": {"dataset": "cifar10"}, "arch": "simple_cnn",
        "optimizer": "sgd", "lr": 0.01 * scale, "lr_scale": scale, "gu_k": None, "seed": seed, "total_steps": 10}))
    final.joinpath("status.json").write_text(json.dumps(
        {"status": "diverged" if accuracy is None else "completed", "diverged_at": 3 if accuracy is None else None}))
    eval_path = root / run_id / "eval.parquet"
    val = float("nan") if accuracy is None else accuracy
    pd.DataFrame({"split": ["id", "val", "ood"], "accuracy": [TEST_ACC[scale], val, 40.0]}).to_parquet(eval_path)
    return {"run_id": run_id, "final_dir": str(final), "eval_path": str(eval_path), "row": "grid"}


def test_the_checkpoint_command_writes_the_choice(tmp_path):
    manifest = [_fake_run(tmp_path, f"lr{scale}-seed{seed}", scale, seed, acc)
                for scale, accs in GRID.items() for seed, acc in enumerate(accs)]
    out = tmp_path / "eta_star.json"
    result = subprocess.run([sys.executable, "-m", "earlyphase", "choose-eta-star", "--manifest",
                             json.dumps(manifest), "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    choice = json.loads(out.read_text())
    assert choice["lr_scale"] == 10.0 and choice["grid_runs"] == sorted(e["run_id"] for e in manifest)
    assert choice["split"] == "validation"  # the evaluation's split "val", not its test accuracy


def test_the_checkpoint_output_names_the_grid(default_params):
    tag = fisher.grid_tag(default_params)
    assert len(tag) == 8 and tag == fisher.grid_tag(default_params)
    other = {**default_params, "experiments": {**default_params["experiments"],
                                               "fisher": {**default_params["experiments"]["fisher"], "seeds": [0]}}}
    assert fisher.grid_tag(other) != tag  # another grid, another choice file


def test_cost_counts_the_runs_the_checkpoint_will_add(default_params):
    from earlyphase.operations.cost import StepCosts, estimate, format_report

    tallies = estimate(default_params, ["fisher_table1", "fisher_onset", "all"], StepCosts(None))
    grid = {r.run_id for r, _ in fisher.grid_runs(default_params)}
    later = {r.run_id for r, _ in fisher_table1.runs_after_eta_star(default_params, 1.0)}  # eta* assumed = reference
    assert tallies["fisher_table1"].runs == grid | later
    spec = default_params["experiments"]["fisher"]
    # the Baseline at the assumed eta*/10 is a grid run; the penalties are new
    assert tallies["fisher_table1"].unknown_eta_runs == len(spec["penalties"]) * len(spec["seeds"])
    assert later <= tallies["all"].runs
    assert "runs at eta*/10" in format_report(tallies, StepCosts(None))
    # the fixed-LR mode: the same runs, known before training
    fixed = {**default_params, "experiments": {**default_params["experiments"], "fisher": {**spec,
                                                                                      "small_lr_from": "reference"}}}
    static = estimate(fixed, ["fisher_table1"], StepCosts(None))["fisher_table1"]
    assert static.runs == tallies["fisher_table1"].runs and static.unknown_eta_runs == 0


def test_table_and_onset_figure_read_the_runs_at_eta_star_over_ten(tmp_path):
    from earlyphase.report import fisher_onset as onset_report
    from earlyphase.report import fisher_table1 as table_report

    grid = _grid_runs()
    small = pd.DataFrame([{"row": row, "penalty": penalty, "onset_epoch": onset, "lr": 0.01, "lr_scale": 1.0,
                           "seed": 0, "status": "completed", "id_acc": acc, "ood_acc": 40.0,
                           "small_lr_from": "eta_star", "run_id": f"{row}{onset}"}
                          for row, penalty, onset, acc in (("Baseline", None, None, 71.0), ("FP", "fisher", 0, 79.0),
                                                           ("GP", "gp", 0, 75.0), ("GPx", "gpx", 0, 75.5),
                                                           ("GPr", "gpr", 0, 79.5), ("FP onset", "fisher", 4, 73.0))])
    runs = pd.concat([grid.assign(run_id=[f"g{i}" for i in range(len(grid))]), small], ignore_index=True)
    table = table_report.fisher_table(runs, pd.DataFrame()).set_index("column")
    assert table.loc["eta*", "lr"] == pytest.approx(0.1) and table.loc["Baseline", "id_mean"] == 71.0
    assert (table.loc[["Baseline", "FP", "GP", "GPx", "GPr"], "lr"] == 0.01).all()
    table_report.render([runs.assign(validation_fraction=0.1), pd.DataFrame()], tmp_path / "t.tex")
    tex = (tmp_path / "t.tex").read_text()
    assert "0.01 $= \\eta^*/10$" in tex
    # the caption names the split eta* was chosen on, and prints the grid's validation/test accuracy
    assert "best mean validation accuracy, on a validation split of 10\\% of the training set" in tex
    assert "never the test set" in tex and "0.1: 90.00/50.00" in tex
    summary = onset_report.plot_onset(runs, tmp_path / "onset.pdf")
    assert list(summary["onset_epoch"]) == [0, 4] and (tmp_path / "onset.png").exists()


def test_the_dag_trains_the_grid_then_the_checkpoint_adds_the_rest(tmp_path, smoke_params, copy_repo):
    """Before the checkpoint has run, a dry run of the table trains only the grid."""
    import re

    copy_repo(tmp_path)
    result = subprocess.run([sys.executable, "-m", "snakemake", "figures/fisher_table1.tex", "-n", "--cores", "1",
                             "--configfile", "config/smoke.yaml", "--quiet", "rules"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M))
    grid = len(fisher.grid_runs(smoke_params))
    assert counts["choose_eta_star"] == "1"
    assert counts["train"] == counts["evaluate"] == str(grid)
