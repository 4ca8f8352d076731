"""Every job-running rule states what it needs: threads, mem_mb and runtime (minutes), and
``gpu`` for training and evaluation, so the local scheduler and SLURM size jobs right. Local
rules (seconds of work where Snakemake runs) keep the defaults and do not restate them. The
GPU jobs share one header, written once in common.smk."""

from __future__ import annotations

import ast
import re

import pytest
import yaml

from .helpers import REPO

GPU_RULES = {"train", "evaluate", "probe_checkpoint"}
COMMON = REPO / "workflow" / "rules" / "common.smk"


def _rules() -> dict[str, str]:
    rules = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = path.read_text()
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S):
            rules[match.group(1)] = match.group(2)
    return rules


def _shared_resources() -> dict[str, dict]:
    """The resource dicts of common.smk that rules spread into theirs (``**NAME``)."""
    text = COMMON.read_text()
    return {m.group(1): ast.literal_eval(m.group(2))
            for m in re.finditer(r"^(\w+_RESOURCES) = (\{.*\})$", text, re.M)}


def test_every_rule_declares_threads_memory_runtime_and_gpu_where_it_trains():
    rules = _rules()
    assert {"prepare_clean", "prepare_ood", "train", "evaluate", "aggregate", "cost"} <= set(rules)
    for name, body in rules.items():
        if "shell:" not in body and "run:" not in body and "script:" not in body:
            continue  # target-only rules run nothing
        if re.search(r"^\s+localrule: True", body, re.M):
            # Seconds of work where Snakemake runs: the default resources, never restated.
            assert not re.search(r"^\s+(threads|resources):", body, re.M), f"local rule {name} restates resources"
            continue
        assert re.search(r"^\s+threads:\s*\S", body, re.M), f"rule {name}: no threads"
        resources = re.search(r"^\s+resources:\n((?:\s{8}.*\n)+)", body, re.M)
        assert resources, f"rule {name}: no resources"
        declared = set(re.findall(r"^\s+(\w+)=", resources.group(1), re.M))
        for shared in re.findall(r"^\s+\*\*(\w+),", resources.group(1), re.M):
            declared |= set(_shared_resources()[shared])
        assert {"mem_mb", "runtime"} <= declared, f"rule {name}: {declared}"
        if name in GPU_RULES:  # other rules may ask for a GPU too (post-hoc probes)
            assert "gpu" in declared, f"rule {name}: no gpu"


def test_gpu_jobs_share_one_header_written_in_common():
    shared = _shared_resources()
    assert shared["GPU_JOB_RESOURCES"] == {"gpu": 1, "mem_mb": 8000}
    assert re.search(r"^GPU_JOB_THREADS = 1$", COMMON.read_text(), re.M)
    rules = _rules()
    for name in GPU_RULES:
        body = rules[name]
        assert re.search(r"^\s+threads: GPU_JOB_THREADS$", body, re.M), name
        assert re.search(r"^\s+\*\*GPU_JOB_RESOURCES,\n\s+runtime=\d+,$", body, re.M), name
        assert re.search(r"^\s+run=RUN_ID_PATTERN,$", body, re.M), name
    for path in (REPO / "workflow" / "rules").glob("*.smk"):  # no copy of it left in a rule
        assert not re.search(r"^\s+gpu=", path.read_text(), re.M), path.name


def test_default_profile_keeps_going_and_resumes():
    profile = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())
    assert profile["keep-going"] is True and profile["rerun-incomplete"] is True
    assert profile["show-failed-logs"] is True
    assert "resources" not in profile  # gpu=N is per machine: --resources gpu=N (docs/robustness.md)


def test_gpu_slots_profile_sets_k_runs_per_gpu_as_a_valid_config_key(smoke_params):
    from snakemake.cli import parse_config
    from snakemake.profiles import ProfileConfigFileParser

    from earlyphase.params import ParamsError, validate_params

    with (REPO / "workflow" / "profiles" / "gpu-slots" / "config.yaml").open() as f:
        args = dict(ProfileConfigFileParser().parse(f))
    overrides = parse_config(args["config"])  # what `--config gpu_slots=4` gives the Snakefile
    assert overrides == {"gpu_slots": 4, "device": "cuda"}  # and no silent CPU fallback (issue 19)
    validate_params({**smoke_params, **overrides})
    with pytest.raises(ParamsError, match="gpu_slots"):
        validate_params({**smoke_params, "gpu_slots": 0})
    # The workflow hands K to every job through the pool's variable.
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert 'os.environ.setdefault("EARLYPHASE_GPU_SLOTS", str(config.get("gpu_slots", 1)))' in common
