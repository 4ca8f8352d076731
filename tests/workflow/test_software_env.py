"""The conda environment of the rules (workflow/envs/earlyphase.yaml, `snakemake --sdm conda`)
installs exactly the dependencies pyproject.toml pins, then the project.

conda is not installed where these tests run, so the environment is never created here:
the tests check the file's structure and its pins against pyproject.toml.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parents[2]
ENV = REPO / "workflow" / "envs" / "earlyphase.yaml"
POST_DEPLOY = ENV.with_name("earlyphase.post-deploy.sh")


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _env() -> dict:
    env = yaml.safe_load(ENV.read_text())
    assert set(env) == {"channels", "dependencies"}, sorted(env)  # no name: Snakemake names it by hash
    return env


def _normalized(requirements) -> dict[str, str]:
    parsed = [Requirement(text) for text in requirements]
    return {re.sub(r"[-_.]+", "-", r.name.lower()): str(r.specifier) for r in parsed}


def test_pip_section_pins_exactly_the_project_dependencies():
    pip = [d for d in _env()["dependencies"] if isinstance(d, dict)]
    assert len(pip) == 1 and set(pip[0]) == {"pip"}
    assert _normalized(pip[0]["pip"]) == _normalized(_pyproject()["dependencies"])
    pinned = {name for name, spec in _normalized(pip[0]["pip"]).items() if spec.startswith("==")}
    assert {"torch", "torchvision", "snakemake", "dvc"} <= pinned


def test_conda_packages_give_the_python_the_project_requires():
    env = _env()
    assert env["channels"][0] == "conda-forge"
    conda = {d.split("=")[0].split(">")[0]: d for d in env["dependencies"] if isinstance(d, str)}
    assert {"python", "pip", "setuptools"} <= set(conda)
    version = conda["python"].split("=", 1)[1]
    assert version in SpecifierSet(_pyproject()["requires-python"])
    build = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    assert conda["setuptools"].replace("setuptools", "") == str(Requirement(build[0]).specifier)


def test_post_deploy_script_installs_the_project_without_touching_its_dependencies():
    text = POST_DEPLOY.read_text()
    assert os.access(POST_DEPLOY, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    install = [line for line in text.splitlines() if "pip install" in line]
    assert len(install) == 1 and "--no-deps" in install[0] and install[0].rstrip().endswith(" .")


def test_every_rule_file_names_the_environment():
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert 'CONDA_ENV = "../envs/earlyphase.yaml"' in common
    assert (REPO / "workflow" / "rules" / "../envs/earlyphase.yaml").resolve() == ENV
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        text = path.read_text()
        jobs = len(re.findall(r"^\s*shell:$", text, re.M))
        assert len(re.findall(r"^\s*conda:\n\s*CONDA_ENV$", text, re.M)) == jobs, path.name
