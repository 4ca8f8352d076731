"""bench/gpu_check.sh, the prepared GPU measurement, runs every step at tiny sizes on the CPU
(``--cpu``), so the script cannot rot between GPU sessions; its summary survives a partial
folder. No speed is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from earlyphase.bench.check_summary import render, summarize

REPO = Path(__file__).resolve().parents[2]
STEPS = ["bench_main", "pack", "bench_cuda_graphs", "pack_cuda_graphs", "determinism", "sync",
         "bench_no_cudnn_benchmark", "bench_compile", "pack_mps", "cost_k8"]


@pytest.mark.slow
def test_cpu_mode_runs_every_step_into_one_folder(tmp_path):
    out = tmp_path / "check"
    reference = (REPO / "bench" / "throughput_reference.json").read_bytes()
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""}
    # A generous budget: on a loaded 2-core machine the steps take longer than the default 110 s.
    result = subprocess.run(["bash", "bench/gpu_check.sh", "--cpu", "--out", str(out), "--budget", "1200"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    status = {line.split("\t")[0]: line.split("\t")[1] for line in (out / "steps.tsv").read_text().splitlines()}
    assert list(status) == STEPS
    assert status.pop("pack_mps").startswith("skipped") and set(status.values()) == {"ok"}, status
    for name in ("bench_main", "pack", "bench_cuda_graphs", "pack_cuda_graphs", "determinism", "sync",
                 "bench_no_cudnn_benchmark", "bench_compile"):
        assert json.loads((out / f"{name}.json").read_text()), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["determinism"]["identical"] is True
    assert {r["variant"] for r in summary["training"]} == {
        "default fast path", "no cudnn.benchmark", "torch.compile", "CUDA graphs"}
    assert {(r["variant"], r["k"]) for r in summary["pack"]} == {
        ("processes", 1), ("processes", 2), ("processes + CUDA graphs", 1), ("processes + CUDA graphs", 2)}
    assert {p["probe"] for p in summary["probes"]} >= {"fisher_trace", "avg_sharpness", "worst_sharpness",
                                                       "hessian_max_eig"}
    assert all(t["met"] is None for t in summary["targets"].values())  # nothing is met on a CPU
    assert "bit-identical" in (out / "summary.md").read_text()
    # The new measurements are merged into the folder's copy of the reference file only.
    merged = json.loads((out / "throughput_reference.json").read_text())["measurements"]
    assert any(m.get("pack") and m["label"].startswith("gpu_check.sh --cpu") for m in merged)
    assert any(m.get("train_step") and m["label"].startswith("gpu_check.sh --cpu") for m in merged)
    assert (REPO / "bench" / "throughput_reference.json").read_bytes() == reference


def test_summary_of_a_partial_folder_says_what_is_missing(tmp_path):
    (tmp_path / "steps.tsv").write_text("bench_main\ttimeout\t240\t124\npack\tskipped (budget)\t0\t-\n")
    cost_row = "all  480  1  2  3  4  5  6  7.0  8.0  9.0  1.5  25.5  25.5"  # ... total, wall h
    (tmp_path / "cost_k8.txt").write_text(f"target runs ...\n{cost_row}\n")
    summary = summarize(tmp_path)
    assert summary["training"] == [] and summary["pack"] == [] and summary["determinism"] is None
    assert summary["cost_all_gpu_hours"] == {"8": 25.5}
    assert summary["targets"]["all_gpu_hours"] == {"goal": 12.0, "value": 25.5, "met": None}
    text = render(summary)
    assert "| bench_main | timeout | 240 | 124 |" in text and "Determinism (two" in text
    assert "not measured" in text
