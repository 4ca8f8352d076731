"""README's plain ``snakemake --cores 8 figures/table1.tex`` runs with the local profile:
Snakemake 9 reads ``profiles/default`` next to the Snakefile without being told
(``parse_args`` in snakemake/cli.py), and the profile's settings take effect."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_a_plain_dry_run_reports_using_the_default_profile(checker):
    result = checker.dry_run(["figures/table1.tex"])  # README: snakemake -n figures/table1.tex
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Using workflow specific profile profiles/default for setting default command line arguments" \
        in result.stderr


def test_the_profile_settings_reach_snakemakes_arguments(docs_repo, monkeypatch):
    from snakemake.cli import parse_args

    monkeypatch.chdir(docs_repo)
    _, args = parse_args(["figures/table1.tex"])  # no --cores, no --workflow-profile
    profile = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert profile["keep-going"] and profile["rerun-incomplete"]
    assert args.keep_going is True and args.rerun_incomplete is True
    assert profile["cores"] == "all" and args.cores >= 1  # so the README's commands need no --cores
    _, args = parse_args(["--workflow-profile", "none", "figures/table1.tex"])
    assert args.keep_going is False and args.cores is None  # the profile set them, not Snakemake
