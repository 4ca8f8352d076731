"""Run-record subcommands: tables built from the records of many runs (``aggregate``, ``probe-table``,
``posthoc-table``, ``run-log-table``, ``concat-tables``), the ``status`` of a target's runs, and
``publish`` / ``rebuild-published`` for the records behind published artifacts, and ``readme-results``,
README's results section written from the published records."""

from __future__ import annotations

from pathlib import Path

from earlyphase.cli.arguments import add_manifest_command, json_arg


def cmd_aggregate(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.records.aggregate import collect

    write_parquet(args.out, collect(args.manifest))
    return 0


def cmd_probe_table(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.records.run_logs import collect_probes

    write_parquet(args.out, collect_probes(args.manifest))
    return 0


def cmd_posthoc_table(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.probes.posthoc import collect_posthoc

    write_parquet(args.out, collect_posthoc(args.manifest))
    return 0


def cmd_run_log_table(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.records.run_logs import collect_logs

    write_parquet(args.out, collect_logs(args.manifest, args.file))
    return 0


def cmd_concat_tables(args) -> int:
    import pandas as pd

    from earlyphase.operations.atomic import write_parquet

    write_parquet(args.out, pd.concat([pd.read_parquet(path) for path in args.inputs], ignore_index=True))
    return 0


def cmd_status(args) -> int:
    from earlyphase.records.status import main as status_main

    return status_main(args)


def cmd_publish(args) -> int:
    from earlyphase.records.published import publish

    provenance = {"command": args.command_line, "wall_time_s": args.wall_time_s, "date": args.date}
    if args.trained_at:
        provenance["trained_at_commit"] = args.trained_at
    if args.note:
        provenance["note"] = args.note
    publish(args.overlay, args.artifact, Path(args.out), provenance, judged=args.judged)
    print(f"published {', '.join(args.artifact)} and their run records to {args.out}")
    return 0


def cmd_rebuild_published(args) -> int:
    from earlyphase.records import scale_ladder
    from earlyphase.records.published import check, rebuild

    if Path(args.folder).resolve().name == scale_ladder.FOLDER:  # derived from its sibling sets, remade in place
        args.published = str(Path(args.folder).resolve().parent)
        return cmd_scale_ladder(args)
    if args.check:
        differing = check(Path(args.folder))
        if differing:
            print(f"{args.folder}: the records do not reproduce {', '.join(differing)}")
            return 1
        print(f"{args.folder}: every published table and DVC file (metrics, plot points) is reproduced "
              "byte for byte from its records")
        return 0
    for path in rebuild(Path(args.folder), Path(args.out)):
        print(path)
    return 0


def cmd_scale_ladder(args) -> int:
    from earlyphase.records import scale_ladder

    published = Path(args.published)
    if args.check:
        if not scale_ladder.check(published):
            print(f"{published / scale_ladder.FOLDER / scale_ladder.CSV} is not what the published sets give; "
                  f"run `{scale_ladder.COMMAND}` and commit the result")
            return 1
        print(f"{published / scale_ladder.FOLDER / scale_ladder.CSV} matches the published sets")
        return 0
    print(f"scale ladder written to {scale_ladder.write(published)}")
    return 0


def cmd_readme_results(args) -> int:
    from earlyphase.records.readme_results import block_diff, write

    if args.check:
        diff = block_diff(Path(args.readme), Path(args.published))
        if diff:
            print(diff, end="")
            print(f"{args.readme}: its results block disagrees with the records in {args.published}; "
                  "run `make readme` (python -m earlyphase readme-results) and commit the result")
            return 1
        print(f"{args.readme}: the results block matches the records in {args.published}")
        return 0
    changed = write(Path(args.readme), Path(args.published))
    print(f"{args.readme}: results block {'rewritten' if changed else 'already up to date'} "
          f"from {args.published}")
    return 0


def _add_tables(sub) -> None:
    add_manifest_command(sub, "aggregate", "tidy table of runs from a manifest",
                         "JSON list: [{run_id, final_dir, eval_path, **labels}]", cmd_aggregate)
    add_manifest_command(sub, "probe-table", "tidy table of the probe records of runs (probe extraction)",
                         "JSON list: [{run_id, final_dir, **labels}]", cmd_probe_table)
    add_manifest_command(sub, "posthoc-table", "tidy table of post-hoc probe results",
                         "JSON list: [{run_id, posthoc_path, **labels}]", cmd_posthoc_table)

    p = sub.add_parser("run-log-table", help="one per-run log file (probes, test log) of many runs in one table")
    p.add_argument("--manifest", type=json_arg, required=True, help="JSON list: [{run_id, final_dir, **labels}]")
    p.add_argument("--file", required=True, help="file name inside each run's final/, e.g. probes.parquet")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_run_log_table)

    p = sub.add_parser("concat-tables", help="concatenate tables (parquet) into one")
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_concat_tables)


def _add_published(sub) -> None:
    p = sub.add_parser("publish", help="copy artifacts and the run records behind them to results/published/NAME")
    p.add_argument("--overlay", action="append", default=[], help="the overlays of the run (repeatable)")
    p.add_argument("--artifact", action="append", required=True, help="artifact to publish (repeatable)")
    p.add_argument("--out", required=True)
    p.add_argument("--command-line", required=True, help="the exact command that made the artifacts")
    p.add_argument("--wall-time-s", type=float, required=True, help="its measured wall time")
    p.add_argument("--date", required=True)
    p.add_argument("--trained-at", help="the commit the runs were trained at, when the artifacts were rendered later")
    p.add_argument("--note", help="what a reader of the numbers must know (how the runs were made), in the README")
    p.add_argument("--judged", action="append", help="an artifact whose claims the published ledger judges, when the "
                   "preset's runs did not all finish (repeatable; the others' tests stay in m)")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("rebuild-published", help="remake published artifacts from their records (no training)")
    p.add_argument("folder", help="a folder under results/published/")
    p.add_argument("--out", default="figures/rebuilt", help="where the remade artifacts go")
    p.add_argument("--check", action="store_true",
                   help="compare the remade tables and DVC files with the published ones (figures are only remade)")
    p.set_defaults(func=cmd_rebuild_published)

    p = sub.add_parser("scale-ladder", help="Table 1's GU - standard differences of every published set "
                       "against training compute (results/published/scale-ladder)")
    p.add_argument("--published", default="results/published", help="the folder of the published sets")
    p.add_argument("--check", action="store_true", help="only compare the CSV with what the sets give")
    p.set_defaults(func=cmd_scale_ladder)

    p = sub.add_parser("readme-results", help="write README's results section from the published records")
    p.add_argument("--readme", default="README.md", help="the README with the results markers")
    p.add_argument("--published", default="results/published", help="the folder of the published sets")
    p.add_argument("--check", action="store_true", help="only compare: print a diff and fail where they disagree")
    p.set_defaults(func=cmd_readme_results)


def register(sub) -> None:
    """Add this stage's subcommands to ``sub`` (the parser's subparsers)."""
    _add_tables(sub)

    p = sub.add_parser("status", help="each training run of a target: done, running, failed, diverged or pending")
    p.add_argument("targets", nargs="*", default=[], help="artifact names (table1, ...), experiments or all (default)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.add_argument("--reference", default="bench/throughput_reference.json",
                   help="measured per-step costs, for runs without a measured rate")
    p.add_argument("--jobs", type=int, default=None,
                   help="jobs at once for the ETA (default: CPU cores without CUDA, else the GPUs)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    _add_published(sub)
