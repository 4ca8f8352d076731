"""Phase-diagram subcommand: ``phase-diagram-job`` runs one job of the early-training phase diagram
(Kalra & Barkeshli) on an FCN or on the two-layer uv model."""

from __future__ import annotations

from earlyphase.cli.arguments import json_arg


def cmd_phase_diagram_job(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.phase_diagram.jobs import run_fcn_job, run_uv_job

    frame = run_fcn_job(args.spec, args.data) if args.model == "fcn" else run_uv_job(args.spec)
    write_parquet(args.out, frame)
    return 0


def register(sub) -> None:
    """Add this stage's subcommand to ``sub`` (the parser's subparsers)."""
    p = sub.add_parser("phase-diagram-job", help="one phase-diagram job (Kalra & Barkeshli): FCN or uv model")
    p.add_argument("model", choices=["fcn", "uv"])
    p.add_argument("--spec", type=json_arg, required=True,
                   help="one job of earlyphase.experiments.phase_diagram.jobs / uv_model.jobs (JSON)")
    p.add_argument("--data", help="clean data folder (fcn)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_phase_diagram_job)
