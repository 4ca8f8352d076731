"""The artifact registry is the one list of artifacts: `rule all`, the report rules, the
cost model, the report command and the README table all follow it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from earlyphase import experiments as registry
from earlyphase.experiments import ARTIFACTS, Artifact, artifact_targets, enabled_artifacts
from earlyphase.operations.cost import StepCosts, cost_parts, estimate

REPO = Path(__file__).resolve().parents[2]


def _toy_render(tables, out, note=""):
    Path(out).write_text("toy\n")


def _toy_module() -> types.ModuleType:
    """An experiment module as a contributor would write it: runs, EVALUATED, ARTIFACTS."""
    from earlyphase.runs import resolve_run

    module = types.ModuleType("earlyphase.experiments.toy_sweep")
    module.CONFIG_KEY = "table1"  # reuses an existing params block, so no schema change here
    module.EVALUATED = True

    def runs(config):
        setup = config["experiments"]["table1"]["setups"][0]
        return [(resolve_run(config, setup, 0, lr_scale=0.37), {"row": "toy"})]

    module.runs = runs
    module.ARTIFACTS = (Artifact(name="toy_sweep", outputs={"pdf": "toy_sweep.pdf", "png": "toy_sweep.png"},
                                 shown=("png",), tables=("toy_sweep_runs.parquet",), config_key="table1",
                                 render=_toy_render, caption="**Toy.** A test artifact.", category="Test"),)
    return module


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setattr(registry, "EXPERIMENTS", dict(registry.EXPERIMENTS))
    monkeypatch.setattr(registry, "ARTIFACTS", dict(registry.ARTIFACTS))
    module = _toy_module()
    registry.register(module)
    return module


@pytest.mark.parametrize("params", ["default_params", "smoke_params"])
def test_cost_covers_every_artifact_of_rule_all(params, request):
    config = request.getfixturevalue(params)
    enabled = enabled_artifacts(config)
    assert {a.name for a in enabled} == set(ARTIFACTS)  # both configurations build every artifact
    tallies = estimate(config, [a.name for a in enabled] + ["all"], StepCosts(None))
    everything = tallies.pop("all")
    for name, tally in tallies.items():
        assert tally.runs or tally.jobs, f"cost counts nothing for {name}"
        assert tally.runs <= everything.runs, name
        assert tally.jobs <= everything.jobs, name
        assert tally.hours <= everything.hours + 1e-9, name
    # the companion papers are in `all` (they were once left out)
    fisher = {run.run_id for run, _ in registry.experiment_runs(config, "fisher_table1")}
    assert fisher and fisher <= everything.runs
    warm = {run.run_id for run, _ in registry.experiment_runs(config, "warm_start")}
    assert warm and warm <= everything.runs
    assert everything.jobs == tallies["phase_diagram"].jobs + tallies["uv_phase_diagram"].jobs > 0


def test_cost_all_is_the_union_of_the_enabled_artifacts(smoke_params):
    # the claims ledger is left out too: it judges the Fisher and warm-start claims, so it lists their run sets
    config = {**smoke_params, "experiments": {k: v for k, v in smoke_params["experiments"].items()
                                              if k not in ("fisher", "warm_start", "claims")}}
    parts = cost_parts(config)
    assert "fisher_table1" not in parts["all"] and "warm_start" not in parts["all"]
    assert parts["table_stabilization"] == ["stabilization_probes", "stabilization", "+chosen"]
    with pytest.raises(ValueError, match="unknown target"):
        estimate(config, ["no_such_artifact"], StepCosts(None))


def test_a_toy_artifact_appears_in_rule_all_and_cost(toy_registered, smoke_params):
    assert "figures/toy_sweep.pdf" in artifact_targets(smoke_params)
    assert "toy_sweep" in registry.EXPERIMENTS  # its runs are trained (all_runs)
    toy_run = toy_registered.runs(smoke_params)[0][0]
    assert toy_run.run_id in registry.all_runs(smoke_params)
    assert toy_run.run_id in registry.evaluated_run_ids(smoke_params)
    tallies = estimate(smoke_params, ["toy_sweep", "all"], StepCosts(None))
    assert tallies["toy_sweep"].runs == {toy_run.run_id}
    assert toy_run.run_id in tallies["all"].runs
    assert tallies["toy_sweep"].steps == toy_run.config["total_steps"]


def test_an_artifacts_cost_hook_is_counted_when_it_is_configured(toy_registered, smoke_params):
    """Work that is not a training run is priced by a hook the declaration carries; `cost`
    calls it only when the artifact's section is configured."""

    def toy_jobs(config, ledger):
        for _ in range(2):
            if ledger.count_job(("toy", 1)):  # the same job twice is counted once
                ledger.add_packed_job("fcn", 3600.0, 0.0)

    jobs_before = estimate(smoke_params, ["all"], StepCosts(None))["all"].jobs
    module = types.ModuleType("toy_jobs")
    module.ARTIFACTS = (Artifact(name="toy_jobs", outputs={"pdf": "toy_jobs.pdf"}, shown=("pdf",), tables=(),
                                 config_key="table1", render=_toy_render, caption="Toy.", category="Test",
                                 extra_costs={"toy_jobs": toy_jobs}),)
    registry.register(module)
    assert cost_parts(smoke_params)["toy_jobs"] == ["+toy_jobs"]
    tally = estimate(smoke_params, ["toy_jobs", "all"], StepCosts(None))
    assert (tally["toy_jobs"].jobs, tally["toy_jobs"].gpu_jobs) == (1, 1)
    assert tally["toy_jobs"].seconds_train == pytest.approx(3600.0)  # K = 1: f = 1
    assert tally["all"].jobs == jobs_before + 1  # `all` includes it
    unconfigured = {**smoke_params, "experiments": {k: v for k, v in smoke_params["experiments"].items()
                                                    if k != "table1"}}
    assert estimate(unconfigured, ["toy_jobs"], StepCosts(None))["toy_jobs"].jobs == 0


