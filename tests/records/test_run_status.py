"""The progress file a training process keeps (earlyphase.training.progress) and what
``earlyphase status`` makes of a run folder (earlyphase.records.status), on hand-made run
folders; tests/robustness/test_crash_recovery.py checks both on a real, killed DAG."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from earlyphase.records.status import RunState, format_status, run_state, summarize
from earlyphase.runs import Run
from earlyphase.training.progress import PROGRESS_NAME, RunProgress

RUN = "cifar10-resnet18/lr0.1-std-00000000/seed0"
CONFIG = {"total_steps": 100, "arch": "resnet18", "batch_size": 128, "width": 1.0}


class FixedCosts:
    """The cost model's interface with one known per-step time."""

    device = "test device"

    def step_seconds(self, arch, batch_size, width):
        return 0.5


def _run_dir(results: Path, run_id: str = RUN) -> Path:
    path = results / "runs" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def _progress(results: Path, run_id: str = RUN, **fields) -> None:
    record = {"state": "running", "step": 40, "total_steps": 100, "loss": 1.25, "steps_per_s": 10.0,
              "started": time.time() - 4, "updated": time.time(), "pid": 1, "host": socket.gethostname()}
    (_run_dir(results, run_id) / PROGRESS_NAME).write_text(json.dumps({**record, **fields}))


def _final(results: Path, status: dict, run_id: str = RUN) -> None:
    final = _run_dir(results, run_id) / "final"
    final.mkdir()
    (final / "status.json").write_text(json.dumps(status))


def test_progress_file_follows_the_log_intervals_and_the_log_gets_lines(tmp_path):
    log = io.StringIO()  # not a terminal: lines instead of a redrawn bar
    progress = RunProgress(tmp_path / "c10" / "lr0.1-std-x" / "seed0", total=20, start_step=4, line_every=0.0,
                           stream=log)
    path = tmp_path / "c10" / "lr0.1-std-x" / "seed0" / PROGRESS_NAME
    assert json.loads(path.read_text())["step"] == 4
    for _ in range(6):
        progress.advance()
    assert progress.step == 10
    progress.logged(10, 0.75)
    progress.flush()  # the write happens in a background thread, off the training loop
    record = json.loads(path.read_text())
    assert (record["state"], record["step"], record["total_steps"], record["loss"]) == ("running", 10, 20, 0.75)
    assert record["pid"] > 0 and record["host"] == socket.gethostname() and record["steps_per_s"] > 0
    assert not list(path.parent.glob(".partial-*"))  # written through earlyphase.operations.atomic
    progress.close("completed")
    assert json.loads(path.read_text())["state"] == "completed"
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("c10/lr0.1-std-x/seed0: step 10/20 (50.0%) loss 0.75 ") and "ETA" in lines[0]
    assert lines[-1].endswith("completed") and "\r" not in log.getvalue()


def test_finished_runs_are_done_or_diverged(tmp_path):
    _final(tmp_path, {"status": "completed", "diverged_at": None, "steps": 100})
    assert run_state(str(tmp_path), RUN, CONFIG).state == "done"
    other = "cifar10-vgg11/lr1e6-std-00000000/seed0"
    _final(tmp_path, {"status": "diverged", "diverged_at": 6, "steps": 6}, other)
    state = run_state(str(tmp_path), other, {**CONFIG, "arch": "vgg11"})
    assert state.state == "diverged" and "step 6" in state.detail and state.steps_left == 0


def test_a_live_process_is_running_and_a_dead_one_failed(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "earlyphase-test"])
    try:
        _progress(tmp_path, pid=child.pid)
        state = run_state(str(tmp_path), RUN, CONFIG)
        assert state.state == "running"
        assert state.detail == "step 40/100, loss 1.25, 10 steps/s"
    finally:
        child.kill()
        child.wait()
    state = run_state(str(tmp_path), RUN, CONFIG)
    assert state.state == "failed" and "stopped at step 40/100" in state.detail
    assert state.log == f"{tmp_path}/logs/train/{RUN}.log" and state.log in state.detail


