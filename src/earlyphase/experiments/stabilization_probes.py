"""Head-only probe runs for the stabilization heuristic (arXiv v1 Algorithm 2).

Only the head is trainable for the whole probe window: gradual unfreezing with a k larger
than the run, so no block is ever unfrozen (the run id reads ``gu_k<steps+1>``). The run
records the configured probes every ``probe.every`` steps and stops at the end of the
window; Algorithm 2 then reads one metric's trajectory from its ``final/probes.parquet``.
"""

from __future__ import annotations

from earlyphase.runs import resolve_run, total_steps

EVALUATED = False


def probe_run(config: dict, setup_name: str):
    spec = config["experiments"]["stabilization_probes"]
    steps = min(config["probe"]["window"], total_steps(config, setup_name))
    return resolve_run(config, setup_name, spec["seed"], gu_k=steps + 1, probe=True, steps=steps)


def runs(config: dict) -> list:
    setups = config["experiments"].get("stabilization", {}).get("setups", [])
    return [(probe_run(config, s), {"role": "head_only"}) for s in setups]
