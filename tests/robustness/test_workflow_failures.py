"""The real Snakemake DAG on a tiny two-column Table 1 in a copy of the repository:

- one setup's learning rate is absurd, its runs diverge, and the DAG still completes with
  the diverged runs explicit in the aggregate table and in the rendered Table 1;
- a second invocation on the same folder while the first runs is refused by Snakemake's
  directory lock and corrupts nothing;
- a real error (damaged data) fails the job, and the log Snakemake names says what and where;
- an unknown target is refused by name.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from .helpers import HANG_GUARD_S, child_env, tiny_table1_params

pytestmark = pytest.mark.slow
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2"]
TARGET = "figures/table1.tex"


def _snakemake(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], cwd=repo, capture_output=True, text=True,
                          env=env or child_env(), timeout=HANG_GUARD_S)


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory, copy_repo):
    """Run the DAG once; all train jobs pause at step 2 until a second invocation was tried."""
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    (repo / "params.yaml").write_text(yaml.safe_dump(tiny_table1_params(), sort_keys=False))
    release = repo.parent / "release"
    env = child_env(EARLYPHASE_TEST_PAUSE_AT="step:2", EARLYPHASE_TEST_RELEASE=str(release))
    first = subprocess.Popen([*SNAKEMAKE, TARGET], cwd=repo, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        while not any("EARLYPHASE_PAUSED" in log.read_text()
                      for log in (repo / "results" / "logs" / "train").rglob("*.log")):
            assert first.poll() is None, first.stdout.read()
            assert time.monotonic() < deadline, "no training job reached step 2"
            time.sleep(0.2)
        second = _snakemake(repo, TARGET)
    finally:
        release.touch()
        first_out = first.communicate(timeout=HANG_GUARD_S)[0]
    return {"repo": repo, "first": (first.returncode, first_out), "second": second}


def test_dag_completes_with_the_diverged_runs_explicit(tiny_repo):
    code, out = tiny_repo["first"]
    assert code == 0, out[-4000:]
    repo = tiny_repo["repo"]
    runs = pd.read_parquet(repo / "results" / "tables" / "table1_runs.parquet")
    assert len(runs) == 4
    vgg, resnet = runs[runs["setup"] == "cifar10-vgg11"], runs[runs["setup"] == "cifar10-resnet18"]
    assert (vgg["status"] == "diverged").all() and vgg["diverged_at"].notna().all()
    assert vgg["id_acc"].isna().all()
    assert (resnet["status"] == "completed").all() and resnet["id_acc"].between(0, 100).all()
    table = pd.read_csv(repo / "figures" / "table1.csv")
    assert (table.loc[table["setup"] == "cifar10-vgg11", "n_diverged"] == 1).all()
    tex = (repo / "figures" / "table1.tex").read_text()
    assert tex.count("diverged run(s) excluded (loss not finite at step") == 2
    assert "\\end{table}" in tex


def test_second_invocation_is_refused_by_the_lock_and_corrupts_nothing(tiny_repo):
    second = tiny_repo["second"]
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stdout + second.stderr
    repo = tiny_repo["repo"]
    results = repo / "results"
    assert not list(results.rglob(".partial-*")) and not list(results.rglob("checkpoint.pt"))
    dry = _snakemake(repo, "-n", TARGET)  # the local profile comes by itself
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
    assert "Using workflow specific profile profiles/default" in dry.stdout + dry.stderr


def test_unknown_target_is_refused_by_name(tiny_repo):
    result = _snakemake(tiny_repo["repo"], "-n", "no/such/target")
    assert result.returncode != 0
    assert "no/such/target: no rule makes it here" in result.stdout + result.stderr
    assert "MissingRuleException" not in result.stdout + result.stderr


def test_damaged_data_fails_the_job_and_names_log_and_file(tiny_repo):
    repo = tiny_repo["repo"]
    runs = pd.read_parquet(repo / "results" / "tables" / "table1_runs.parquet")
    run_id = runs.loc[runs["setup"] == "cifar10-resnet18", "run_id"].iloc[0]
    final = repo / "results" / "runs" / run_id / "final"
    kept = final.parent / "kept-final"
    final.rename(kept)
    images = next((repo / "data").rglob("clean/train_images.npy"))
    backup = images.read_bytes()
    images.write_bytes(backup[: len(backup) // 3])
    try:
        result = _snakemake(repo, f"results/runs/{run_id}/final")
    finally:
        images.write_bytes(backup)
        os.utime(images, (images.stat().st_atime, images.stat().st_mtime))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    logs = re.findall(r"(results/logs/train/\S+\.log)", output)
    assert logs, output[-3000:]
    log = (repo / logs[0]).read_text()
    assert "earlyphase train: error:" in log and str(images.relative_to(repo)) in log
    assert "truncated" in log and "Traceback" not in log
    assert not final.exists()
    kept.rename(final)
