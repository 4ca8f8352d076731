# Shared set-up: validate params before any job starts, resolve the grid of runs, and
# the lookup tables the rules' input functions use.
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from earlyphase.params import ParamsError, apply_overlay, validate_params  # noqa: E402
from earlyphase import runs as grid  # noqa: E402

config.update(apply_overlay(dict(config), Path(workflow.basedir)))
try:
    validate_params(config)
except ParamsError as err:
    raise WorkflowError(str(err)) from None

# The interpreter running Snakemake runs the jobs too (no reliance on PATH or activation).
EARLYPHASE = f"{sys.executable} -m earlyphase"
DATA = config["paths"]["data"]
RESULTS = config["paths"]["results"]
FIGURES = config["paths"]["figures"]

TABLE1 = grid.table1_runs(config)
FIGURE1 = grid.figure1_runs(config)
PROBE_RUNS = grid.probe_runs(config)
RUNS = grid.all_runs(config)


def run_dir(run_id):
    return f"{RESULTS}/runs/{run_id}"


def run_dataset(run_id):
    return RUNS[run_id].config["data"]["dataset"]


def eval_path(run_id):
    return f"{run_dir(run_id)}/eval/{grid.eval_tag(config, run_dataset(run_id))}.parquet"


def manifest(entries):
    """JSON list of runs for aggregation: paths plus the labels an artifact needs."""
    return json.dumps(
        [
            {
                "run_id": run.run_id,
                "final_dir": f"{run_dir(run.run_id)}/final",
                "eval_path": eval_path(run.run_id),
                **labels,
            }
            for run, labels in entries
        ]
    )


ARTIFACTS = [
    f"{FIGURES}/table1.tex",
    f"{FIGURES}/figure1.pdf",
]

# Probe runs stop at the end of the early window; only their probe records are reported.
PROBE_ONLY_RUNS = {run.run_id for run in PROBE_RUNS}
