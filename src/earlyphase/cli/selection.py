"""Selection-stage subcommands: ``stabilize`` (Algorithm 2's choice of k from a head-only run) and
``choose-eta-star`` (the best learning rate of the Fisher experiment's grid)."""

from __future__ import annotations

import json

from earlyphase.cli.arguments import add_manifest_command, json_arg


def cmd_stabilize(args) -> int:
    from earlyphase.operations.atomic import atomic_path
    from earlyphase.records.run_record import RunRecord
    from earlyphase.selection.stabilization import choose_k

    result = choose_k(RunRecord(args.final).probe_log, args.metric, args.settings)
    result["probe_run"] = args.probe_run
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result))
    return 0


def cmd_choose_eta_star(args) -> int:
    from earlyphase.operations.atomic import atomic_path
    from earlyphase.records.aggregate import collect
    from earlyphase.selection.eta_star import choose_eta_star

    result = choose_eta_star(collect(args.manifest))
    result["grid_runs"] = sorted(entry["run_id"] for entry in args.manifest)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps({k: result[k] for k in ("eta_star", "lr_scale")}))
    return 0


def register(sub) -> None:
    """Add this stage's subcommands to ``sub`` (the parser's subparsers)."""
    p = sub.add_parser("stabilize", help="Algorithm 2: choose k from a head-only run's probe records")
    p.add_argument("--final", required=True, help="the head-only run's final/ folder")
    p.add_argument("--probe-run", required=True, help="its run id (recorded in the output)")
    p.add_argument("--metric", required=True, help="a probe of earlyphase.selection.stabilization.METRICS")
    p.add_argument("--settings", type=json_arg, required=True, help="{tau, epsilon, transient, k_max}")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_stabilize)

    add_manifest_command(sub, "choose-eta-star", "eta*: the best point of the Fisher experiment's LR grid (JSON)",
                         "JSON list of the grid runs: [{run_id, final_dir, eval_path, **labels}]",
                         cmd_choose_eta_star)
