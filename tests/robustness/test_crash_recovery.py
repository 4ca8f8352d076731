"""A crash in the middle of ``make smoke``, seen through ``earlyphase status``, then recovered
by rerunning the same make target, on a tiny Table 1 (two columns, four runs) in copies of
the repository:

- before anything runs, every run is pending, with an ETA from the cost model;
- the VGG-11 column's learning rate is absurd: its two runs diverge;
- ``make smoke`` trains one ResNet-18 run up to step 4 (held there by the test hook of
  earlyphase.training.trainer) while status shows it running, step 4 of 8; unlock-stale refuses to
  unlock under the live run;
- make, Snakemake and the training process are SIGKILLed (a power loss): the lock stays,
  status shows the run failed at step 4 with its log, the other ResNet-18 run pending;
- ``make smoke`` again unlocks by itself, resumes, and writes the same Table 1 (.tex, .csv,
  metrics) byte for byte as an uninterrupted ``make smoke`` in a second copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .helpers import HANG_GUARD_S, child_env, tiny_table1_params

pytestmark = pytest.mark.slow
VENV = Path(sys.executable).parent.parent
# make -o: the shared virtual environment counts as installed, never rebuilt from the copy.
MAKE_SMOKE = ["make", "-o", f"{VENV}/.installed", "smoke", f"VENV={VENV}", "SMOKE_TARGETS=figures/table1.tex",
              "CORES=1"]
TABLES = ["figures/table1.tex", "figures/table1.csv", "results/metrics/table1.json"]
STEPS = 8  # 256 images, batch 64, 2 epochs


def _repo(dest: Path, copy_repo) -> Path:
    copy_repo(dest)
    text = yaml.safe_dump(tiny_table1_params(), sort_keys=False)
    (dest / "params.yaml").write_text(text)
    (dest / "config" / "smoke.yaml").write_text(text)  # what `make smoke` merges: the same
    return dest


def _run(args: list[str], repo: Path, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=repo, capture_output=True, text=True, env=child_env(**env),
                            timeout=HANG_GUARD_S)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _status(repo: Path) -> tuple[dict[str, dict], dict]:
    out = _run([sys.executable, "-m", "earlyphase", "status", "table1", "--json"], repo).stdout
    report = json.loads(out)
    return {run["run_id"]: run for run in report["runs"]}, report["totals"]


def _states(runs: dict[str, dict]) -> dict[str, list[str]]:
    by_state: dict[str, list[str]] = {}
    for run_id, run in runs.items():
        by_state.setdefault(run["state"], []).append(run_id)
    return by_state


def _kill_until_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} survived SIGKILL")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, copy_repo) -> Path:
    repo = _repo(tmp_path_factory.mktemp("reference"), copy_repo)
    _run(MAKE_SMOKE, repo)
    return repo


def test_kill_mid_run_shows_in_status_and_make_smoke_recovers_the_same_table(tmp_path, reference, copy_repo):
    repo = _repo(tmp_path / "repo", copy_repo)
    runs, totals = _status(repo)
    assert len(runs) == 4 and set(_states(runs)) == {"pending"}
    assert totals["steps_left"] == 4 * STEPS and totals["eta_from"] == "cost model"

    vgg = sorted(r for r in runs if r.startswith("cifar10-vgg11/"))
    _run([sys.executable, "-m", "snakemake", "--cores", "1", *(f"results/runs/{r}/final" for r in vgg)], repo)
    runs, _ = _status(repo)
    assert sorted(_states(runs)["diverged"]) == vgg
    assert all(runs[r]["detail"].startswith("loss not finite at step ") for r in vgg)

    release = tmp_path / "release"  # never created: the paused job waits until it is killed
    make = subprocess.Popen(MAKE_SMOKE, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=child_env(EARLYPHASE_TEST_PAUSE_AT="step:4", EARLYPHASE_TEST_RELEASE=str(release)),
                            start_new_session=True)
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        while not any("EARLYPHASE_PAUSED step:4" in log.read_text()
                      for log in (repo / "results" / "logs" / "train").rglob("*.log")):
            assert make.poll() is None, make.stdout.read()
            assert time.monotonic() < deadline, "no training job reached step 4"
            time.sleep(0.2)
        runs, totals = _status(repo)
        (running,) = _states(runs)["running"]
        assert running.startswith("cifar10-resnet18/")
        assert runs[running]["step"] == 4 and runs[running]["total_steps"] == STEPS
        assert runs[running]["detail"].startswith(f"step 4/{STEPS}, loss ") and "steps/s" in runs[running]["detail"]
        assert len(_states(runs)["pending"]) == 1 and totals["eta_from"] == "measured"
        assert totals["steps_left"] == 4 + STEPS

        unlock = _run([sys.executable, "-m", "earlyphase", "unlock-stale", "--", "false"], repo)
        assert "is running in" in unlock.stderr and "leaving its lock alone" in unlock.stderr
        assert list((repo / ".snakemake" / "locks").glob("*.lock"))
        trainer = json.loads((repo / "results" / "runs" / running / "progress.json").read_text())["pid"]
    finally:
        os.killpg(make.pid, signal.SIGKILL)  # make, Snakemake and the job shell
        make.wait()
    _kill_until_gone(trainer)  # in case Snakemake gave the job a process group of its own

    runs, _ = _status(repo)
    assert _states(runs)["failed"] == [running]
    assert runs[running]["detail"].startswith(f"stopped at step 4/{STEPS}: no live process")
    assert runs[running]["log"] in runs[running]["detail"]
    assert (repo / runs[running]["log"]).exists() and (repo / "results" / "runs" / running / "checkpoint.pt").exists()
    assert list((repo / ".snakemake" / "locks").glob("*.lock")), "the crash left Snakemake's lock behind"

    rerun = _run(MAKE_SMOKE, repo)
    assert "no live Snakemake process: a previous run was interrupted; unlocking" in rerun.stdout + rerun.stderr
    runs, totals = _status(repo)
    assert sorted(_states(runs)["diverged"]) == vgg and len(_states(runs)["done"]) == 2
    assert totals["steps_left"] == 0
    for name in TABLES:
        assert (repo / name).read_bytes() == (reference / name).read_bytes(), name
