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
                  offline=spec.get("offline"), path=spec.get("path"), subset=spec.get("subset"))
    return 0


def cmd_prepare_ood(args) -> int:
    from earlyphase.data.prepare import prepare_corrupted

    spec = args.spec
    prepare_corrupted(spec["clean"]["dataset"], spec["source"], Path(args.clean), Path(args.out),
                      Path(args.raw), spec["corruptions"], seed=spec["seed"], workers=args.workers,
                      path=spec.get("path"))
    return 0


@contextlib.contextmanager
def _job_device(requested: str):
    """The device of this job: a GPU of its own from the pool on a multi-GPU machine."""
    from earlyphase.operations.gpu_pool import claimed_device

    with claimed_device(requested) as device:
        if device.startswith("cuda:"):
            import torch

            torch.cuda.set_device(device)
        yield device


def cmd_train(args) -> int:
    import signal

    import torch

    from earlyphase.training.acceleration import configure_cuda
    from earlyphase.training.trainer import RunInterrupted, Trainer

    torch.set_num_threads(args.threads)
    configure_cuda(args.deterministic)
    fast = {"precision": args.precision, "channels_last": args.channels_last, "compile": args.compile,
            "cuda_graphs": args.cuda_graphs}
    with _job_device(args.device) as device:
        trainer = Trainer(args.config, args.run_dir, args.data, device=device, fast=fast,
                          checkpoint_every=args.checkpoint_every,
                          checkpoint_minutes=args.checkpoint_minutes or None,
                          progress=not args.no_progress)
        # A scheduler ends a job with SIGTERM (then SIGKILL): save the last step and stop.
        previous = signal.signal(signal.SIGTERM, lambda *_: setattr(trainer, "stop_requested", True))
        try:
            status = trainer.run()
        except RunInterrupted as err:
            print(f"earlyphase train: {err}", file=sys.stderr)
            return 128 + signal.SIGTERM
        except TypeError as err:  # a step that crashed inside torch (a fused optimizer, ...)
            raise RuntimeError(f"the training step failed at step {trainer.step} with TypeError: {err} "
                               f"(device {device}, execution {trainer.fast.describe()}); the run is "
                               "recorded as failed, a rerun resumes from its last checkpoint") from err
        finally:
            signal.signal(signal.SIGTERM, previous)
    print(json.dumps(status))
    return 0


def cmd_evaluate(args) -> int:
    from earlyphase.training.evaluate import evaluate_run

    with _job_device(args.device) as device:
        evaluate_run(args.final, args.clean, args.ood, _csv_list(args.corruptions),
                     [int(s) for s in _csv_list(args.severities)], args.out, device=device,
                     batch_size=args.batch_size)
    return 0


