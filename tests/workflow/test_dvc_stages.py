"""The DVC stages split the DAG without overlap: whatever `rule all` (stage `paper`) would
write into an output of stage `runs` (results/runs, the checkpoints' choices in
results/fisher and results/stabilization) is made by the target `runs` first. Else every
`dvc repro` that trains leaves `runs` changed and the next one reruns it. Dry runs on the
smoke configuration in an empty copy; the real `dvc repro` twice is in test_smoke_pipeline.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _planned_outputs(repo: Path, target: str) -> set[str]:
    result = subprocess.run([sys.executable, "-m", "snakemake", target, "-n", "--cores", "1",
                             "--configfile", "config/smoke.yaml"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = set()
    for line in re.findall(r"^\s+output: (.*)$", result.stdout, re.M):
        outputs.update(path.strip() for path in line.split(","))
    return outputs


def test_stage_paper_writes_nothing_into_an_output_of_stage_runs(copy_repo, tmp_path):
    repo = copy_repo(tmp_path)
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    tracked = [next(iter(out)) if isinstance(out, dict) else out for out in stages["runs"]["outs"]]
    folders = tuple(path.replace("${paths.results}", "results") + "/" for path in tracked)
    assert "results/runs/" in folders
    in_runs = {path for path in _planned_outputs(repo, "all") if path.startswith(folders)}
    assert any("/posthoc/" in path for path in in_runs)  # the smoke DAG has every kind
    assert any(path.startswith(("results/fisher/", "results/stabilization/")) for path in in_runs)
    assert in_runs - _planned_outputs(repo, "runs") == set()
