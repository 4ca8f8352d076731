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


def cmd_claim_tests(args) -> int:
    """The claims ledger's test list, fixed by the configuration alone (results/tables/claim_tests.parquet)."""
    import json

    import pandas as pd

    from earlyphase.experiments.claims import declared_tests
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.params import load_params, validate_params

    if args.config_json:
        config = json.loads(args.config_json)
        validate_params(config)
    else:
        config = load_params(args.params, *args.overlay)
    write_parquet(args.out, pd.DataFrame(declared_tests(config)))
    return 0


def _register_claim_tests(sub) -> None:
    p = sub.add_parser("claim-tests", help="the claims ledger's tests of a configuration (before any result)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.add_argument("--config-json", default=None, help="resolved config (JSON) instead of --params")
    p.add_argument("--out", required=True, help="the test list (parquet)")
    p.set_defaults(func=cmd_claim_tests)


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
    _register_claim_tests(sub)
