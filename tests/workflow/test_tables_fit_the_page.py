"""Every generated LaTeX table compiles with pdflatex in a minimal one-column article (the
README's ``\\input`` recipe: booktabs only) and fits its text width.

The tables come from the report functions on synthetic aggregate tables at the default
(paper-scale) grid, the widest case. Skipped where pdflatex is not installed; on Debian:
``apt-get install --no-install-recommends texlive-latex-base texlive-latex-recommended``
(.ci/run installs them when it runs as root).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from earlyphase.experiments import ARTIFACTS

from .synthetic_tables import report_inputs

TABLES = sorted(name for name, artifact in ARTIFACTS.items() if "tex" in artifact.outputs)
TOLERANCE_PT = 2.0
DOCUMENT = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\\input{%s}\n\\end{document}\n"

pytestmark = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")


def _overfull(name: str, config: dict, tmp_path) -> list[float]:
    artifact = ARTIFACTS[name]
    tex = tmp_path / artifact.outputs["tex"]
    artifact.render(report_inputs(config, artifact), tex)
    (tmp_path / "doc.tex").write_text(DOCUMENT % tex.name)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert result.returncode == 0, log[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    return [float(width) for width in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]


def test_every_table_artifact_is_checked():
    assert {"table1", "table2", "table_stabilization", "fisher_table1"} <= set(TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_table_fits_the_text_width(name, default_params, tmp_path):
    overfull = _overfull(name, default_params, tmp_path)
    assert all(width <= TOLERANCE_PT for width in overfull), f"{name}: overfull by {overfull} pt"


def test_the_check_sees_an_overflowing_table(tmp_path):
    (tmp_path / "wide.tex").write_text("\\begin{tabular}{l}\n" + "x" * 400 + " \\\\\n\\end{tabular}\n")
    (tmp_path / "doc.tex").write_text(DOCUMENT % "wide.tex")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path, capture_output=True,
                   timeout=120)
    assert re.search(r"Overfull \\hbox \(([\d.]+)pt too wide\)", (tmp_path / "doc.log").read_text())
