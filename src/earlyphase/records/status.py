"""``python -m earlyphase status [target ...]``: where every training run of a target stands.

Each run of the target (an artifact such as ``table1``, an experiment, or ``all``; the same
targets as ``earlyphase cost``) is one of

* ``done``      ``final/`` exists and the run completed;
* ``diverged``  ``final/`` exists and records a non-finite loss (and its step);
* ``running``   its progress file (:mod:`earlyphase.training.progress`) belongs to a live process:
                step i of N, the last logged loss, steps/s;
* ``failed``    it started but no process is training it: killed mid-way (it resumes from
                its checkpoint when rerun) or stopped by an error; the log names why;
* ``pending``   nothing of it exists yet.

The totals give the steps left and an ETA: each unfinished run's remaining steps at its own
measured rate, else the mean measured rate of runs of the same architecture, else the cost
model's per-step time (:class:`earlyphase.operations.cost.StepCosts`), divided by the number of runs
training now (at least one). The runs at the k the stabilization heuristic chooses are not
known before the choice and are not listed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from earlyphase.records.run_record import STATUS, RunRecord
from earlyphase.training.progress import PROGRESS_NAME, format_duration

STATES = ("running", "failed", "diverged", "pending", "done")
# A progress file from another host (a cluster node) counts as live while it is this fresh.
STALE_AFTER_S = 900


def train_log_path(results: str, run_id: str) -> str:
    """The log of a run's training job (the ``log`` of rule ``train``)."""
    return f"{results}/logs/train/{run_id}.log"


@dataclass
class RunState:
    run_id: str
    state: str
    step: int
    total_steps: int
    arch: str
    loss: float | None = None
    steps_per_s: float | None = None
    detail: str = ""
    log: str = ""

    @property
    def steps_left(self) -> int:
        return 0 if self.state in ("done", "diverged") else max(self.total_steps - self.step, 0)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():  # a zombie has exited; a reused pid runs something else
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return False
            return b"earlyphase" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
    return True


def _live(progress: dict) -> bool:
    if progress.get("state", "running") != "running":
        return False  # the process said it stopped (failed, stopped on request, finished)
    if progress.get("host") == socket.gethostname():
        return _process_alive(int(progress["pid"]))
    return time.time() - progress.get("updated", 0) < STALE_AFTER_S


def _last_error(log: Path) -> str:
    """The last line of a log that reports an error (the CLI prints ``earlyphase <cmd>: error:``)."""
    if not log.exists():
        return ""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    errors = [line for line in lines if re.search(r"error:", line, re.I)]
    return errors[-1] if errors else ""


def run_state(results: str, run_id: str, config: dict) -> RunState:
    """The state of one run from its folder under ``results``/runs and its training log."""
    run_dir = Path(results) / "runs" / run_id
    log = train_log_path(results, run_id)
    state = RunState(run_id, "pending", 0, config["total_steps"], config["arch"], log=log)
    final = RunRecord(run_dir / "final")
    progress_path = run_dir / PROGRESS_NAME
    progress = json.loads(progress_path.read_text()) if progress_path.exists() else None
    if progress:
        state.step, state.loss, state.steps_per_s = progress["step"], progress["loss"], progress["steps_per_s"]
    if final.has(STATUS):
        status = final.status
        state.step = status.get("steps", state.total_steps)
        if status["status"] == "diverged":
            state.state, state.detail = "diverged", f"loss not finite at step {status['diverged_at']}"
        else:
            state.state = "done"
        return state
    if progress and _live(progress):
        state.state = "running"
        state.detail = f"step {state.step}/{state.total_steps}"
        if state.loss is not None:
            state.detail += f", loss {state.loss:.4g}"
        if state.steps_per_s:
            state.detail += f", {state.steps_per_s:.3g} steps/s"
        return state
    error = _last_error(Path(log))
    if progress or (run_dir / "checkpoint.pt").exists() or error:
        state.state = "failed"
        where = f"stopped at step {state.step}/{state.total_steps}" if progress else "stopped"
        why = error or "no live process (killed or lost); a rerun resumes from its checkpoint"
        state.detail = f"{where}: {why}; log {log}"
    return state


