"""The short table of a ``bench/gpu_check.sh`` folder: ``python -m earlyphase.bench.check_summary DIR``.

Reads what the script's steps wrote into ``DIR`` (``steps.tsv``: one line per step with
its status, seconds and exit code; one JSON per measuring step) and writes
``DIR/summary.md`` (printed too) and ``DIR/summary.json``: the step statuses, images/s of
one run per workload and execution variant with its ratio to the plain reference of the
same invocation, the aggregate of K runs per GPU, one probe point of each probe, the
determinism check, the host syncs of 50 steps, and the issue's targets (one ResNet-18 run
>= 2.5x the reference; >= 75k images/s aggregate; the cost model's ``all`` <= 12 GPU-hours),
each marked met, missed, or not measured. A missing or failed step leaves its rows out
and says so; the summary itself never fails on a partial folder.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

VARIANTS = (("bench_main", "default fast path"), ("bench_no_cudnn_benchmark", "no cudnn.benchmark"),
            ("bench_compile", "torch.compile"), ("bench_cuda_graphs", "CUDA graphs"))
PACKS = (("pack", "processes"), ("pack_cuda_graphs", "processes + CUDA graphs"),
         ("pack_mps", "MPS + CUDA graphs"))
TARGETS = {"single_resnet18_vs_reference": 2.5, "aggregate_images_per_s": 75_000, "all_gpu_hours": 12.0}


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _steps(folder: Path) -> list[dict]:
    rows = []
    path = folder / "steps.tsv"
    for line in path.read_text().splitlines() if path.exists() else []:
        name, status, seconds, code = (line.split("\t") + ["", "", "", ""])[:4]
        rows.append({"step": name, "status": status, "seconds": seconds, "exit": code})
    return rows


def _cost_hours(folder: Path) -> dict[str, float]:
    """Total GPU-hours of ``all`` per K from the cost steps' reports (``cost_k<K>.txt``)."""
    found = {}
    for path in sorted(folder.glob("cost_k*.txt")):
        match = re.search(r"^all\s+(.*)$", path.read_text(), re.M)
        if match:
            numbers = match.group(1).split()
            found[path.stem.removeprefix("cost_k")] = float(numbers[-2])  # total, then wall h
    return found


def summarize(folder: Path) -> dict:
    summary = {"steps": _steps(folder), "training": [], "pack": [], "probes": [], "targets": {}}
    main = _load(folder, "bench_main")
    summary["device"] = main["device"]["name"] if main else None
    summary["date"] = main["date"] if main else None
    for name, label in VARIANTS:
        result = _load(folder, name)
        for row in (result or {}).get("training", []):
            summary["training"].append({"variant": label, "workload": row["workload"],
                                        "images_per_s": row["fast"]["images_per_s"],
                                        "ratio_vs_reference": row["speedup_vs_reference"],
                                        "peak_fraction": row["fast"]["peak_fraction"]})
    for name, label in PACKS:
        for row in (_load(folder, name) or {}).get("pack", []):
            summary["pack"].append({"variant": label, "workload": row["workload"], "k": row["k"],
                                    "images_per_s": row["images_per_s"], "ratio_vs_k1": row["ratio_vs_k1"],
                                    "ratio_vs_reference": row["ratio_vs_reference"]})
    summary["probes"] = [{"workload": p["workload"], "probe": p["probe"], "seconds": p["seconds"],
                          "train_steps": p["train_steps"]} for p in (main or {}).get("probes", [])]
    summary["determinism"] = _load(folder, "determinism")
    summary["sync"] = _load(folder, "sync")
    summary["cost_all_gpu_hours"] = _cost_hours(folder)

    single = [r["ratio_vs_reference"] for r in summary["training"] if r["workload"] == "resnet18-cifar"]
    aggregate = [r["images_per_s"] for r in summary["pack"] if r["workload"] == "resnet18-cifar"]
    hours = list(summary["cost_all_gpu_hours"].values())
    measured = {"single_resnet18_vs_reference": max(single) if single else None,
                "aggregate_images_per_s": max(aggregate) if aggregate else None,
                "all_gpu_hours": min(hours) if hours else None}
    on_gpu = bool(main) and main["device"]["type"] == "cuda"
    for key, goal in TARGETS.items():
        value = measured[key]
        met = None if value is None or not on_gpu else (value <= goal if key == "all_gpu_hours" else value >= goal)
        summary["targets"][key] = {"goal": goal, "value": value, "met": met}
    return summary


def _table(head: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]


def render(summary: dict) -> str:
    lines = [f"# gpu_check: {summary['device'] or 'device unknown'}, {summary['date'] or ''}", ""]
    lines += _table(["step", "status", "seconds", "exit"],
                    [[s["step"], s["status"], s["seconds"], s["exit"]] for s in summary["steps"]])
    lines += ["", "One run per process (ratio: against the plain reference loop of the same invocation)", ""]
    lines += _table(["variant", "workload", "images/s", "vs reference", "% bf16 peak"],
                    [[r["variant"], r["workload"], f"{r['images_per_s']:.0f}", f"{r['ratio_vs_reference']:.2f}",
                      "n/a" if r["peak_fraction"] is None else f"{100 * r['peak_fraction']:.1f}"]
                     for r in summary["training"]] or [["not measured", "", "", "", ""]])
    lines += ["", "K runs per device", ""]
    lines += _table(["variant", "workload", "K", "images/s (all)", "vs K=1", "vs reference"],
                    [[r["variant"], r["workload"], r["k"], f"{r['images_per_s']:.0f}", f"{r['ratio_vs_k1']:.2f}",
                      f"{r['ratio_vs_reference']:.2f}"] for r in summary["pack"]] or [["not measured"] + [""] * 5])
    lines += ["", "One probe point (one call) of each probe", ""]
    lines += _table(["workload", "probe", "seconds", "training steps"],
                    [[p["workload"], p["probe"], f"{p['seconds']:.3f}", f"{p['train_steps']:.1f}"]
                     for p in summary["probes"]] or [["not measured", "", "", ""]])
    det, sync = summary["determinism"], summary["sync"]
    lines += ["", "Determinism (two `train --deterministic` runs): "
              + ("not measured" if det is None else ("bit-identical" if det["identical"] else
                 f"DIFFERENT: {sorted(det['different_tensors'])[:5]} tables {det['tables_identical']}"))]
    if sync is None:
        lines.append("Host syncs: not measured")
    elif not sync["applicable"]:
        lines.append(f"Host syncs: not applicable on {sync['device']} ({sync['steps']} steps ran)")
    else:
        lines.append(f"Host syncs in {sync['steps']} steps: {sync['train_syncs']} "
                     f"(expected {sync['expected_log_reads']} log reads)")
        lines += [f"  {s['count']:>5}  {s['where']}" for s in sync["train"][:10]]
    hours = summary["cost_all_gpu_hours"]
    lines.append("Cost model, `all`: " + (", ".join(f"K={k}: {v:.1f} GPU-h" for k, v in hours.items())
                                          or "not run"))
    lines += ["", "Targets (met only when measured on a GPU)", ""]
    lines += _table(["target", "goal", "measured", "met"],
                    [[k, t["goal"], "n/a" if t["value"] is None else f"{t['value']:.3g}",
                      {True: "yes", False: "NO", None: "not measured"}[t["met"]]]
                     for k, t in summary["targets"].items()])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    summary = summarize(folder)
    text = render(summary)
    (folder / "summary.md").write_text(text)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(text, end="")
    return summary


if __name__ == "__main__":
    main()
