"""Every command the documentation shows runs as documented.

The commands of README.md, docs/*.md, the Makefile's help and the comments of the Snakefile,
params.yaml, config/*.yaml, dvc.yaml and the profiles (:mod:`documented_commands`) each run
in a copy of the repository in a form that changes nothing: Snakemake dry runs, make -n,
argparse parses, --help, read-only DVC commands (:mod:`command_checks`). When a document and
the tool drift apart the command's test fails, and the same checker reports deliberately
broken commands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .command_checks import NOT_CHECKED, concrete, program
from .documented_commands import Command, collect

REPO = Path(__file__).resolve().parents[2]
COMMANDS = collect(REPO)


@pytest.fixture(scope="module")
def problems(checker):
    return checker.check(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_the_documented_command_runs_as_documented(problems, command):
    assert not problems[command], f"{command}:\n" + "\n".join(problems[command])


def test_the_commands_a_person_copies_first_are_collected():
    texts = {(c.where.split(":")[0], c.text) for c in COMMANDS}
    assert ("README.md", "make smoke") in texts and ("README.md", "make laptop") in texts
    assert ("README.md", "snakemake --cores N figures/table1.tex") in texts  # the artifact table
    assert ("Makefile", "make smoke-all") in texts
    assert ("config/laptop.yaml", "snakemake --cores 2 --configfile config/laptop.yaml") in texts
    assert ("params.yaml", "snakemake --cores 2 figures/table1.tex --configfile config/smoke.yaml") in texts
    assert ("docs/cluster.md", "snakemake --workflow-profile workflow/profiles/slurm figures/table1.tex") in texts
    unchecked = {program(i.argv) for c in COMMANDS for i in concrete(c)} - {
        "snakemake", "python", "make", "dvc", "script", "pytest"}
    assert unchecked <= set(NOT_CHECKED), unchecked


def test_placeholders_become_concrete_commands():
    forms = [i.argv for i in concrete(Command("python -m earlyphase cost [target ...] [--gpus G] [--pack K]", "x"))]
    assert forms == [["python", "-m", "earlyphase", "cost", "--gpus", "2", "--pack", "2"]]
    forms = [i.argv for i in concrete(Command("scripts/mps.sh start|stop|status", "x"))]
    assert forms == [["scripts/mps.sh", "start"], ["scripts/mps.sh", "stop"], ["scripts/mps.sh", "status"]]
    (invocation,) = concrete(Command("dvc exp apply <name>", "x"))
    assert invocation.placeholder and invocation.argv == ["dvc", "exp", "apply", "x"]


# (a command as a document might drift, what the checker must say about it)
DRIFTED = [
    ("snakemake --cores 2 figures/tabel1.tex", "nearest valid targets: figures/table1.tex"),
    ("snakemake --cores 2 --configfile config/smoke.yaml figures/table1.tex",
     "put the targets before --configfile"),
    ("snakemake --cores 2 --confgfile config/smoke.yaml", "snakemake does not accept it"),
    ("snakemake --workflow-profile workflow/profiles/default figures/table1.tex",
     "--workflow-profile workflow/profiles/default: no such profile"),
    ("snakemake --cores 2 --resources gpu=4 figures/table1.tex", "snakemake does not accept it"),
    ("make smok", "make -n fails"),
    ("python -m earlyphase costs table1", "its parser refuses it"),
    ("python -m earlyphase status table1 --overlays config/smoke.yaml", "unrecognized arguments: --overlays"),
    ("python -m earlyphase.bench --packs 1,2", "its parser refuses it"),
    ("dvc metrics shwo", "dvc does not accept it"),
    ("dvc exp run -S setups.cifar10-resnet18.lrr=0.05", "params.yaml has no key setups.cifar10-resnet18.lrr"),
    ("bash bench/gpu_check.sh --gpu", "has no case for '--gpu'"),
    ("scripts/slurm/run_smoke_on_slurm.sh --self-test", "has no case for '--self-test'"),
]


def test_a_command_that_drifted_from_the_tool_is_reported(checker):
    commands = [Command(text, f"drifted:{i}") for i, (text, _) in enumerate(DRIFTED)]
    # A stated count that the dry run does not plan (Table 1 has 72 training runs).
    commands.append(Command("snakemake -n figures/table1.tex", "drifted:count", "what it runs (99 training runs)"))
    found = checker.check(commands)
    for command, (_, expected) in zip(commands, DRIFTED, strict=False):
        assert any(expected in problem for problem in found[command]), (command, found[command])
    assert any("says 99 training runs; the dry run plans 72" in p for p in found[commands[-1]]), found[commands[-1]]
