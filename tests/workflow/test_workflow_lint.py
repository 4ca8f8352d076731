"""`snakemake --lint` finds nothing: every rule names the conda environment, rule files hold
rules and the *common / *_inputs files hold the functions, and no environment variable is
read without an `envvars` declaration."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_snakemake_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Lints for" not in output, output[-4000:]
    assert "Congratulations, your workflow is in a good condition!" in output


def test_no_rule_file_defines_functions():
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = path.read_text()
        if path.stem == "common" or path.stem.endswith("_inputs"):
            assert not re.search(r"^(rule|checkpoint) ", text, re.M), f"{path.name} holds functions, not rules"
        else:
            assert not re.search(r"^def ", text, re.M), f"{path.name}: functions belong in common.smk or *_inputs.smk"