def cmd_aggregate(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.records.aggregate import collect

    write_parquet(args.out, collect(args.manifest))
    return 0


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


def cmd_probe_table(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.records.probe_tables import collect_probes

    write_parquet(args.out, collect_probes(args.manifest))
    return 0


def cmd_probe_checkpoint(args) -> int:
    from earlyphase.probes.posthoc import probe_final

    with _job_device(args.device) as device:
        frame = probe_final(args.final, args.data, args.settings, args.out, device=device)
    print(frame.to_string(index=False))
    return 0


def cmd_posthoc_table(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.probes.posthoc import collect_posthoc

    write_parquet(args.out, collect_posthoc(args.manifest))
    return 0


def cmd_stabilize(args) -> int:
    import pandas as pd

    from earlyphase.operations.atomic import atomic_path
    from earlyphase.selection.stabilization import choose_k

    result = choose_k(pd.read_parquet(Path(args.final) / "probes.parquet"), args.metric, args.settings)
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


def cmd_run_log_table(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.records.run_logs import collect_logs

    write_parquet(args.out, collect_logs(args.manifest, args.file))
    return 0


def cmd_phase_diagram_job(args) -> int:
    from earlyphase.operations.atomic import write_parquet
    from earlyphase.phase_diagram.jobs import run_fcn_job, run_uv_job

    frame = run_fcn_job(args.spec, args.data) if args.model == "fcn" else run_uv_job(args.spec)
    write_parquet(args.out, frame)
    return 0


def cmd_concat_tables(args) -> int:
    import pandas as pd

    from earlyphase.operations.atomic import write_parquet

    write_parquet(args.out, pd.concat([pd.read_parquet(path) for path in args.inputs], ignore_index=True))
    return 0


def cmd_status(args) -> int:
    from earlyphase.records.status import main as status_main

    return status_main(args)


def cmd_unlock_stale(args) -> int:
    from earlyphase.operations.workflow_lock import main as unlock_main

    return unlock_main(args)


def cmd_cost(args) -> int:
    from earlyphase.operations.cost import main as cost_main

    return cost_main(args)


def cmd_publish(args) -> int:
    from earlyphase.records.published import publish

    provenance = {"command": args.command_line, "wall_time_s": args.wall_time_s, "date": args.date}
    if args.trained_at:
        provenance["trained_at_commit"] = args.trained_at
    publish(args.overlay, args.artifact, Path(args.out), provenance)
    print(f"published {', '.join(args.artifact)} and their run records to {args.out}")
    return 0


def cmd_rebuild_published(args) -> int:
    from earlyphase.records.published import check, rebuild

    if args.check:
        differing = check(Path(args.folder))
        if differing:
            print(f"{args.folder}: the records do not reproduce {', '.join(differing)}")
            return 1
        print(f"{args.folder}: every published table is reproduced byte for byte from its records")
        return 0
    for path in rebuild(Path(args.folder), Path(args.out)):
        print(path)
    return 0


def _add_manifest_command(sub, name: str, help_text: str, manifest_help: str, func) -> None:
    """A subcommand that turns a JSON manifest of runs into one table (``--manifest``, ``--out``)."""
    p = sub.add_parser(name, help=help_text)
    p.add_argument("--manifest", type=_json_arg, required=True, help=manifest_help)
    p.add_argument("--out", required=True)
    p.set_defaults(func=func)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="earlyphase", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate params.yaml (and overlays) and count the runs")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("publish", help="copy artifacts and the run records behind them to results/published/NAME")
    p.add_argument("--overlay", action="append", default=[], help="the overlays of the run (repeatable)")
    p.add_argument("--artifact", action="append", required=True, help="artifact to publish (repeatable)")
    p.add_argument("--out", required=True)
    p.add_argument("--command-line", required=True, help="the exact command that made the artifacts")
    p.add_argument("--wall-time-s", type=float, required=True, help="its measured wall time")
    p.add_argument("--date", required=True)
    p.add_argument("--trained-at", help="the commit the runs were trained at, when the artifacts were rendered later")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("rebuild-published", help="remake published artifacts from their records (no training)")
    p.add_argument("folder", help="a folder under results/published/")
    p.add_argument("--out", default="figures/rebuilt", help="where the remade artifacts go")
    p.add_argument("--check", action="store_true", help="compare the remade tables with the published ones")
    p.set_defaults(func=cmd_rebuild_published)

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
    p.add_argument("--checkpoint-every", type=int, default=500,
                   help="steps between resume checkpoints (0: none by step count)")
    p.add_argument("--checkpoint-minutes", type=float, default=None,
                   help="wall-clock minutes between resume checkpoints, written in the background (0: none)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--precision", choices=["fp32", "bf16"], help="default: bf16 on CUDA, fp32 on CPU")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="default: on for CUDA")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the forward pass (falls back to eager if it fails)")
    p.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=None,
                   help="replay the full-batch update as a CUDA graph (CUDA only; eager for penalty runs)")
    p.add_argument("--deterministic", action="store_true",
                   help="deterministic CUDA kernels (slower; see docs/performance.md); "
                        "without it cuDNN autotunes its convolutions")
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

    _add_manifest_command(sub, "aggregate", "tidy table of runs from a manifest",
                          "JSON list: [{run_id, final_dir, eval_path, **labels}]", cmd_aggregate)

    p = sub.add_parser("report", help="render a table or figure from an aggregate table")
    p.add_argument("artifact", help="an artifact of the registry (earlyphase.experiments), e.g. table1, figure1")
    p.add_argument("--runs", nargs="+", required=True, help="aggregate tables (parquet)")
    p.add_argument("--out", required=True)
    p.add_argument("--note", default="")
    p.add_argument("--metrics", help="also write the table's headline numbers here (DVC metrics, JSON)")
    p.add_argument("--plot-data", help="also write the points of its DVC plots here (CSV)")
    p.set_defaults(func=cmd_report)

    _add_manifest_command(sub, "probe-table", "tidy table of the probe records of runs (probe extraction)",
                          "JSON list: [{run_id, final_dir, **labels}]", cmd_probe_table)

    p = sub.add_parser("probe-checkpoint", help="post-hoc probes of a run's final model")
    p.add_argument("--final", required=True, help="the run's final/ folder")
    p.add_argument("--data", required=True, help="clean data folder (training points)")
    p.add_argument("--settings", type=_json_arg, required=True, help="probe settings (JSON)")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_probe_checkpoint)

    _add_manifest_command(sub, "posthoc-table", "tidy table of post-hoc probe results",
                          "JSON list: [{run_id, posthoc_path, **labels}]", cmd_posthoc_table)

    p = sub.add_parser("stabilize", help="Algorithm 2: choose k from a head-only run's probe records")
    p.add_argument("--final", required=True, help="the head-only run's final/ folder")
    p.add_argument("--probe-run", required=True, help="its run id (recorded in the output)")
    p.add_argument("--metric", required=True, help="a probe of earlyphase.selection.stabilization.METRICS")
    p.add_argument("--settings", type=_json_arg, required=True, help="{tau, epsilon, transient, k_max}")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_stabilize)

    _add_manifest_command(sub, "choose-eta-star", "eta*: the best point of the Fisher experiment's LR grid (JSON)",
                          "JSON list of the grid runs: [{run_id, final_dir, eval_path, **labels}]",
                          cmd_choose_eta_star)

    p = sub.add_parser("run-log-table", help="one per-run log file (probes, test log) of many runs in one table")
    p.add_argument("--manifest", type=_json_arg, required=True, help="JSON list: [{run_id, final_dir, **labels}]")
    p.add_argument("--file", required=True, help="file name inside each run's final/, e.g. probes.parquet")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_run_log_table)

    p = sub.add_parser("phase-diagram-job", help="one phase-diagram job (Kalra & Barkeshli): FCN or uv model")
    p.add_argument("model", choices=["fcn", "uv"])
    p.add_argument("--spec", type=_json_arg, required=True,
                   help="one job of earlyphase.experiments.phase_diagram.jobs / uv_model.jobs (JSON)")
    p.add_argument("--data", help="clean data folder (fcn)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_phase_diagram_job)

    p = sub.add_parser("concat-tables", help="concatenate tables (parquet) into one")
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_concat_tables)

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

    p = sub.add_parser("status", help="each training run of a target: done, running, failed, diverged or pending")
    p.add_argument("targets", nargs="*", default=[], help="artifact names (table1, ...), experiments or all (default)")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--overlay", action="append", default=[], help="YAML merged over params (repeatable)")
    p.add_argument("--reference", default="bench/throughput_reference.json",
                   help="measured per-step costs, for runs without a measured rate")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("unlock-stale", help="after a crash: unlock the workflow if no live Snakemake holds it")
    p.add_argument("--directory", default=".", help="the workflow's working directory")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the snakemake command to unlock with")
    p.set_defaults(func=cmd_unlock_stale)
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
