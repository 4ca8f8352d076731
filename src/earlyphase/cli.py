"""Command line of earlyphase: what the Snakemake rules call (``python -m earlyphase ...``).

Each subcommand is a thin shell around one module; arguments are explicit paths and the
resolved JSON config of the job, so a rule's command line is the whole story of a job.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path


def _json_arg(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from err


def _csv_list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def cmd_validate(args) -> int:
    from earlyphase.params import load_params

    config = load_params(args.params, *args.overlay)
    from earlyphase.experiments import all_runs

    print(f"params OK: {len(all_runs(config))} training runs")
    return 0


def cmd_prepare_clean(args) -> int:
    from earlyphase.data.prepare import prepare_clean

    spec = args.spec
    prepare_clean(spec["dataset"], spec["source"], Path(args.out), Path(args.raw),
                  offline=spec.get("offline"))
    return 0


def cmd_prepare_ood(args) -> int:
    from earlyphase.data.prepare import prepare_corrupted

    spec = args.spec
    prepare_corrupted(spec["clean"]["dataset"], spec["source"], Path(args.clean), Path(args.out),
                      Path(args.raw), spec["corruptions"], seed=spec["seed"], workers=args.workers)
    return 0


@contextlib.contextmanager
def _job_device(requested: str):
    """The device of this job: a GPU of its own from the pool on a multi-GPU machine."""
    from earlyphase.gpu_pool import claimed_device

    with claimed_device(requested) as device:
        if device.startswith("cuda:"):
            import torch

            torch.cuda.set_device(device)
        yield device


def cmd_train(args) -> int:
    import torch

    from earlyphase.train import train_run

    torch.set_num_threads(args.threads)
    with _job_device(args.device) as device:
        status = train_run(args.config, args.run_dir, args.data, device=device,
                           checkpoint_every=args.checkpoint_every, progress=not args.no_progress)
    print(json.dumps(status))
    return 0


def cmd_evaluate(args) -> int:
    from earlyphase.evaluate import evaluate_run

    with _job_device(args.device) as device:
        evaluate_run(args.final, args.clean, args.ood, _csv_list(args.corruptions),
                     [int(s) for s in _csv_list(args.severities)], args.out, device=device,
                     batch_size=args.batch_size)
    return 0


def cmd_aggregate(args) -> int:
    from earlyphase.aggregate import collect
    from earlyphase.atomic import write_parquet

    write_parquet(args.out, collect(args.manifest))
    return 0


def cmd_report(args) -> int:
    import importlib

    import pandas as pd

    try:
        module = importlib.import_module(f"earlyphase.report.{args.artifact}")
    except ModuleNotFoundError:
        raise ValueError(f"no report module earlyphase.report.{args.artifact}") from None
    module.render([pd.read_parquet(path) for path in args.runs], Path(args.out), note=args.note)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="earlyphase", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate params.yaml (and overlays) and count the runs")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("prepare-clean", help="download or build a clean data set")
    p.add_argument("--spec", type=_json_arg, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--raw", required=True)
    p.set_defaults(func=cmd_prepare_clean)

    p = sub.add_parser("prepare-ood", help="download or generate a corrupted test set")
    p.add_argument("--spec", type=_json_arg, required=True)
    p.add_argument("--clean", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--raw", required=True)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_prepare_ood)

    p = sub.add_parser("train", help="train one run (resumes from its checkpoint)")
    p.add_argument("--config", type=_json_arg, required=True, help="resolved run config (JSON)")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--data", required=True, help="clean data folder")
    p.add_argument("--device", default="auto")
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="ID and OOD accuracy of one run")
    p.add_argument("--final", required=True, help="the run's final/ folder")
    p.add_argument("--clean", required=True)
    p.add_argument("--ood", required=True)
    p.add_argument("--corruptions", required=True, help="comma-separated")
    p.add_argument("--severities", required=True, help="comma-separated")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=1000)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("aggregate", help="tidy table of runs from a manifest")
    p.add_argument("--manifest", type=_json_arg, required=True,
                   help="JSON list: [{run_id, final_dir, eval_path, **labels}]")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("report", help="render a table or figure from an aggregate table")
    p.add_argument("artifact", help="a module of earlyphase.report, e.g. table1, figure1")
    p.add_argument("--runs", nargs="+", required=True, help="aggregate tables (parquet)")
    p.add_argument("--out", required=True)
    p.add_argument("--note", default="")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, RuntimeError) as err:  # bad input, missing/corrupt files, OOM
        hint = ""
        if "out of memory" in str(err).lower():
            hint = ("\n  hint: out of memory; lower the batch size or give the rule more memory "
                    "(mem_mb, or a larger GPU); a training run resumes from its last checkpoint")
        print(f"earlyphase {args.command}: error: {err}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
