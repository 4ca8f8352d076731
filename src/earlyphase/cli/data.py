"""Data-stage subcommands: ``prepare-clean`` a data set and ``prepare-ood`` its corrupted test set."""

from __future__ import annotations

from pathlib import Path

from earlyphase.cli.arguments import json_arg


def cmd_prepare_clean(args) -> int:
    from earlyphase.data.prepare import prepare_clean

    spec = args.spec
    prepare_clean(spec["dataset"], spec["source"], Path(args.out), Path(args.raw),
                  offline=spec.get("offline"), path=spec.get("path"), subset=spec.get("subset"))
    return 0


def cmd_prepare_ood(args) -> int:
    from earlyphase.data.prepare import prepare_corrupted

    spec = args.spec
    prepare_corrupted(spec["clean"]["dataset"], spec["source"], Path(args.clean), Path(args.out),
                      Path(args.raw), spec["corruptions"], seed=spec["seed"], workers=args.workers,
                      path=spec.get("path"))
    return 0


def register(sub) -> None:
    """Add this stage's subcommands to ``sub`` (the parser's subparsers)."""
    p = sub.add_parser("prepare-clean", help="download or build a clean data set")
    p.add_argument("--spec", type=json_arg, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--raw", required=True)
    p.set_defaults(func=cmd_prepare_clean)

    p = sub.add_parser("prepare-ood", help="download or generate a corrupted test set")
    p.add_argument("--spec", type=json_arg, required=True)
    p.add_argument("--clean", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--raw", required=True)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_prepare_ood)
