"""Results published on purpose under ``results/published/<name>/``, rebuilt without training.

A published folder holds what a reader needs to check a table without a GPU or an hour of
CPU: the artifacts as they were made (the tables, the figure), the per-run records they
were made from (``final/config.json``, ``final/status.json`` and the evaluation parquet,
no weights), ``provenance.json`` (command, commit, machine, wall time, the overlays
that define the configuration) and what DVC reads, in the workflow's layout: a table's
metrics (``metrics/<artifact>.json``) and a figure's plotted points (``plots/<artifact>.csv``),
declared in dvc.yaml so that ``dvc metrics show`` and ``dvc plots show`` work in a fresh
clone. ``rebuild`` runs the same aggregation and report code the workflow runs on those
records, so ``check`` can confirm that the published tables and DVC files follow byte for
byte from the published records.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from earlyphase.experiments import ARTIFACTS, evaluated_run_ids, experiment_runs
from earlyphase.experiments import phase_diagram as phase_diagram_experiment
from earlyphase.experiments.claims import CLAIM_TESTS, declared_tests
from earlyphase.operations.atomic import atomic_dir, write_parquet
from earlyphase.params import REPO_ROOT, load_params
from earlyphase.records.aggregate import collect
from earlyphase.records.manifest import manifest
from earlyphase.records.run_logs import collect_logs, collect_probes
from earlyphase.records.run_record import CONFIG, PROBE_LOG, STATUS, RunRecord
from earlyphase.report._common import tables_only, write_csv
from earlyphase.report.metrics import write_metrics

PROVENANCE = "provenance.json"
RECORD_FILES = (CONFIG, STATUS)
# Tables the workflow makes from the records with a collector other than `aggregate`:
# table -> (the experiment whose runs it reads, the collector of rule probe_table), and the
# record files they read beyond RECORD_FILES. Rule run_log_table's `<experiment>_log-<log>.parquet`
# tables (per-run logs: tr(F) trajectories, the warm start's test log) are read by RUN_LOG_TABLE.
COLLECTED_TABLES = {"probes.parquet": ("probes", collect_probes)}
TABLE_RECORD_FILES = {"probes.parquet": (PROBE_LOG,)}
RUN_LOG_TABLE = re.compile(r"(?P<experiment>\w+)_log-(?P<log>probes|test_log)\.parquet")
# Tables of jobs that are not training runs (rule phase_diagram_table): table -> the jobs'
# folder under paths.results and the experiment module listing their tags; the folder's
# files are the records, published as they are.
JOB_TABLES = {"phase_diagram_runs.parquet": ("phase_diagram/fcn", phase_diagram_experiment)}
# What must come out byte-identical (figures embed dates and font subsets, so they are only remade).
COMPARED_SUFFIXES = (".tex", ".csv", ".md", ".json")


def _config(overlays: list[str], results: Path | str | None = None, judged: list[str] | None = None) -> dict:
    """The configuration the published run used; its records are read from ``results``. A set
    published before all of its preset's runs finished names the artifacts its ledger judges."""
    config = load_params(REPO_ROOT / "params.yaml", *(REPO_ROOT / o for o in overlays))
    if judged is not None:
        config["experiments"]["claims"] = {**(config["experiments"].get("claims") or {}), "judged": judged}
    if results is not None:
        config["paths"] = {**config["paths"], "results": str(results)}
    return config


def _experiment(table: str) -> str:
    if table in COLLECTED_TABLES:
        return COLLECTED_TABLES[table][0]
    log_table = RUN_LOG_TABLE.fullmatch(table)
    return log_table["experiment"] if log_table else table.removesuffix("_runs.parquet")


def _record_files(table: str) -> tuple[str, ...]:
    """The record files of a run that ``table`` reads."""
    log_table = RUN_LOG_TABLE.fullmatch(table)
    return RECORD_FILES + TABLE_RECORD_FILES.get(table, ()) + ((f"{log_table['log']}.parquet",) if log_table else ())


def _manifest(config: dict, table: str) -> list[dict]:
    """The manifest the aggregate (probe_table, run_log_table) rule gets for ``table``."""
    return manifest(config, experiment_runs(config, _experiment(table)), evaluated_run_ids(config))


def _job_files(config: dict, table: str) -> list[Path]:
    """The job outputs a job table concatenates, in the rule's order (sorted tags)."""
    folder, experiment = JOB_TABLES[table]
    return [Path(config["paths"]["results"]) / folder / f"{tag}.parquet" for tag in sorted(experiment.jobs(config))]


def _table(config: dict, table: str) -> pd.DataFrame:
    """A report input as the workflow makes it: the claims' test list from the configuration,
    a job table by concatenating its jobs' outputs, any other table by collecting its
    experiment's records."""
    if table == CLAIM_TESTS:
        return pd.DataFrame(declared_tests(config))
    if table in JOB_TABLES:
        return pd.concat([pd.read_parquet(path) for path in _job_files(config, table)], ignore_index=True)
    log_table = RUN_LOG_TABLE.fullmatch(table)
    if log_table:
        return collect_logs(_manifest(config, table), f"{log_table['log']}.parquet")
    collector = COLLECTED_TABLES[table][1] if table in COLLECTED_TABLES else collect
    return collector(_manifest(config, table))


