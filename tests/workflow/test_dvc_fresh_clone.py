"""DVC in a fresh clone, where nothing has been built, behaves as the README's section DVC
says: ``dvc status`` lists the three build stages and not the published run (its dvc.lock
entry is committed and matches the folder), ``dvc metrics show``, ``dvc plots show`` and
``dvc exp show`` give the published laptop run's Table 1 and Figure 1, ``dvc params diff``
prints nothing. The clone is a real ``git clone`` of a commit of this working tree."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LAPTOP = "results/published/laptop"
BUILD_STAGES = ("data", "runs", "paper")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd.parent), "PYTHONPATH": str(REPO / "src"),
           "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.org",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.org"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def _ok(args: list[str], cwd: Path) -> str:
    result = _run(args, cwd)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory, copy_repo) -> Path:
    root = tmp_path_factory.mktemp("fresh")
    origin = copy_repo(root / "origin")
    for args in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "this tree"]):
        _ok(args, origin)
    _ok(["git", "clone", "-q", str(origin), str(root / "clone")], root)
    return root / "clone"


def _readme_dvc_section() -> str:
    text = (REPO / "README.md").read_text()
    return text.split("\n## DVC\n", 1)[1].split("\n## ", 1)[0]


def test_status_lists_the_build_stages_and_not_the_published_run(clone):
    readme = _readme_dvc_section()
    result = _run(["dvc", "status", "--json"], clone)
    assert result.returncode == 0 and "It exits 0" in readme
    changed = json.loads(result.stdout)
    assert set(changed) == set(BUILD_STAGES)
    assert {"deleted"} == {state for stage in changed.values() for entry in stage if "changed outs" in entry
                           for state in entry["changed outs"].values()}
    assert _run(["dvc", "status", "-q"], clone).returncode == 1 and "`dvc status -q`: 1" in readme
    up_to_date = _ok(["dvc", "status", "published-laptop"], clone).strip()
    assert up_to_date == "Data and pipelines are up to date." and f"`{up_to_date}`" in readme


def test_metrics_show_prints_the_published_table1(clone):
    shown = json.loads(_ok(["dvc", "metrics", "show", "--json"], clone))
    metrics = shown[""]["data"][f"{LAPTOP}/metrics/table1.json"]["data"]
    table = pd.read_csv(REPO / LAPTOP / "table1.csv")
    assert len(table) == 4
    for _, row in table.iterrows():
        cell = metrics[row["setup"]][row["row"]]
        assert cell["id_mean"] == pytest.approx(row["id_mean"]) and cell["ood_mean"] == pytest.approx(row["ood_mean"])
        assert cell["n_seeds"] == row["n_seeds"] == 4
    text = _run(["dvc", "metrics", "show"], clone)
    assert "fmnist-resnet18.lr_d + GU.id_mean" in text.stdout and "88.1875" in text.stdout
    assert "failed to load some metrics" in text.stderr and "failed to load some metrics" in _readme_dvc_section()


def test_plots_show_draws_the_published_figure1(clone):
    shown = json.loads(_ok(["dvc", "plots", "show", "--json"], clone))
    with open(REPO / LAPTOP / "plots" / "figure1.csv", newline="") as handle:
        points = list(csv.DictReader(handle))
    assert len(points) == 12  # 6 k x 2 learning rates
    drawn = {name: plots for name, plots in shown["data"].items() if name.startswith("Published laptop run")}
    assert len(drawn) == 2
    for plots in drawn.values():
        values = plots[0]["content"]["data"]["values"]
        assert [{key: point[key] for key in points[0]} for point in values] == points
    image = shown["data"][f"{LAPTOP}/figure1.png"][0]
    assert image["type"] == "image"


def test_exp_show_lists_the_published_metrics_and_params_diff_prints_nothing(clone):
    rows = json.loads(_ok(["dvc", "exp", "show", "--json"], clone))
    workspace = next(row for row in rows if row["rev"] == "workspace")["data"]
    metrics = workspace["metrics"][f"{LAPTOP}/metrics/table1.json"]["data"]
    assert metrics["fmnist-resnet18"]["0.1·lr_d + GU"]["id_mean"] == pytest.approx(82.125)
    assert workspace["params"]["config/laptop.yaml"]["data"]["experiments"]["table1"]["gu_k"] == {"fmnist-resnet18": 38}
    assert _ok(["dvc", "params", "diff"], clone) == ""
    every = _ok(["dvc", "params", "diff", "--all"], clone)
    assert "config/laptop.yaml" in every and "experiments.table1.gu_k.fmnist-resnet18" in every
