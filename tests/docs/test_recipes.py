"""The three recipes of docs/extending.md, followed as written, build with the smoke config.

One copy of the repository gets every marked code block of the artifact (``lr_sweep``), probe
(``logit_norm``) and intervention (``label_smoothing``) recipes (:mod:`.recipes`), plus one
experiment module of this test's own that asks for a probed run with and without label
smoothing. One Snakemake call then builds the artifact's figure and the probe table of those
runs; one Python process prints ``cost lr_sweep`` for the default and the smoke parameters.
When the page and the code drift apart a step does not apply, the build fails, or a result
below is missing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from .recipes import apply_steps, recipe_steps

pytestmark = pytest.mark.slow  # informational: CI (plain `pytest -q`) runs it; ~100 CPU-seconds

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "extending.md"
RECIPES = ("lr_sweep", "logit_norm", "label_smoothing")
GUARD_S = 1200  # a hung build only; never an assertion about speed

# Not a recipe step: the runs the probe and intervention checks read. Both are probed with the
# `probe` block (whose list the probe recipe extends) and differ only in label smoothing.
CHECK_RUNS = '''"""Runs of tests/docs/test_recipes.py: one probed smoke run, with and without label smoothing."""

from earlyphase.runs import resolve_run

CONFIG_KEY = "lr_sweep"  # configured with the artifact recipe's section
EVALUATED = False


def runs(config):
    probe = {"window": 5, "points": 128}  # records at steps 0 and 5
    return [(resolve_run(config, "cifar10-simplecnn", 0, lr_scale=10.0, steps=10, probe=probe, **extra), {})
            for extra in ({}, {"label_smoothing": 0.1})]
'''

# Not a recipe step: sizes over config/smoke.yaml, so that one build stays short (the recipe's
# own smoke block is what `cost` reads below).
SIZES = """datasets:
  cifar10:
    offline: {test_size: 100}  # fewer training images would end the smoke GU runs before k*L
    ood: {severities: [1]}
experiments:
  lr_sweep: {seeds: [0]}
"""

COST = """from earlyphase.cli import main
main(["cost", "lr_sweep"])
print("-- smoke --", flush=True)
main(["cost", "lr_sweep", "--overlay", "config/smoke.yaml"])
"""


@dataclass(frozen=True)
class Built:
    root: Path
    cost_default: str
    cost_smoke: str


@pytest.fixture(scope="module")
def built(tmp_path_factory, copy_repo) -> Built:
    root = copy_repo(tmp_path_factory.mktemp("recipes"))
    for name in RECIPES:
        apply_steps(recipe_steps(DOC, name), root)
    (root / "src/earlyphase/experiments/recipe_check_runs.py").write_text(CHECK_RUNS)
    (root / "recipe_sizes.yaml").write_text(SIZES)
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    # the cost report reads no result: it runs beside the build (Snakemake plans on one core first)
    with subprocess.Popen([sys.executable, "-c", COST], cwd=root, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as cost:
        build = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "figures/lr_sweep.pdf",
                                "results/tables/recipe_check_runs_log-probes.parquet",
                                "--configfile", "config/smoke.yaml", "recipe_sizes.yaml"],
                               cwd=root, env=env, capture_output=True, text=True, timeout=GUARD_S)
        cost_out, cost_err = cost.communicate(timeout=GUARD_S)
    assert cost.returncode == 0, cost_err[-3000:]
    assert build.returncode == 0, (build.stdout + build.stderr)[-5000:]
    default, smoke = cost_out.split("-- smoke --")
    return Built(root, default, smoke)


def _cost_runs(report: str, target: str) -> int:
    """The runs column of ``target``'s first row (the counts table) of a cost report."""
    for line in report.splitlines():
        words = line.split()
        if words and words[0] == target:
            return int(words[1])
    raise AssertionError(f"no row for {target} in the cost report:\n{report}")


def test_the_artifact_recipe_builds_its_figure_and_counts_its_runs(built):
    pdf, png = built.root / "figures/lr_sweep.pdf", built.root / "figures/lr_sweep.png"
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 1000
    assert png.read_bytes().startswith(b"\x89PNG")
    runs = pd.read_parquet(built.root / "results/tables/lr_sweep_runs.parquet")
    assert sorted(runs["lr_scale"]) == [0.1, 1.0]  # the smoke block's scales (one seed here)
    assert (runs["status"] == "completed").all() and runs["ood_acc"].map(math.isfinite).all()
    # the doc's numbers: 4 scales x 3 seeds by default, 2 x 2 in the smoke block
    assert _cost_runs(built.cost_default, "lr_sweep") == 12
    assert _cost_runs(built.cost_smoke, "lr_sweep") == 4
    readme = (built.root / "README.md").read_text().split("\n## Artifacts\n", 1)[1].split("\n## ", 1)[0]
    assert "| `figures/lr_sweep.{pdf,png}` |" in readme


def _check_runs(built) -> pd.DataFrame:
    return pd.read_parquet(built.root / "results/tables/recipe_check_runs_log-probes.parquet")


def test_the_probe_recipe_records_its_column(built):
    probes = _check_runs(built)
    assert probes["run_id"].nunique() == 2 and sorted(set(probes["step"])) == [0, 5]
    assert "logit_norm" in probes.columns
    assert probes["logit_norm"].map(math.isfinite).all() and (probes["logit_norm"] > 0).all()


def test_the_intervention_recipe_smooths_the_loss_of_the_run_that_asks(built):
    run_ids = sorted(set(_check_runs(built)["run_id"]))
    smoothed = [run_id for run_id in run_ids if "-ls0.1-" in run_id]
    assert len(smoothed) == 1, run_ids
    (plain,) = set(run_ids) - set(smoothed)
    final = {run_id: built.root / "results/runs" / run_id / "final" for run_id in run_ids}
    assert json.loads((final[smoothed[0]] / "config.json").read_text())["label_smoothing"] == 0.1
    assert "label_smoothing" not in json.loads((final[plain] / "config.json").read_text())
    losses = {run_id: pd.read_parquet(final[run_id] / "train_log.parquet")["loss"].tolist() for run_id in run_ids}
    assert len(losses[plain]) == len(losses[smoothed[0]]) == 2
    # same seed, data and batches: only the smoothed loss's gradient separates the two runs
    assert all(abs(a - b) > 1e-6 for a, b in zip(losses[plain], losses[smoothed[0]], strict=True)), losses
