"""Table cells of mean ± std over seeds: one seed measures no spread, so its cell shows the mean
and n=1 instead of a ``± 0.00`` that reads as a measured spread; cells of two or more seeds keep
``mean ± std``."""

from __future__ import annotations

import math

import pandas as pd

from earlyphase.report._common import pm
from earlyphase.report.table1 import write_table1


def test_one_seed_shows_the_mean_and_n_without_a_spread():
    assert pm(71.234, math.nan, 1) == "$71.23$ ($n=1$)"
    assert pm(71.234, math.nan) == "$71.23$ ($n=1$)"  # the std of one value is undefined
    assert pm(71.234, 0.0, 1) == "$71.23$ ($n=1$)"  # known count wins over the std given
    assert pm(71.234, math.nan, suffix="\\,\\uparrow") == "$71.23\\,\\uparrow$ ($n=1$)"


def test_two_or_more_seeds_keep_mean_plus_minus_std():
    assert pm(71.234, 0.456, 3) == "$71.23 \\pm 0.46$ (3)"
    assert pm(71.234, 0.456) == "$71.23 \\pm 0.46$"
    assert pm(71.234, 0.0, 2) == "$71.23 \\pm 0.00$ (2)"  # a measured zero spread is still shown
    assert pm(71.234, 0.456, suffix="\\,?") == "$71.23 \\pm 0.46\\,?$"
    assert pm(math.nan, math.nan, 0) == "--"


def test_table1_prints_n_for_the_single_seed_setup_only(tmp_path):
    seeds = {"cifar10-resnet18": [0, 1], "cifar10-vgg11": [0]}
    runs = pd.DataFrame([
        {"setup": setup, "row": row, "seed": seed, "status": "completed", "diverged_at": None,
         "id_acc": 90.0 + seed, "ood_acc": 60.0 - seed}
        for setup, setup_seeds in seeds.items() for row in ("lr_d", "0.1·lr_d") for seed in setup_seeds
    ])
    write_table1(runs, tmp_path / "table1.tex")
    tex = (tmp_path / "table1.tex").read_text()
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]
    resnet, vgg = body.split("\\addlinespace")
    cells = [line for line in resnet.splitlines() if line.startswith("lr\\_d") or line.startswith("0.1")]
    assert len(cells) == 2 and all(line.count("$90.50 \\pm 0.71$") == 1 for line in cells)
    cells = [line for line in vgg.splitlines() if line.startswith("lr\\_d") or line.startswith("0.1")]
    assert len(cells) == 2 and all("\\pm" not in line and line.count("($n=1$)") == 2 for line in cells)
    assert "$90.00$ ($n=1$) & $60.00$ ($n=1$)" in cells[0]
