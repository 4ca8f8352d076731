"""Mistakes on the snakemake command line get an answer a person can act on, before any job
starts and after the params are known valid: a misspelled target gets the nearest valid
targets, a target only a preset makes gets the preset, a typo in an overlay is reported in
that overlay with the nearest valid key, and a missing preset file is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import HANG_GUARD_S, child_env


@pytest.fixture(scope="module")
def repo(tmp_path_factory, copy_repo) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    (repo / "config" / "typo.yaml").write_text("setups:\n  cifar10-resnet18: {epoch: 3}\n")
    return repo


def _dry_run(repo: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", *args], cwd=repo, capture_output=True,
                            text=True, env=child_env(), timeout=HANG_GUARD_S)
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_unknown_targets_get_the_nearest_valid_ones_and_the_preset_that_makes_them(repo):
    out = _dry_run(repo, "figures/tabel1.tex", "figures/laptop/table1.tex")
    assert "figures/tabel1.tex: no rule makes it here; nearest valid targets: figures/table1.tex" in out
    assert ("figures/laptop/table1.tex: made with config/laptop.yaml; run "
            "`snakemake figures/laptop/table1.tex --configfile config/laptop.yaml`") in out
    assert "MissingRuleException" not in out and "Building DAG" not in out  # stopped before planning


def test_a_typo_in_an_overlay_is_reported_in_that_file_before_the_targets(repo):
    out = _dry_run(repo, "figures/tabel1.tex", "--configfile", "config/typo.yaml")
    assert "config/typo.yaml:2: setups.cifar10-resnet18: unknown key 'epoch' (did you mean 'epochs'?)" in out
    assert "params.yaml:" not in out.replace("Config file params.yaml", "")
    assert "tabel1" not in out  # params are checked first: nothing else is looked at


def test_a_missing_preset_named_by_config_overlay_is_one_line(repo):
    out = _dry_run(repo, "--config", "config_overlay=config/nope.yaml")
    lines = [line for line in out.splitlines() if "config/nope.yaml" in line]
    assert lines == ["config/nope.yaml: file not found (named by config_overlay)"]


def test_a_missing_configfile_is_named_in_the_last_line_of_the_error(repo):
    out = _dry_run(repo, "--configfile", "config/nope.yaml")
    error = [line for line in out.splitlines() if line.strip() and not line.startswith("Using workflow specific")]
    assert error[-1] == "FileNotFoundError: [Errno 2] No such file or directory: 'config/nope.yaml'"


@pytest.mark.xfail(strict=True, reason="Snakemake 9.27.1 opens each --configfile outside its own error handling "
                                       "(snakemake/common/configfile.py): a traceback before the workflow runs")
def test_a_missing_configfile_is_one_line(repo):
    out = _dry_run(repo, "--configfile", "config/nope.yaml")
    assert "Traceback" not in out