def machine() -> dict:
    """What the published numbers were measured on."""
    import torch

    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
              if line.startswith("model name")] if cpuinfo.exists() else []
    return {"cpu": models[0] if models else platform.processor(), "cores": os.cpu_count(),
            "os": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def _copy_records(config: dict, table: str, dest: Path) -> None:
    """The record files of every run behind ``table`` (its logs too, for a log table), or the
    job outputs of a job table, into the published folder ``dest``."""
    if table in JOB_TABLES:
        results = Path(config["paths"]["results"])
        for path in _job_files(config, table):
            (dest / path.relative_to(results)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / path.relative_to(results))
        return
    runs = dest / "runs"
    files = _record_files(table)
    for entry in _manifest(config, table):
        run = runs / entry["run_id"]
        record = RunRecord(entry["final_dir"], entry["eval_path"])
        (run / "final").mkdir(parents=True, exist_ok=True)
        for name in files:
            if name in RECORD_FILES or record.has(name):  # a run may have no log of its own
                shutil.copy2(record.file(name), run / "final" / name)
        if entry["eval_path"]:
            (run / "eval").mkdir(exist_ok=True)
            shutil.copy2(record.evaluation_file(), run / "eval" / record.eval_path.name)


def publish(overlays: list[str], artifacts: list[str], dest: Path, provenance: dict,
            root: Path = REPO_ROOT, judged: list[str] | None = None) -> None:
    """Copy the artifacts and the records behind them from the workflow's folders (under
    ``root``, the folder the workflow ran in) to ``dest``; ``judged``: the artifacts whose
    claims the published ledger judges (``experiments.claims.judged``), when not all."""
    config = _config(overlays, judged=judged)
    figures = Path(root) / config["paths"]["figures"]
    config["paths"] = {**config["paths"], "results": str(Path(root) / config["paths"]["results"])}
    with atomic_dir(Path(dest)) as tmp:
        for name in artifacts:
            artifact = ARTIFACTS[name]
            for output in artifact.outputs.values():
                shutil.copy2(figures / output, tmp / output)
            for table in artifact.input_tables(config):
                if table != CLAIM_TESTS:
                    _copy_records(config, table, tmp)
        with tempfile.TemporaryDirectory() as scratch:  # the DVC files, from the copied records
            render(_config(overlays, tmp, judged), artifacts, Path(scratch))
            for path in dvc_files(artifacts):
                (tmp / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(scratch) / path, tmp / path)
        record = {"overlays": overlays, "artifacts": artifacts, "commit": git_commit(), "machine": machine(),
                  **({"judged": judged} if judged is not None else {}), **provenance}
        (tmp / PROVENANCE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def rebuild(published: Path, out: Path) -> list[Path]:
    """Make the published artifacts again in ``out`` from the published records alone."""
    record = json.loads((Path(published) / PROVENANCE).read_text())
    config = _config(record["overlays"], Path(published).resolve(), record.get("judged"))
    return render(config, record["artifacts"], Path(out))


def dvc_files(artifacts: list[str]) -> list[str]:
    """The metrics and plot files of ``artifacts``, relative to the published folder."""
    files = [(ARTIFACTS[name].metrics_file, ARTIFACTS[name].plot_file) for name in artifacts]
    return [path for pair in files for path in pair if path]


def render(config: dict, artifacts: list[str], out: Path) -> list[Path]:
    """Aggregate the runs' records under ``paths.results`` and render ``artifacts`` into ``out``
    (what the workflow's aggregate and report rules do), with their DVC files under
    ``out/metrics`` and ``out/plots``."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in artifacts:
            artifact = ARTIFACTS[name]
            tables = []
            for table in artifact.input_tables(config):  # as the aggregate and claim_tests rules write them
                path = Path(scratch) / table
                write_parquet(path, _table(config, table))
                tables.append(pd.read_parquet(path))
            artifact.render(tables, out / artifact.target, note="")
            made += [out / output for output in artifact.outputs.values()]
            if artifact.metrics_file:
                write_metrics(out / artifact.outputs["csv"], artifact.metric_keys, artifact.metric_values,
                              out / artifact.metrics_file)
                made.append(out / artifact.metrics_file)
            if artifact.plot_file:
                write_csv(artifact.plot_data(tables), out / artifact.plot_file)
                made.append(out / artifact.plot_file)
    return made


def check(published: Path) -> list[str]:
    """The published tables and DVC files that the records do not reproduce byte for byte, or
    that are missing (empty: all are reproduced); paths relative to the folder."""
    with tempfile.TemporaryDirectory() as scratch, tables_only():  # figures are not compared: not drawn
        differing = []
        for path in rebuild(published, Path(scratch)):
            name = path.relative_to(scratch).as_posix()
            kept = Path(published) / name
            if path.suffix in COMPARED_SUFFIXES and (not kept.is_file() or path.read_bytes() != kept.read_bytes()):
                differing.append(name)
        return differing