def test_an_error_in_the_log_is_shown_and_a_pid_of_another_program_is_not_alive(tmp_path):
    log = tmp_path / "logs" / "train" / f"{RUN}.log"
    log.parent.mkdir(parents=True)
    log.write_text("earlyphase train: error: data/cifar10/clean/train_images.npy is truncated\n")
    _run_dir(tmp_path)
    state = run_state(str(tmp_path), RUN, CONFIG)
    assert state.state == "failed" and "is truncated" in state.detail
    _progress(tmp_path, pid=1)  # init: alive, but not a training process
    assert run_state(str(tmp_path), RUN, CONFIG).state == "failed"


@pytest.mark.parametrize(("age", "expected"), [(10, "running"), (3600, "failed")])
def test_progress_from_another_host_counts_while_fresh(tmp_path, age, expected):
    _progress(tmp_path, host="node-that-is-not-here", updated=time.time() - age)
    assert run_state(str(tmp_path), RUN, CONFIG).state == expected


def test_nothing_yet_is_pending(tmp_path):
    assert run_state(str(tmp_path), RUN, CONFIG).state == "pending"


def test_eta_uses_measured_rates_then_the_cost_model():
    runs = {name: Run(name, {**CONFIG, "arch": arch}) for name, arch in
            (("a", "resnet18"), ("b", "resnet18"), ("c", "vgg11"), ("d", "resnet18"))}
    states = [RunState("a", "running", 40, 100, "resnet18", steps_per_s=10.0),  # 60 steps at 0.1 s
              RunState("b", "pending", 0, 100, "resnet18"),                     # 100 at the measured 0.1 s
              RunState("c", "pending", 0, 100, "vgg11"),                        # 100 at the model's 0.5 s
              RunState("d", "done", 100, 100, "resnet18")]
    totals = summarize(states, runs, FixedCosts())
    assert totals["steps_left"] == 260 and totals["parallel"] == 1
    assert totals["eta_s"] == pytest.approx(6 + 10 + 50)
    assert totals["eta_from"] == "cost model and measured" and totals["cost_model_device"] == "test device"
    assert totals["counts"] == {"running": 1, "failed": 0, "diverged": 0, "pending": 2, "done": 1}
    lines = format_status(states, totals).splitlines()
    # the summary leads, so a long run list cannot push it off screen
    assert lines[0] == ("4 runs: 1 running, 0 failed, 0 diverged, 2 pending, 1 done; 260 steps "
                        "left; ETA 1m06s (1 job at a time, step times: cost model and measured)")
    assert lines[1] == "cost model step times: test device"
    assert [line.split()[:2] for line in lines[2:]] == [[s.state, s.run_id] for s in states]


def test_progress_writes_happen_off_the_training_thread(tmp_path, monkeypatch):
    import threading

    from earlyphase.training import progress as progress_module

    writers = []
    write = progress_module.write_json

    def spy(path, record):
        writers.append((threading.current_thread().name, record["state"], record["step"]))
        write(path, record)

    monkeypatch.setattr(progress_module, "write_json", spy)
    progress = RunProgress(tmp_path / "c10" / "x" / "seed0", total=10, show=False)
    progress.logged(5, 1.0)
    progress.flush()
    assert {name for name, _, _ in writers} == {"earlyphase-progress"}  # never the loop's thread
    assert writers[-1][1:] == ("running", 5)
    progress.close("failed")
    assert json.loads((tmp_path / "c10" / "x" / "seed0" / PROGRESS_NAME).read_text())["state"] == "failed"


def test_eta_counts_the_jobs_that_run_at_once_and_the_cpu_costs_without_cuda(monkeypatch):
    from earlyphase.records import status as status_module

    runs = {name: Run(name, {**CONFIG, "arch": "vgg11"}) for name in ("a", "b")}
    states = [RunState(name, "pending", 0, 100, "vgg11") for name in runs]
    one, two = summarize(states, runs, FixedCosts()), summarize(states, runs, FixedCosts(), jobs=2)
    assert (one["parallel"], two["parallel"]) == (1, 2)
    assert two["eta_s"] == pytest.approx(one["eta_s"] / 2) == pytest.approx(100 * 0.5)
    # a machine without CUDA trains on its cores, one single-threaded job each, at the CPU's step costs
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert status_module._where_jobs_run(None) == ("cpu", 6)
    assert status_module._where_jobs_run(3) == ("cpu", 3)
