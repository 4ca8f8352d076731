"""The short table of a ``bench/gpu_check.sh`` folder: ``python -m earlyphase.bench.check_summary DIR``.

Reads what the script's steps wrote into ``DIR`` (``steps.tsv``: one line per step with its
status, seconds and exit code; ``preflight.json``; one JSON per measuring step; the cost
reports ``cost_k1.txt`` and ``cost_kbest.txt``) and writes ``DIR/summary.md`` (printed too)
and ``DIR/summary.json``: every step's status, the preflight, the correctness checks,
images/s of one run per workload and execution variant with its ratio to the plain reference
of the same invocation, the aggregate of K runs per GPU, one probe point of each probe, the
determinism check, the host syncs of 50 steps, the cost model's ``all`` at K = 1 and at the
best measured K, and the issue's targets (one ResNet-18 run >= 2.5x the reference; >= 75k
images/s aggregate; the cost model's ``all`` <= 12 GPU-hours), each marked met, missed, or
not measured.

Honest labels: a row is named after what ran, not after the step that asked for it. Beside
each figure of a fast path (torch.compile, CUDA graphs) stand its capture / compile counts;
a run whose fast path fell back to eager (``compile_disabled_because``,
``cuda_graph_replay.failure``, no replay at all) is reported as "fell back to eager" with the
reason, and its figure never counts as the fast path's. A missing or failed step leaves its
rows out and says so; the summary itself never fails on a partial folder.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# (step file, what it asked for, the fast-path switch it tests or None)
VARIANTS = (("bench_main", "default fast path", None), ("bench_cuda_graphs", "CUDA graphs", "cuda_graphs"),
            ("bench_compile", "torch.compile", "compile"))
PACKS = (("pack", "processes", None), ("pack_cuda_graphs", "processes + CUDA graphs", "cuda_graphs"))
TARGETS = {"single_resnet18_vs_reference": 2.5, "aggregate_images_per_s": 75_000, "all_gpu_hours": 12.0}
COSTS = ("cost_k1", "cost_kbest")


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


def what_ran(settings: dict | None, switch: str | None, compile_stats: dict | None = None) -> dict:
    """Did the fast path ``switch`` (``compile``, ``cuda_graphs`` or None) really run?

    ``settings`` is the run's recorded execution (``Trainer.execution()["fast"]``)."""
    settings = settings or {}
    replay = settings.get("cuda_graph_replay") or {}
    counts = {"captures": replay.get("captures"), "replays": replay.get("replays"),
              "compiled_graphs": (compile_stats or {}).get("unique_graphs"),
              "graph_breaks": (compile_stats or {}).get("graph_breaks")}
    reason = None
    if switch == "compile" and (not settings.get("compile") or settings.get("compile_disabled_because")):
        reason = settings.get("compile_disabled_because") or "compile was off"
    elif switch == "cuda_graphs" and not (settings.get("cuda_graphs") and replay.get("replays")):
        reason = (settings.get("cuda_graphs_disabled_because") or replay.get("failure")
                  or "no update was replayed from a graph")
    return {"fell_back": reason is not None, "fallback_reason": reason, **counts}


def _label(asked: str, ran: dict) -> str:
    return f"{asked}: FELL BACK to eager" if ran["fell_back"] else asked


def _cost(folder: Path, name: str) -> dict | None:
    """K, the total GPU-hours of ``all`` and the warnings of one cost report."""
    path = folder / f"{name}.txt"
    if not path.exists():
        return None
    text = path.read_text()
    k = re.search(r"packing: K = (\d+)", text)
    # The report's last `all` row is the GPU-hours table's (the counts table comes first).
    rows = re.findall(r"^all\s+(.*)$", text, re.M)
    try:
        hours = float(rows[-1].split()[-2]) if rows else None  # total, then wall h
    except (ValueError, IndexError):
        hours = None  # a row this parser cannot read is reported as such, never a crash
    return {"step": name, "k": int(k.group(1)) if k else None, "all_gpu_hours": hours,
            "per_step_costs": next((line.split(": ", 1)[1] for line in text.splitlines()
                                    if line.startswith("per-step costs:")), None),
            "warnings": [line for line in text.splitlines() if line.startswith(("WARNING", "note:"))]}


def _correctness(result: dict | None) -> list[dict]:
    rows = []
    for check in (result or {}).get("checks", []):
        figures = {k: check[k] for k in ("max_rel_loss_diff", "rel_mean_loss_diff", "max_rel_weight_diff",
                                         "captures", "replays") if k in check}
        for part in ("cpu_checkpoint_on_device", "device_checkpoint_on_device"):
            if part in check:
                figures[part] = check[part].get("max_rel_weight_diff")
        rows.append({"check": check["name"], "status": check["status"], "reason": check.get("reason"),
                     "figures": figures})
    return rows


