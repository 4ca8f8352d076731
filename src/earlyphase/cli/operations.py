"""Operations subcommands: ``validate`` the parameters, estimate the ``cost`` of artifacts, and
``unlock-stale`` a workflow left locked by a crash."""

from __future__ import annotations

import argparse


def cmd_validate(args) -> int:
    from earlyphase.params import load_params

    config = load_params(args.params, *args.overlay)
    from earlyphase.experiments import all_runs

    print(f"params OK: {len(all_runs(config))} training runs")
    return 0


def cmd_unlock_stale(args) -> int:
    from earlyphase.operations.workflow_lock import main as unlock_main

    return unlock_main(args)


def cmd_cost(args) -> int:
    from earlyphase.operations.cost import main as cost_main

    return cost_main(args)


def _add_cost(sub) -> None:
    p = sub.add_parser("cost", help="runs, steps and estimated GPU-hours of artifacts")
    p.add_argument("targets", nargs="*", default=[],
                   help="artifact names (table1, figure2, ...) or all; none: every artifact and all")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.add_argument("--reference", default="bench/throughput_reference.json", help="measured per-step costs")
    p.add_argument("--device-name", default=None, help="use the measurement of this device (substring)")
    p.add_argument("--measured-on", choices=["cuda", "cpu"], default="cuda",
                   help="read measurements of this device type (cpu: the CPU rehearsal of gpu_check.sh)")
    p.add_argument("--config-json", default=None, help="resolved config (JSON) instead of --params")
    p.add_argument("--gpus", type=int, default=1, help="G: GPUs for the wall-clock estimate")
    p.add_argument("--pack", type=int, default=None,
                   help="K: training runs per GPU (default: the config's gpu_slots, else 1)")
    p.add_argument("--out", default=None, help="also write the report here")
    p.set_defaults(func=cmd_cost)


def register(sub) -> None:
    """Add this stage's subcommands to ``sub`` (the parser's subparsers)."""
    p = sub.add_parser("validate", help="validate params.yaml (and overlays) and count the runs")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.set_defaults(func=cmd_validate)

    _add_cost(sub)

    p = sub.add_parser("unlock-stale", help="after a crash: unlock the workflow if no live Snakemake holds it")
    p.add_argument("--directory", default=".", help="the workflow's working directory")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the snakemake command to unlock with")
    p.set_defaults(func=cmd_unlock_stale)