def target_runs(config: dict, targets: list[str]) -> dict:
    """Run id -> Run of every training run the targets need (shared runs once)."""
    from earlyphase.experiments import experiment_runs
    from earlyphase.operations.cost import cost_parts

    known = cost_parts(config)
    runs = {}
    for target in targets:
        if target not in known:
            raise ValueError(f"unknown target {target!r}; known: {', '.join(sorted(known))}")
        for part in known[target]:
            if not part.startswith("+"):
                runs.update({run.run_id: run for run, _ in experiment_runs(config, part)})
    return runs


def _seconds_per_step(states: list[RunState], runs: dict, costs) -> dict[str, tuple[float, str]]:
    """Per unfinished run: seconds per step and where that figure comes from."""
    by_arch: dict[str, list[float]] = {}
    for s in states:
        if s.steps_per_s:
            by_arch.setdefault(s.arch, []).append(1.0 / s.steps_per_s)
    out = {}
    for s in states:
        if not s.steps_left:
            continue
        if s.steps_per_s:
            out[s.run_id] = (1.0 / s.steps_per_s, "measured")
        elif s.arch in by_arch:
            out[s.run_id] = (sum(by_arch[s.arch]) / len(by_arch[s.arch]), "measured")
        else:
            run = runs[s.run_id].config
            out[s.run_id] = (costs.step_seconds(run["arch"], run["batch_size"], run["width"]), "cost model")
    return out


def summarize(states: list[RunState], runs: dict, costs, jobs: int = 1) -> dict:
    counts = {state: sum(s.state == state for s in states) for state in STATES}
    per_step = _seconds_per_step(states, runs, costs)
    steps_left = {s.run_id: s.steps_left for s in states}
    work = sum(seconds * steps_left[run_id] for run_id, (seconds, _) in per_step.items())
    # the workflow's slots (`jobs`: cores on a CPU, GPUs x runs per GPU), or what runs now if more
    parallel = max(counts["running"], jobs, 1)
    sources = sorted({source for _, source in per_step.values()})
    return {"counts": counts, "runs": len(states), "steps_left": sum(s.steps_left for s in states),
            "eta_s": work / parallel, "parallel": parallel, "eta_from": " and ".join(sources) or "nothing left",
            "cost_model_device": costs.device if "cost model" in sources else None}


def status(config: dict, targets: list[str], costs, jobs: int = 1) -> tuple[list[RunState], dict]:
    runs = target_runs(config, targets)
    results = config["paths"]["results"]
    states = [run_state(results, run_id, run.config) for run_id, run in runs.items()]
    states.sort(key=lambda s: (STATES.index(s.state), s.run_id))
    return states, summarize(states, runs, costs, jobs)


def format_status(states: list[RunState], totals: dict) -> str:
    """The totals first (a long run list would push them off screen), then one line per run."""
    counts = ", ".join(f"{totals['counts'][state]} {state}" for state in STATES)
    line = f"{totals['runs']} runs: {counts}; {totals['steps_left']:,} steps left"
    if totals["steps_left"]:
        jobs = f"{totals['parallel']} job{'s' if totals['parallel'] > 1 else ''} at a time"
        line += f"; ETA {format_duration(totals['eta_s'])} ({jobs}, step times: {totals['eta_from']})"
    lines = [line]
    if totals["cost_model_device"]:
        lines.append(f"cost model step times: {totals['cost_model_device']}")
    width = max((len(s.run_id) for s in states), default=0)
    lines += [f"{s.state:<9} {s.run_id:<{width}}  {s.detail}".rstrip() for s in states]
    return "\n".join(lines) + "\n"


def _where_jobs_run(jobs: int | None) -> tuple[str, int]:
    """The device type whose measured step costs apply here, and how many jobs run at once:
    on a machine without CUDA the jobs train on the CPU, one single-threaded job per core
    (the rules' threads), so the CPU measurement and the core count give the ETA."""
    import os

    import torch

    if torch.cuda.is_available():
        return "cuda", jobs or torch.cuda.device_count()
    return "cpu", jobs or os.cpu_count() or 1


def main(args) -> int:
    from earlyphase.operations.cost import StepCosts
    from earlyphase.params import load_params

    config = load_params(args.params, *args.overlay)
    device_type, jobs = _where_jobs_run(args.jobs)
    costs = StepCosts(args.reference, device_type=device_type)
    states, totals = status(config, args.targets or ["all"], costs, jobs)
    if args.json:
        print(json.dumps({"runs": [asdict(s) for s in states], "totals": totals}, indent=2))
    else:
        print(format_status(states, totals), end="")
    return 0
