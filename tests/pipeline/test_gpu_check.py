"""bench/gpu_check.sh, the prepared GPU measurement, rehearsed at tiny sizes on the CPU
(``--cpu``) so that its shape cannot rot between GPU sessions: what the GPU runner can bring
back (at most 8 files, named plainly, at most two folders deep), the order of the steps, a
summary row for every step and the cost lines. Its summary survives a partial folder and
names a fast path that fell back as such. No speed is asserted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from earlyphase.bench.check_summary import render, summarize

REPO = Path(__file__).resolve().parents[2]
STEPS = ["preflight", "correctness", "bench_main", "pack", "cost_k1", "cost_kbest", "determinism",
         "bench_cuda_graphs", "pack_cuda_graphs", "sync", "bench_compile"]
OUTPUTS = {"summary.md", "summary.json", "throughput_reference.json", "steps.tsv", "gpu_check.tar.gz"}


@pytest.mark.slow
def test_cpu_rehearsal_has_the_shape_the_gpu_runner_returns(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "tmp"
    scratch.mkdir()
    reference = (REPO / "bench" / "throughput_reference.json").read_bytes()
    bench_before = sorted(p.name for p in (REPO / "bench").iterdir())
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": "", "TMPDIR": str(scratch)}
    env.pop("OUT", None)
    result = subprocess.run(["bash", "bench/gpu_check.sh", "--cpu", "--out", str(out), "--budget", "1500"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # What comes back: <= 8 plain files, nothing deeper.
    files = [p for p in out.rglob("*")]
    assert {p.name for p in files} == OUTPUTS and all(p.is_file() and p.parent == out for p in files)
    assert len(files) <= 8 and all(re.fullmatch(r"[A-Za-z0-9._-]+", p.name) for p in files)
    # The step order, every step ok on the CPU, and a summary row for each.
    rows = [line.split("\t") for line in (out / "steps.tsv").read_text().splitlines()]
    assert [r[0] for r in rows] == STEPS
    assert {r[0]: r[1] for r in rows} == dict.fromkeys(STEPS, "ok"), result.stdout[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    text = (out / "summary.md").read_text()
    assert [s["step"] for s in summary["steps"]] == STEPS
    for name in STEPS:
        assert f"| {name} | ok |" in text, name
    # The cost lines: K = 1 and the best K of the pack, both from the new (CPU) measurements.
    costs = {c["step"]: c for c in summary["costs"]}
    assert set(costs) == {"cost_k1", "cost_kbest"} and costs["cost_k1"]["k"] == 1
    assert costs["cost_kbest"]["k"] in (1, 2) and all(c["all_gpu_hours"] > 0 for c in costs.values())
    assert "gpu_check.sh --cpu" in costs["cost_k1"]["per_step_costs"] or "CPU" in costs["cost_k1"]["per_step_costs"]
    assert "Cost model, `all`, K = 1 (cost_k1)" in text and "(cost_kbest)" in text
    # Correctness on a CPU: the CUDA comparisons skipped with their reason, the rest passed.
    checks = {c["check"]: c for c in summary["correctness"]}
    assert checks["device_vs_cpu_fp32"]["status"] == "skipped" and checks["device_vs_cpu_fp32"]["reason"]
    assert checks["graph_replay_vs_eager"]["status"] == "skipped"
    assert {checks[n]["status"] for n in ("bf16_vs_fp32", "unfreeze", "resume")} == {"passed"}
    # Honest labels: CUDA graphs cannot run on a CPU, so that row says it fell back, and why.
    labels = {r["variant"] for r in summary["training"]}
    assert labels == {"default fast path", "CUDA graphs: FELL BACK to eager", "torch.compile"}
    graphs = next(r for r in summary["training"] if r["asked"] == "CUDA graphs")
    assert "CUDA device" in graphs["fallback_reason"] and "why: CUDA graphs need a CUDA device" in text
    compiled = next(r for r in summary["training"] if r["asked"] == "torch.compile")
    assert compiled["compiled_graphs"] >= 1 and "graphs compiled" in text
    assert summary["determinism"]["identical"] is True
    assert all(t["met"] is None for t in summary["targets"].values())  # nothing is met on a CPU
    # Everything else is in the archive.
    with tarfile.open(out / "gpu_check.tar.gz") as archive:
        names = {Path(n).name for n in archive.getnames()}
    for name in STEPS:
        assert f"{name}.log" in names, name
    assert {"correctness.json", "bench_main.json", "pack.json", "cost_k1.txt", "cost_kbest.txt",
            "bench_compile.json"} <= names
    # The new measurements (the FCN among them) are merged into the output's copy only.
    merged = json.loads((out / "throughput_reference.json").read_text())["measurements"]
    ours = [m for m in merged if m["label"].startswith("gpu_check.sh --cpu")]
    assert any(m.get("pack") for m in ours)
    assert {(r["arch"], r["shape"]) for m in ours for r in m["train_step"]} >= {("fcn", "mnist")}
    assert (REPO / "bench" / "throughput_reference.json").read_bytes() == reference
    assert sorted(p.name for p in (REPO / "bench").iterdir()) == bench_before
    assert list(scratch.iterdir()) == []  # the scratch folder is removed


def test_summary_of_a_partial_folder_says_what_is_missing(tmp_path):
    (tmp_path / "steps.tsv").write_text("preflight\tok\t3\t0\nbench_main\ttimeout\t240\t124\n"
                                        "pack\tskipped (budget)\t0\t-\n")
    cost_row = "all  480  1  2  3  4  5  6  7.0  8.0  9.0  1.5  25.5  25.5"  # ... total, wall h
    (tmp_path / "cost_kbest.txt").write_text("per-step costs: NVIDIA H100 (measured)\nWARNING: no measured "
                                             "training step for fcn\npacking: K = 4 training run(s) per GPU\n"
                                             f"target runs ...\n{cost_row}\n")
    summary = summarize(tmp_path)
    assert summary["training"] == [] and summary["pack"] == [] and summary["determinism"] is None
    (cost,) = summary["costs"]
    assert (cost["k"], cost["all_gpu_hours"]) == (4, 25.5) and cost["warnings"][0].startswith("WARNING")
    assert summary["targets"]["all_gpu_hours"] == {"goal": 12.0, "value": 25.5, "met": None}
    text = render(summary)
    assert "| bench_main | timeout | 240 | 124 |" in text and "Determinism (two" in text
    assert "Cost model, `all`, K = 4 (cost_kbest): 25.5 GPU-h" in text and "WARNING: no measured" in text
    assert "not measured" in text and "Correctness" in text


def _bench_file(folder: Path, name: str, settings: dict, ratio: float, compile_stats=None) -> None:
    fast = {"images_per_s": 1000.0, "peak_fraction": 0.1, "settings": settings}
    if compile_stats:
        fast["compile_stats"] = compile_stats
    row = {"workload": "resnet18-cifar", "fast": fast, "speedup_vs_reference": ratio}
    (folder / f"{name}.json").write_text(json.dumps({"device": {"name": "NVIDIA H100", "type": "cuda"},
                                                     "date": "2027-01-02", "training": [row], "probes": []}))


def test_a_fast_path_that_fell_back_is_reported_as_fallen_back(tmp_path):
    _bench_file(tmp_path, "bench_main", {"compile": False, "cuda_graphs": False}, 2.0)
    _bench_file(tmp_path, "bench_cuda_graphs", {
        "cuda_graphs": False, "cuda_graphs_disabled_because": "capture failed: operation not permitted",
        "cuda_graph_replay": {"captures": 0, "replays": 0, "failure": "capture failed: operation not permitted"}},
        9.0)
    _bench_file(tmp_path, "bench_compile", {"compile": True, "compile_disabled_because": None}, 3.0,
                {"unique_graphs": 2, "graph_breaks": 0})
    summary = summarize(tmp_path)
    rows = {r["asked"]: r for r in summary["training"]}
    assert rows["CUDA graphs"]["variant"] == "CUDA graphs: FELL BACK to eager"
    assert rows["CUDA graphs"]["fallback_reason"].startswith("capture failed")
    assert rows["torch.compile"]["variant"] == "torch.compile" and rows["torch.compile"]["compiled_graphs"] == 2
    # The fallen-back 9x never counts as the fast path's figure; the real best is 3x.
    assert summary["targets"]["single_resnet18_vs_reference"]["value"] == 3.0
    text = render(summary)
    assert "| CUDA graphs: FELL BACK to eager | resnet18-cifar |" in text
    assert "0 captures, 0 replays; why: capture failed" in text and "2 graphs compiled, 0 breaks" in text


def test_summary_reads_the_total_from_the_cost_reports_hours_table(smoke_params, tmp_path):
    """The report prints a counts table before the hours table, both with an ``all`` row: the
    summary's GPU-hours are the hours table's total, not a number from the counts row."""
    from earlyphase.operations.cost import StepCosts, estimate, format_report

    costs = StepCosts(None, pack=2)
    tallies = estimate(smoke_params, ["table1", "all"], costs)
    (tmp_path / "cost_kbest.txt").write_text(format_report(tallies, costs))
    (cost,) = summarize(tmp_path)["costs"]
    assert cost["k"] == 2
    assert cost["all_gpu_hours"] == pytest.approx(tallies["all"].hours, abs=0.051)  # printed to 0.1 h
