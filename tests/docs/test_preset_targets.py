"""A preset brings its targets: ``snakemake --configfile config/<preset>.yaml`` builds the
artifacts the overlay names (``targets:``), not the whole paper; ``all`` still asks for
everything; without an overlay the default stays ``all``. Dry-run job counts (--forceall),
shared with the documented commands that say the same (tests/docs/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from earlyphase.experiments import ARTIFACTS, artifact_targets
from earlyphase.params import load_params

from .command_checks import job_counts

REPO = Path(__file__).resolve().parents[2]
# What Table 1 and Figure 1 on Fashion-MNIST take: 36 runs, each evaluated (tests/pipeline/test_laptop_preset.py).
LAPTOP_JOBS = {"prepare_clean": 1, "prepare_ood": 1, "train": 36, "evaluate": 36, "aggregate": 2, "table1": 1,
               "figure1": 1}


def _plan(checker, targets=(), configfiles=()) -> dict[str, int]:
    result = checker.dry_run(targets, configfiles)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return job_counts(result.stdout)


def test_the_laptop_preset_alone_plans_its_two_artifacts_only(checker):
    planned = _plan(checker, configfiles=["config/laptop.yaml"])
    assert planned == {**LAPTOP_JOBS, "claim_tests": 1, "claims": 1, "preset": 1}


def test_the_smoke_preset_alone_plans_table1_and_figure1_and_all_plans_every_artifact(checker):
    alone = _plan(checker, configfiles=["config/smoke.yaml"])
    assert alone["preset"] == 1 and alone["table1"] == 1 and alone["figure1"] == 1
    smoke = load_params(REPO / "params.yaml", REPO / "config" / "smoke.yaml")
    others = {a.name for a in ARTIFACTS.values() if a.enabled(smoke)} - {"table1", "figure1"}
    assert others and not others & set(alone)  # figure2, table2, ... are not planned
    everything = _plan(checker, ["all"], ["config/smoke.yaml"])
    assert everything["all"] == 1 and "preset" not in everything
    assert others <= set(everything) and everything["train"] > alone["train"]


def test_without_an_overlay_the_default_target_is_still_all(checker):
    default = load_params(REPO / "params.yaml")
    plan = _plan(checker)
    assert plan["all"] == 1 and "preset" not in plan
    built = {name for name, a in ARTIFACTS.items() if f"{default['paths']['figures']}/{a.target}" in
             artifact_targets(default)}
    assert built <= set(plan)  # every configured artifact's report job


def test_a_preset_naming_an_unknown_artifact_is_refused_with_the_nearest_name():
    from earlyphase.params import ParamsError, validate_params

    broken = load_params(REPO / "params.yaml", REPO / "config" / "laptop.yaml")
    broken["targets"] = ["table1", "figure_1"]
    try:
        validate_params(broken)
    except ParamsError as err:
        assert "targets.1: unknown artifact 'figure_1' (did you mean 'figure1'?)" in str(err)
    else:
        raise AssertionError("an unknown artifact in targets was accepted")
