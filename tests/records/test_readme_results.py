"""README's results block is written from the published records alone, and a block that
disagrees with them fails the check."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from earlyphase.cli import main
from earlyphase.params import REPO_ROOT
from earlyphase.records.readme_results import BEGIN, END, block_diff, write
from earlyphase.report.claims import COLUMNS

README = REPO_ROOT / "README.md"
PUBLISHED = REPO_ROOT / "results" / "published"


def test_the_readme_results_block_matches_the_published_records():
    assert block_diff(README, PUBLISHED) == ""


def test_check_fails_with_a_diff_when_a_number_of_the_block_is_altered(tmp_path, capsys):
    readme = tmp_path / "README.md"
    shutil.copy(README, readme)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "published").symlink_to(PUBLISHED)  # README's links stay as they are
    args = ["readme-results", "--readme", str(readme), "--published", str(tmp_path / "results" / "published"),
            "--check"]
    assert main(args) == 0

    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END)
    number = next(re.finditer(r"\d+\.\d\d", text[start:end]))  # the block's first number
    at = start + number.end() - 1
    altered = text[:at] + ("1" if text[at] == "0" else "0") + text[at + 1:]
    readme.write_text(altered)
    capsys.readouterr()

    assert main(args) == 1
    out = capsys.readouterr().out
    line = text[:at].count("\n")
    # the diff takes the edited line out and puts the records' version back
    assert f"\n-{altered.splitlines()[line]}\n" in out and f"\n+{text.splitlines()[line]}\n" in out
    assert "make readme" in out


def _published_set(folder: Path, setup: str, seeds: list[int], files: dict[str, pd.DataFrame],
                   figures: list[str]) -> None:
    """A published set in the layout of ``publish``: records of one run per seed, tables, figures."""
    for seed in seeds:
        run = folder / "runs" / setup / "lr0.01-std-00000000" / f"seed{seed}"
        (run / "final").mkdir(parents=True)
        (run / "final" / "config.json").write_text(json.dumps(
            {"setup": setup, "arch": "resnet18", "width": 0.25, "optimizer": "adamw", "batch_size": 128,
             "total_steps": 500, "lr": 0.01, "seed": seed, "data": {"dataset": "mnist"}}))
        (run / "final" / "status.json").write_text(json.dumps({"status": "completed", "steps": 500}))
        (run / "eval").mkdir()
        (run / "eval" / "generated-00000000.parquet").write_bytes(b"")
    for name, frame in files.items():
        frame.to_csv(folder / name, index=False)
    for name in figures:
        (folder / name).write_bytes(b"")
    (folder / "provenance.json").write_text(json.dumps(
        {"artifacts": sorted({Path(n).stem for n in [*files, *figures]}), "command": f"make {folder.name}",
         "commit": "0123456789abcdef", "date": "2027-01-01T00:00:00Z", "overlays": [f"config/{folder.name}.yaml"],
         "machine": {"cores": 16, "cpu": "Some CPU", "gpu": "Some GPU"}, "wall_time_s": 3725.0}))


def _ledger(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"m": 1, "adjustment": "Bonferroni", "note": "", **row} for row in rows], columns=COLUMNS)


def test_two_published_sets_render_in_name_order_each_with_what_it_has(tmp_path):
    published = tmp_path / "published"
    claim = {"claim": "table1-lr_d-ood", "statement": "GU raises OOD accuracy.", "dataset": "mnist-resnet18",
             "test": "k=250", "direction": "up", "n": 3, "mean_diff": 1.234, "ci_low": 0.5, "ci_high": 2.0,
             "adj_ci_low": 0.25, "adj_ci_high": 2.25, "mde": 0.875, "verdict": "reproduced",
             "reason": "adjusted interval above 0 (paper: up)"}
    table1 = pd.DataFrame({"setup": ["mnist-resnet18"], "row": ["lr_d + GU"], "n_seeds": [3], "id_mean": [99.125],
                           "id_std": [0.0449], "ood_mean": [80.5], "ood_std": [1.25], "paper_id": [None],
                           "paper_ood": [None], "gu_k": [250]})
    _published_set(published / "zeta", "mnist-resnet18", [0, 1, 2],
                   {"table1.csv": table1, "claims.csv": _ledger([claim])}, ["figure1.png", "figure1.pdf"])
    untested = {"claim": "figure2-gu-higher", "statement": "GU keeps tr(F) higher.", "direction": "up",
                "verdict": "not tested", "reason": "figure2 is not in this set"}
    _published_set(published / "alpha", "cifar10-resnet18", [0, 1],  # claims and a figure only
                   {"claims.csv": _ledger([{**claim, "dataset": "cifar10-resnet18", "mean_diff": -0.5,
                                            "adj_ci_low": -3.0, "adj_ci_high": 2.0, "verdict": "inconclusive",
                                            "reason": "adjusted interval holds 0"}, untested])},
                   ["figure2.png"])
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n## Results\n\nkept prose\n\n{BEGIN}\nstale\n{END}\n\n## Next\n")

    assert write(readme, published) is True
    text = readme.read_text()
    alpha, zeta = text.index("### alpha: CIFAR-10 ResNet-18"), text.index("### zeta: MNIST ResNet-18")
    assert text.index(BEGIN) < alpha < zeta < text.index(END)
    assert "stale" not in text and text.startswith("# title\n\n## Results\n\nkept prose\n\n")
    assert text.endswith(f"{END}\n\n## Next\n")
    alpha_part, zeta_part = text[alpha:zeta], text[zeta:]
    assert "**Table 1**" not in alpha_part and "![Figure 2 (Liu & Gurevych)](published/alpha/figure2.png)" in alpha_part
    assert "| table1-lr_d-ood | k=250 |  | -0.50 | [+0.50, +2.00] | [-3.00, +2.00] | inconclusive | 3 | 0.88 |" \
        in alpha_part
    assert "- figure2-gu-higher: figure2 is not in this set" in alpha_part
    assert "seeds 0, 1" in alpha_part and "2 training runs (2 completed), 2 evaluated" in alpha_part
    assert "| MNIST ResNet-18 | lr_d + GU (k = 250) | 3 | 99.12 ± 0.04 | 80.50 ± 1.25 |" in zeta_part
    assert "| table1-lr_d-ood | k=250 |  | +1.23 | [+0.50, +2.00] | [+0.25, +2.25] | reproduced | 3 | 0.88 |" \
        in zeta_part
    assert "seeds 0–2" in zeta_part and "wall time 1 h 2 min 5 s on 16 CPU cores (Some CPU), Some GPU" in zeta_part
    assert "rebuild-published published/zeta --check" in zeta_part
    assert "[figure1.pdf](published/zeta/figure1.pdf)" in zeta_part

    assert block_diff(readme, published) == ""
    assert write(readme, published) is False  # the same records give the same text


def test_a_readme_without_the_markers_is_refused_with_their_names(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\n## Results\n")
    with pytest.raises(ValueError, match="results:begin"):
        block_diff(readme, tmp_path / "published")
