"""Report-stage subcommand: ``report`` renders one artifact of the registry (a table or figure) from
aggregate tables, optionally with its DVC metrics and plot data."""

from __future__ import annotations

from pathlib import Path


def cmd_report(args) -> int:
    import pandas as pd

    from earlyphase.experiments import ARTIFACTS

    if args.artifact not in ARTIFACTS:
        raise ValueError(f"unknown artifact {args.artifact!r}; known: {', '.join(sorted(ARTIFACTS))}")
    artifact = ARTIFACTS[args.artifact]
    tables = [pd.read_parquet(path) for path in args.runs]
    artifact.render(tables, Path(args.out), note=args.note)
    if args.metrics:
        from earlyphase.report.metrics import write_metrics

        if not artifact.metric_keys:
            raise ValueError(f"artifact {artifact.name!r} declares no metrics (metric_keys)")
        csv = Path(args.out).parent / artifact.outputs["csv"]
        write_metrics(csv, artifact.metric_keys, artifact.metric_values, args.metrics)
    if args.plot_data:
        from earlyphase.report._common import write_csv

        if artifact.plot_data is None:
            raise ValueError(f"artifact {artifact.name!r} declares no plot data (plot_data)")
        write_csv(artifact.plot_data(tables), args.plot_data)
    return 0


def register(sub) -> None:
    """Add this stage's subcommand to ``sub`` (the parser's subparsers)."""
    p = sub.add_parser("report", help="render a table or figure from an aggregate table")
    p.add_argument("artifact", help="an artifact of the registry (earlyphase.experiments), e.g. table1, figure1")
    p.add_argument("--runs", nargs="+", required=True, help="aggregate tables (parquet)")
    p.add_argument("--out", required=True)
    p.add_argument("--note", default="")
    p.add_argument("--metrics", help="also write the table's headline numbers here (DVC metrics, JSON)")
    p.add_argument("--plot-data", help="also write the points of its DVC plots here (CSV)")
    p.set_defaults(func=cmd_report)