def summarize(folder: Path) -> dict:
    summary = {"steps": _steps(folder), "preflight": _load(folder, "preflight"),
               "correctness": _correctness(_load(folder, "correctness")),
               "training": [], "pack": [], "probes": [], "targets": {}}
    main = _load(folder, "bench_main")
    preflight = summary["preflight"] or {}
    summary["device"] = main["device"]["name"] if main else preflight.get("device_name")
    summary["date"] = main["date"] if main else preflight.get("date")
    for name, asked, switch in VARIANTS:
        for row in (_load(folder, name) or {}).get("training", []):
            ran = what_ran(row["fast"].get("settings"), switch, row["fast"].get("compile_stats"))
            summary["training"].append({"variant": _label(asked, ran), "asked": asked, "workload": row["workload"],
                                        "images_per_s": row["fast"]["images_per_s"],
                                        "ratio_vs_reference": row["speedup_vs_reference"],
                                        "peak_fraction": row["fast"]["peak_fraction"], **ran})
    for name, asked, switch in PACKS:
        for row in (_load(folder, name) or {}).get("pack", []):
            ran = what_ran(row.get("fast"), switch)
            summary["pack"].append({"variant": _label(asked, ran), "asked": asked, "workload": row["workload"],
                                    "k": row["k"], "images_per_s": row["images_per_s"],
                                    "ratio_vs_k1": row["ratio_vs_k1"],
                                    "ratio_vs_reference": row["ratio_vs_reference"], **ran})
    summary["probes"] = [{"workload": p["workload"], "probe": p["probe"], "seconds": p["seconds"],
                          "train_steps": p["train_steps"]} for p in (main or {}).get("probes", [])]
    summary["determinism"] = _load(folder, "determinism")
    summary["sync"] = _load(folder, "sync")
    summary["costs"] = [c for c in (_cost(folder, name) for name in COSTS) if c is not None]

    # A fast path that fell back never counts as that fast path's figure.
    single = [r["ratio_vs_reference"] for r in summary["training"]
              if r["workload"] == "resnet18-cifar" and not r["fell_back"]]
    aggregate = [r["images_per_s"] for r in summary["pack"] if r["workload"] == "resnet18-cifar" and not r["fell_back"]]
    hours = [c["all_gpu_hours"] for c in summary["costs"] if c["all_gpu_hours"] is not None]
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


def _counts(row: dict) -> str:
    """Capture / compile counts and the fallback reason beside a figure."""
    parts = []
    if row.get("replays") is not None:
        parts.append(f"{row['captures']} captures, {row['replays']} replays")
    if row.get("compiled_graphs") is not None:
        parts.append(f"{row['compiled_graphs']} graphs compiled, {row['graph_breaks']} breaks")
    if row.get("fallback_reason"):
        parts.append(f"why: {' '.join(str(row['fallback_reason']).split())[:160]}")
    return "; ".join(parts) or "-"


def _preflight_line(pre: dict | None) -> str:
    if pre is None:
        return "Preflight: not run"
    missing = ", ".join(pre.get("missing") or []) or "none"
    return (f"Preflight: {pre.get('python', '?')}, torch {pre.get('torch', '?')}, CUDA available: "
            f"{pre.get('cuda_available')}, device: {pre.get('device_name') or 'none'}; missing imports: {missing}")


def render(summary: dict) -> str:
    lines = [f"# gpu_check: {summary['device'] or 'device unknown'}, {summary['date'] or ''}", ""]
    lines += _table(["step", "status", "seconds", "exit"],
                    [[s["step"], s["status"], s["seconds"], s["exit"]] for s in summary["steps"]])
    lines += ["", _preflight_line(summary["preflight"]), "", "Correctness (the device against the CPU and itself)", ""]
    lines += _table(["check", "status", "figures", "reason"],
                    [[c["check"], c["status"], ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                                         for k, v in c["figures"].items()) or "-",
                      c["reason"] or "-"] for c in summary["correctness"]] or [["not run", "", "", ""]])
    lines += ["", "One run per process (ratio: against the plain reference loop of the same invocation)", ""]
    lines += _table(["variant", "workload", "images/s", "vs reference", "% bf16 peak", "captures / compiles"],
                    [[r["variant"], r["workload"], f"{r['images_per_s']:.0f}", f"{r['ratio_vs_reference']:.2f}",
                      "n/a" if r["peak_fraction"] is None else f"{100 * r['peak_fraction']:.1f}", _counts(r)]
                     for r in summary["training"]] or [["not measured", "", "", "", "", ""]])
    lines += ["", "K runs per device", ""]
    lines += _table(["variant", "workload", "K", "images/s (all)", "vs K=1", "vs reference", "captures"],
                    [[r["variant"], r["workload"], r["k"], f"{r['images_per_s']:.0f}", f"{r['ratio_vs_k1']:.2f}",
                      f"{r['ratio_vs_reference']:.2f}", _counts(r)] for r in summary["pack"]]
                    or [["not measured"] + [""] * 6])
    lines += ["", "One probe point (one call) of each probe the cost model reads", ""]
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
    lines.append("")
    for cost in summary["costs"]:
        hours = "no `all` row" if cost["all_gpu_hours"] is None else f"{cost['all_gpu_hours']:.1f} GPU-h"
        lines.append(f"Cost model, `all`, K = {cost['k']} ({cost['step']}): {hours}; per-step costs: "
                     f"{cost['per_step_costs']}")
        lines += [f"  {w}" for w in cost["warnings"]]
    if not summary["costs"]:
        lines.append("Cost model, `all`: not run")
    lines += ["", "Targets (met only when measured on a GPU; a fallen-back fast path never counts)", ""]
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
