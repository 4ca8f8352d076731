"""The SLURM workflow profile: a fast static check, and (opt-in) a run on a local cluster.

The cluster test starts a single-node SLURM (installing Debian packages if needed, root only)
and runs the 3-job toy workflow in scripts/slurm/selftest/ through the executor plugin:
    EARLYPHASE_TEST_SLURM=1 pytest -m slurm tests/workflow/test_slurm_profile.py
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"

# Resources Snakemake itself understands, and those snakemake-executor-plugin-slurm 2.8
# turns into sbatch options. A key outside both is most likely a typo that would be
# silently ignored on the cluster.
SNAKEMAKE_RESOURCES = {
    "mem", "mem_mb", "mem_mib", "disk", "disk_mb", "disk_mib", "runtime", "tmpdir",
}  # fmt: skip
SLURM_PLUGIN_RESOURCES = {
    "slurm_partition", "slurm_account", "slurm_extra", "slurm_cluster", "clusters",
    "constraint", "qos", "nodes", "tasks", "tasks_per_node", "tasks_per_gpu",
    "cpus_per_task", "cpus_per_gpu", "mem_mb_per_cpu", "gpu", "gpu_model", "gres", "mpi",
}  # fmt: skip
VALID_NAME = re.compile(r"[a-zA-Z_]\w*$")  # what snakemake.resources.Resources.parse accepts


def _profile_args() -> dict:
    """The profile as Snakemake reads it (YTE processing, dicts flattened to KEY=VALUE)."""
    from snakemake.profiles import ProfileConfigFileParser

    with PROFILE.open() as f:
        return dict(ProfileConfigFileParser().parse(f))


def test_profile_is_yaml_and_names_the_slurm_executor():
    data = yaml.safe_load(PROFILE.read_text())
    assert isinstance(data, dict)
    assert data["executor"] == "slurm"
    assert isinstance(data.get("default-resources"), dict)
    assert int(data["jobs"]) >= 1


def test_profile_keys_are_snakemake_options():
    from snakemake.cli import get_argument_parser

    options = {s for action in get_argument_parser()._actions for s in action.option_strings}
    unknown = [key for key in _profile_args() if f"--{key}" not in options]
    assert not unknown, f"not Snakemake (or slurm plugin) command-line options: {unknown}"


def _resource_assignments(args: dict) -> list[str]:
    assignments = list(args.get("default-resources", []))
    for entry in args.get("set-resources", []):  # RULE:KEY=VALUE
        assignments.append(entry.split(":", 1)[1])
    return assignments


def test_every_resource_key_is_a_valid_resource_name():
    from snakemake.resources import Resources

    assignments = _resource_assignments(_profile_args())
    assert assignments, "the profile sets no default resources"
    keys = [a.split("=", 1)[0] for a in assignments]
    for key in keys:
        assert VALID_NAME.match(key) and not key.startswith("_"), key
        assert key in SNAKEMAKE_RESOURCES | SLURM_PLUGIN_RESOURCES, f"unknown resource {key!r}"
    # Snakemake's own parser: values evaluate, no clash such as mem and mem_mb together
    parsed = Resources.parse(assignments, allow_expressions=True)
    assert {"runtime", "mem_mb"} <= set(parsed)


def test_selftest_workflow_asks_for_a_gpu():
    text = (REPO / "scripts" / "slurm" / "selftest" / "Snakefile").read_text()
    assert re.search(r"^\s+gpu=1,", text, re.M)


@pytest.mark.slurm
@pytest.mark.skipif(
    os.environ.get("EARLYPHASE_TEST_SLURM") != "1",
    reason="needs a local SLURM cluster (root, Debian); set EARLYPHASE_TEST_SLURM=1",
)
def test_selftest_workflow_on_local_slurm_cluster(tmp_path):
    env = dict(os.environ, EARLYPHASE_SLURM_WORK=str(tmp_path / "work"))
    proc = subprocess.run(
        [str(REPO / "scripts" / "slurm" / "run_smoke_on_slurm.sh"), "--selftest"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert "CUDA_VISIBLE_DEVICES=0" in proc.stderr
    assert "OK: SLURM and local runs agree" in proc.stderr
