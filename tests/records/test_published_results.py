"""Published results rebuild from their records alone, byte for byte, with no training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from earlyphase.experiments import experiment_runs
from earlyphase.params import REPO_ROOT
from earlyphase.records import published
from earlyphase.records.manifest import eval_path, run_dir

LAPTOP = ["config/laptop.yaml"]
ARTIFACTS = ["table1", "figure1"]
PUBLISHED_LAPTOP = REPO_ROOT / "results" / "published" / "laptop"


def _fake_workflow_folder(root: Path) -> dict:
    """Records in the workflow's layout for every run of the laptop Table 1 and Figure 1,
    with made-up accuracies (no weights: the tables never read them)."""
    config = published._config(LAPTOP, root / "results" / "laptop")
    rng = np.random.default_rng(0)
    for name in ARTIFACTS:
        for run, _ in experiment_runs(config, name):
            final = Path(run_dir(config, run.run_id)) / "final"
            final.mkdir(parents=True, exist_ok=True)
            (final / "config.json").write_text(json.dumps(run.config))
            (final / "status.json").write_text(json.dumps({"status": "completed", "diverged_at": None,
                                                           "steps": run.config["total_steps"]}))
            path = Path(eval_path(config, run.run_id, "fashion_mnist"))
            path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"split": ["id", "ood", "ood"], "corruption": ["none", "fog", "rotate"],
                          "severity": [0, 1, 1], "accuracy": rng.uniform(40, 90, 3), "n": 2000,
                          "status": "completed"}).to_parquet(path, index=False)
    return config


def test_publish_then_rebuild_reproduces_the_tables_and_detects_an_altered_record(tmp_path):
    root = tmp_path / "workflow"
    config = _fake_workflow_folder(root)
    published.render(config, ARTIFACTS, root / "figures" / "laptop")  # what the report rules made
    dest = tmp_path / "published"
    published.publish(LAPTOP, ARTIFACTS, dest, {"command": "make laptop", "wall_time_s": 1.0, "date": "today"},
                      root=root)

    assert not list(dest.rglob("*.pt"))  # records only, no weights
    n_runs = len({run.run_id for name in ARTIFACTS for run, _ in experiment_runs(config, name)})
    assert len(list(dest.glob("runs/*/*/*/final/status.json"))) == n_runs
    provenance = json.loads((dest / "provenance.json").read_text())
    assert provenance["overlays"] == LAPTOP and provenance["machine"]["cores"] >= 1
    assert published.check(dest) == []
    assert json.loads((dest / "metrics" / "table1.json").read_text())["fmnist-resnet18"]["lr_d"]["n_seeds"] == 4
    assert "delta_ood" in pd.read_csv(dest / "plots" / "figure1.csv").columns

    table1_run = experiment_runs(config, "table1")[0][0].run_id
    evaluation = next((dest / "runs" / table1_run / "eval").glob("*.parquet"))
    frame = pd.read_parquet(evaluation)
    frame.loc[0, "accuracy"] += 1.0
    frame.to_parquet(evaluation, index=False)
    # The altered run is the lr_d baseline of seed 0, in Table 1 and in Figure 1's differences.
    assert set(published.check(dest)) == {"table1.tex", "table1.csv", "metrics/table1.json", "plots/figure1.csv"}
    (dest / "plots" / "figure1.csv").unlink()
    assert "plots/figure1.csv" in published.check(dest)  # a missing DVC file is reported too


def test_a_set_published_in_part_judges_its_artifacts_and_rebuilds(tmp_path):
    """Figure 1 and a ledger that judges only it (``--judged figure1``): Table 1's records are
    not copied, its tests are listed as not tested yet still count in m, and the set rebuilds."""
    root = tmp_path / "workflow"
    config = _fake_workflow_folder(root)
    parts = ["figure1", "claims"]
    published.render(published._config(LAPTOP, config["paths"]["results"], ["figure1"]), parts,
                     root / "figures" / "laptop")
    dest = tmp_path / "published"
    published.publish(LAPTOP, parts, dest, {"command": "part", "wall_time_s": 1.0, "date": "today"}, root=root,
                      judged=["figure1"])
    assert json.loads((dest / "provenance.json").read_text())["judged"] == ["figure1"]
    copied = {p.parent.relative_to(dest / "runs").as_posix() for p in dest.glob("runs/*/*/*/final")}
    assert copied == {run.run_id for run, _ in experiment_runs(config, "figure1")}
    ledger = pd.read_csv(dest / "claims.csv")
    table1 = ledger[ledger["claim"].str.startswith("table1")]
    assert len(table1) == 4 and (table1["verdict"] == "not tested").all() and (ledger["m"] == 30).all()
    assert published.check(dest) == []


@pytest.mark.skipif(not (PUBLISHED_LAPTOP / "provenance.json").exists(),
                    reason="no laptop run is published in results/published/laptop")
def test_the_published_laptop_run_kept_to_its_budget():
    provenance = json.loads((PUBLISHED_LAPTOP / "provenance.json").read_text())
    assert provenance["wall_time_s"] <= 3600  # the laptop preset's budget


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in (REPO_ROOT / "results" / "published").glob(
    f"*/{published.PROVENANCE}")))
def test_every_published_set_rebuilds_byte_for_byte(folder):
    """Each published folder's tables, ledgers and DVC files come back from its records alone
    (claims-mnist-figures also rebuilds Figure 2's probe table from the runs' probe logs)."""
    assert published.check(REPO_ROOT / "results" / "published" / folder) == []


def test_a_check_compares_tables_without_drawing_figures(tmp_path):
    """save_figure writes its two files, except inside tables_only (what check uses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from earlyphase.report._common import save_figure, tables_only

    with tables_only():
        paths = save_figure(plt.figure(), tmp_path / "skipped")
    assert [Path(p).name for p in paths] == ["skipped.pdf", "skipped.png"] and not list(tmp_path.iterdir())
    save_figure(plt.figure(), tmp_path / "drawn")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drawn.pdf", "drawn.png"]
