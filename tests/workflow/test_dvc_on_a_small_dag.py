"""DVC's own tools on the pipeline's outputs, as a DVC user would try them, on a small DAG in
a git copy of the repository (Table 1 with one column on CIFAR-10, Figure 1 with both
learning rates and the probe runs on MNIST; tiny offline data, a few steps):

- ``dvc repro``, then ``dvc metrics show`` lists Table 1's numbers as the CSV has them;
- ``dvc plots show`` writes HTML with Figure 1's series (each learning rate) and the probes;
- ``dvc exp run -S 'setups.cifar10-resnet18.lr=0.05'`` (with the smoke overlay, as the README
  says) retrains only Table 1's runs, and ``dvc exp show`` lists the changed param with its
  metrics beside the baseline's; ``dvc metrics diff`` shows what changed.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from earlyphase.params import load_params

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LR = "setups.cifar10-resnet18.lr"

pytestmark = pytest.mark.slow


def _params() -> dict:
    params = load_params(REPO / "params.yaml", REPO / "config" / "smoke.yaml")
    params["config_overlay"] = "config/smoke.yaml"
    for name in ("mnist", "cifar10"):
        params["datasets"][name]["offline"] = {"train_size": 256, "test_size": 64}
        params["datasets"][name]["ood"].update(severities=[1])
        params["datasets"][name]["ood"]["corruptions"] = params["datasets"][name]["ood"]["corruptions"][:1]
    params["training"].update(log_every=2, checkpoint_every=100)
    params["probe"].update(every=4, window=8, points=32, batch_size=32, n_draws=1, apgd_iters=1, eig_iters=2)
    experiments = params["experiments"]
    params["experiments"] = {
        "table1": {**experiments["table1"], "setups": ["cifar10-resnet18"], "lr_scales": [1.0],
                   "gu_k": {"cifar10-resnet18": 1}, "seeds": {"cifar10-resnet18": [0]}},
        "figure1": {**experiments["figure1"], "setups": ["mnist-resnet18"], "lr_scales": [1.0, 0.1],
                    "k_points": 2, "k_extra": [], "seeds": [0]},
        "probes": {**experiments["probes"], "setups": ["mnist-resnet18"], "k_values": [1], "seeds": [0]},
    }
    return params


# What the smoke overlay sets for the two setups (never the learning rate).
OVERLAY = {"setups": {name: {"width": 0.125, "epochs": 2, "batch_size": 32}
                      for name in ("mnist-resnet18", "cifar10-resnet18")}}


def _env(home: Path) -> dict:
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(REPO / "src"),
            "CUDA_VISIBLE_DEVICES": "", "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.org",
            "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.org"}


def _sh(args: list[str], repo: Path) -> str:
    result = subprocess.run(args, cwd=repo, capture_output=True, text=True, env=_env(repo.parent), timeout=900)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory, copy_repo) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("dvc") / "repo")
    (repo / "params.yaml").write_text(yaml.safe_dump(_params(), sort_keys=False))
    (repo / "config" / "smoke.yaml").write_text(yaml.safe_dump(OVERLAY))
    _sh(["git", "init", "-q"], repo)
    _sh(["git", "add", "-A"], repo)
    _sh(["git", "commit", "-qm", "small DAG"], repo)
    _sh(["dvc", "repro"], repo)
    _sh(["git", "add", "-A"], repo)
    _sh(["git", "commit", "-qm", "baseline results"], repo)
    return repo


def test_metrics_show_lists_table1s_numbers(dvc_repo):
    shown = json.loads(_sh(["dvc", "metrics", "show", "--json"], dvc_repo))
    metrics = next(iter(shown.values()))["data"]["results/metrics/table1.json"]["data"]
    table = pd.read_csv(dvc_repo / "figures" / "table1.csv")
    assert len(table) == 2
    for _, row in table.iterrows():
        cell = metrics["cifar10-resnet18"][row["row"]]
        assert cell["id_mean"] == pytest.approx(row["id_mean"]) and cell["ood_mean"] == pytest.approx(row["ood_mean"])
        assert cell["n_seeds"] == 1
    text = _sh(["dvc", "metrics", "show"], dvc_repo)
    assert "results/metrics/table1.json" in text and "cifar10-resnet18.lr_d.id_mean" in text


def test_plots_show_writes_html_with_figure1s_series(dvc_repo):
    _sh(["dvc", "plots", "show", "-o", "dvc_plots"], dvc_repo)
    html = (dvc_repo / "dvc_plots" / "index.html").read_text()
    with open(dvc_repo / "results" / "plots" / "figure1.csv", newline="") as handle:
        points = list(csv.DictReader(handle))
    assert {p["series"] for p in points} == {"lr_d", "0.1·lr_d"} and len(points) == 4  # 2 k x 2 learning rates
    for title in ("Figure 1, change in ID accuracy", "Figure 1, change in OOD accuracy", "tr(F) per trainable"):
        assert title in html
    for point in points:  # every point of both curves, as DVC embeds it in the page
        assert json.dumps(point)[:-1] in html
    assert '"type": "log"' in html and '"series": "GU k=1"' in html


def test_exp_run_with_a_changed_lr_shows_param_and_metrics(dvc_repo):
    before = set((dvc_repo / "results" / "runs" / "cifar10-resnet18").iterdir())
    mnist_before = set((dvc_repo / "results" / "runs" / "mnist-resnet18").rglob("final"))
    _sh(["dvc", "exp", "run", "-S", "config_overlay=config/smoke.yaml", "-S", f"{LR}=0.05"], dvc_repo)
    after = set((dvc_repo / "results" / "runs" / "cifar10-resnet18").iterdir())
    assert len(after - before) == 2 and before <= after  # Table 1's two runs at lr 0.05, kept old ones
    assert set((dvc_repo / "results" / "runs" / "mnist-resnet18").rglob("final")) == mnist_before

    rows = json.loads(_sh(["dvc", "exp", "show", "--json"], dvc_repo))
    found = {}

    def visit(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "params" in data and "metrics" in data and node.get("rev") != "workspace":
                lr = data["params"]["params.yaml"]["data"]["setups"]["cifar10-resnet18"]["lr"]
                found.setdefault(lr, data["metrics"]["results/metrics/table1.json"]["data"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(rows)
    assert set(found) == {0.1, 0.05}
    new = pd.read_csv(dvc_repo / "figures" / "table1.csv").set_index("row")
    assert found[0.05]["cifar10-resnet18"]["lr_d"]["id_mean"] == pytest.approx(new.loc["lr_d", "id_mean"])
    assert found[0.1]["cifar10-resnet18"]["lr_d"]["id_mean"] != pytest.approx(new.loc["lr_d", "id_mean"])
    table = _sh(["dvc", "exp", "show", "--no-pager", "--md"], dvc_repo)
    assert LR in table and "0.05" in table and "cifar10-resnet18.lr_d.id_mean" in table
    diff = _sh(["dvc", "metrics", "diff", "HEAD"], dvc_repo)  # the workspace holds the experiment
    assert "cifar10-resnet18.lr_d.id_mean" in diff