def test_an_extra_cost_name_belongs_to_one_artifact(toy_registered):
    clash = types.ModuleType("clash")
    clash.ARTIFACTS = (Artifact(name="clash", outputs={"pdf": "x.pdf"}, shown=(), tables=(), config_key="table1",
                                render=_toy_render, caption="", category="", extra_costs={"chosen": print}),)
    with pytest.raises(ValueError, match="extra cost 'chosen' of artifact 'clash' is declared by "
                                         "'table_stabilization' too"):
        registry.register(clash)


def test_registering_a_name_twice_is_an_error(toy_registered):
    clash = types.ModuleType("clash")
    clash.ARTIFACTS = (Artifact(name="toy_sweep", outputs={"pdf": "x.pdf"}, shown=(), tables=(),
                                config_key="table1", render=_toy_render, caption="", category=""),)
    with pytest.raises(ValueError, match="declared twice"):
        registry.register(clash)


def test_artifact_declarations_are_complete():
    for name, artifact in ARTIFACTS.items():
        assert artifact.name == name
        assert artifact.caption.strip() and artifact.category, name
        assert artifact.render.__module__.startswith("earlyphase.report."), name
        assert artifact.shown and set(artifact.shown) <= set(artifact.outputs), name
        assert registry.run_sets(artifact) or artifact.extra_costs, name
        for run_set in registry.run_sets(artifact):
            assert run_set in registry.EXPERIMENTS, (name, run_set)
    with pytest.raises(ValueError, match="shown outputs"):
        Artifact(name="bad", outputs={"pdf": "bad.pdf"}, shown=("png",), tables=(), config_key="x",
                 render=_toy_render, caption="", category="")


def test_report_command_renders_through_the_registry(toy_registered, tmp_path):
    import pandas as pd

    from earlyphase.cli import main

    table = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(table)
    assert main(["report", "toy_sweep", "--runs", str(table), "--out", str(tmp_path / "toy.pdf")]) == 0
    assert (tmp_path / "toy.pdf").read_text() == "toy\n"
    assert main(["report", "no_such_artifact", "--runs", str(table), "--out", str(tmp_path / "x.pdf")]) == 2


def _readme_artifact_targets() -> set[str]:
    """The figures/ targets of the README's artifact table (first path of each row)."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Artifacts\n", 1)[1].split("\n## ", 1)[0]
    targets = set()
    for row in section.splitlines():
        match = re.match(r"\| `figures/([\w]+)\.(?:\{(\w+),[^}]*\}|(\w+))`", row)
        if match:
            targets.add(f"{match.group(1)}.{match.group(2) or match.group(3)}")
    return targets


def test_readme_artifact_table_matches_the_registry():
    assert _readme_artifact_targets() == {artifact.target for artifact in ARTIFACTS.values()}


def test_snakefile_rule_all_and_report_rules_follow_the_registry():
    """A dry run of `all` on the smoke configuration has one report job per artifact.

    --forceall: the plan must not depend on what is already built in this checkout (after
    `make smoke`, Table 1 and Figure 1 are up to date and an ordinary dry run omits them)."""
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "all",
                             "--configfile", "config/smoke.yaml", "--quiet", "rules"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    table = re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal", result.stdout, re.S).group(1)
    counts = dict(line.split() for line in table.splitlines())
    for name in ARTIFACTS:
        assert counts.get(name) == "1", name


def test_a_toy_artifact_module_file_is_all_snakemake_needs(tmp_path):
    """In a copy of the repository, one new experiment module (with its declaration) adds a
    report rule and a `rule all` target, and a `cost` target."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:
        if (REPO / name).is_file() and name.split("/")[0] in ("Snakefile", "workflow", "src", "config", "params.yaml",
                                                              "bench"):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, tmp_path / name)
    (tmp_path / "src/earlyphase/experiments/toy_sweep.py").write_text('''"""Toy artifact (test)."""
from earlyphase.experiments.artifact import Artifact
from earlyphase.report import table1 as table1_report
from earlyphase.runs import resolve_run

CONFIG_KEY = "table1"
EVALUATED = True


def runs(config):
    setup = config["experiments"]["table1"]["setups"][0]
    return [(resolve_run(config, setup, 0, lr_scale=0.37), {"row": "toy"})]


ARTIFACTS = (Artifact(name="toy_sweep", outputs={"tex": "toy_sweep.tex", "csv": "toy_sweep.csv"}, shown=("csv",),
                      tables=("toy_sweep_runs.parquet",), config_key="table1", render=table1_report.render,
                      caption="Toy.", category="Test"),)
''')
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    dry = subprocess.run([sys.executable, "-m", "snakemake", "-n", "all", "--configfile", "config/smoke.yaml",
                          "--quiet", "rules"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = dict(line.split() for line in re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal",
                                                      dry.stdout, re.S).group(1).splitlines())
    assert counts["toy_sweep"] == "1" and counts["all"] == "1"
    cost = subprocess.run([sys.executable, "-m", "earlyphase", "cost", "toy_sweep", "--overlay", "config/smoke.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert cost.returncode == 0, cost.stderr[-3000:]
    assert re.search(r"^toy_sweep\s+1\s", cost.stdout, re.M), cost.stdout
