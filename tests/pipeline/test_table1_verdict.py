"""Table 1's verdicts on the paper's GU claim: the claims ledger's tests of Table 1 (paired
differences over seeds, Bonferroni over the ledger's m, TOST for ID), and how the table shows
them (marks, caption with k and m, CSV, metrics)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from earlyphase.experiments.claims import declared_tests
from earlyphase.report.metrics import table_metrics
from earlyphase.report.table1 import write_table1

# Student-t 0.975 quantiles (from tables), so the test does not rely on scipy's.
T975 = {1: 12.706204736174707, 2: 4.302652729911275, 3: 3.182446305284263, 5: 2.570581835636314}
STANDARD_ID = [90.0, 91.5, 89.0, 92.0, 90.5, 91.0]
STANDARD_OOD = [60.0, 58.0, 61.0, 59.5, 60.5, 59.0]
FLAT = [0.02, -0.03, 0.01, 0.04, -0.02, 0.0]  # ID: well inside the TOST margin of 2.3 points
UP = [5.0, 5.1, 4.9, 5.05, 4.95, 5.0]  # clearly above zero at any m used here
DOWN = [-d for d in UP]


def _runs(setup: str, gu_row: str, id_diffs, ood_diffs, **extra) -> pd.DataFrame:
    """Standard and GU runs of one setup whose per-seed GU - standard differences are given."""
    standard_row = gu_row.removesuffix(" + GU")
    rows = []
    for seed, (d_id, d_ood) in enumerate(zip(id_diffs, ood_diffs, strict=True)):
        base = {"setup": setup, "seed": seed, "status": "completed", "diverged_at": None, **extra}
        rows.append({**base, "row": standard_row, "gu_k": np.nan, "id_acc": STANDARD_ID[seed],
                     "ood_acc": STANDARD_OOD[seed]})
        rows.append({**base, "row": gu_row, "gu_k": 250.0, "id_acc": STANDARD_ID[seed] + d_id,
                     "ood_acc": STANDARD_OOD[seed] + d_ood})
    return pd.DataFrame(rows)


def _claim_tests(setups, lr_scales=(1.0, 0.1)) -> pd.DataFrame:
    """The ledger's test list of a configuration with Table 1 alone: m = 2 claims x lr x setups."""
    table1 = {"setups": list(setups), "lr_scales": list(lr_scales), "gu_k": {s: 250 for s in setups},
              "seeds": {s: [0] for s in setups}}
    return pd.DataFrame(declared_tests({"experiments": {"table1": table1}}))


def _closed_form(diffs) -> tuple[float, float, float]:
    d = np.asarray(diffs, dtype=float)
    n = len(d)
    mean = d.sum() / n
    sd = math.sqrt(((d - mean) ** 2).sum() / (n - 1))
    half = T975[n - 1] * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def _write(tmp_path, runs, claim_tests) -> tuple[str, pd.DataFrame]:
    write_table1(runs, tmp_path / "table1.tex", claim_tests=claim_tests)
    return (tmp_path / "table1.tex").read_text(), pd.read_csv(tmp_path / "table1.csv")


def _cells(tex: str) -> dict[str, str]:
    return {line.split(" & ", 1)[0]: line for line in tex.splitlines() if " & " in line}


def test_the_unadjusted_interval_matches_the_closed_form(tmp_path):
    ood = [0.5, 1.0, 1.5, 2.0]
    _, csv = _write(tmp_path, _runs("toy", "lr_d + GU", FLAT[:4], ood), _claim_tests(["toy"], [1.0]))
    gu = csv.set_index("row").loc["lr_d + GU"]
    mean, low, high = _closed_form(ood)
    assert gu["verdict_ood_n"] == 4 and gu["verdict_ood_diff"] == pytest.approx(mean)
    assert (gu["verdict_ood_ci_low"], gu["verdict_ood_ci_high"]) == pytest.approx((low, high))
    assert gu["verdict_m"] == 2 and gu["verdict_adjustment"] == "Bonferroni"  # 2 claims x 1 lr x 1 setup
    assert gu["verdict_ood_adj_low"] < low and gu["verdict_ood_adj_high"] > high  # alpha/2 per test: wider


def test_marks_follow_the_verdicts_and_the_caption_names_k_and_m(tmp_path):
    runs = pd.concat([_runs("cifar10-resnet18", "lr_d + GU", FLAT, UP, dataset="cifar10"),
                      _runs("cifar10-resnet18", "0.1·lr_d + GU", UP, DOWN, dataset="cifar10")], ignore_index=True)
    tex, csv = _write(tmp_path, runs, _claim_tests(["cifar10-resnet18"]))
    cells = _cells(tex)
    assert cells["lr\\_d + GU"].count("\\,\\surd$") == 2  # ID equivalent, OOD up: both reproduced
    assert cells["0.1$\\cdot$lr\\_d + GU"].count("\\,\\times$") == 2  # ID moved 5 points, OOD down
    assert not any(mark in cells["lr\\_d"] for mark in ("\\surd", "\\times", "\\,?"))
    assert "\\textit{CIFAR-10 ResNet-18} ($n=6$, GU $k=250$)" in tex
    caption = tex.split("\\caption{", 1)[1]
    assert "$m = 4$" in caption and "TOST" in caption and "$\\surd$ reproduced" in caption
    assert "italics: Liu \\& Gurevych" in caption  # the paper reports this column
    verdicts = csv.set_index("row")
    assert verdicts.loc["lr_d + GU", "verdict_ood"] == "reproduced"
    assert verdicts.loc["lr_d + GU", "verdict_id"] == "reproduced"
    assert verdicts.loc["lr_d + GU", "verdict_id_margin"] == pytest.approx(0.25 * (100 - np.mean(STANDARD_ID)))
    assert verdicts.loc["0.1·lr_d + GU", "verdict_ood"] == "contradicted"
    assert verdicts.loc["lr_d + GU", "verdict_ood_paper_diff"] == pytest.approx(72.95 - 72.36)
    assert pd.isna(verdicts.loc["lr_d", "verdict_ood"])
    metrics = table_metrics(csv, ("setup", "row"), ("id_mean", "ood_mean", "n_seeds"))["cifar10-resnet18"]
    assert metrics["lr_d + GU"]["verdict_ood"] == "reproduced" and metrics["lr_d"]["verdict_ood"] is None
    assert metrics["0.1·lr_d + GU"]["verdict_id"] == "contradicted"


def test_the_ledger_size_sets_the_adjustment(tmp_path):
    """The same runs judged inside a larger ledger: the adjusted interval widens and the
    reproduction at m = 2 turns inconclusive at m = 2 x 16."""
    ood = [1.0, 1.4, 1.6, 2.0]
    runs = _runs("toy", "lr_d + GU", FLAT[:4], ood)
    _, alone = _write(tmp_path, runs, _claim_tests(["toy"], [1.0]))
    crowd = _claim_tests(["toy"] + [f"other-{i}" for i in range(15)], [1.0])
    _, among = _write(tmp_path, runs, crowd)
    alone, among = alone.set_index("row").loc["lr_d + GU"], among.set_index("row").loc["lr_d + GU"]
    assert alone["verdict_ood"] == "reproduced" and among["verdict_ood"] == "inconclusive"
    assert among["verdict_m"] == 32 and among["verdict_ood_adj_low"] < alone["verdict_ood_adj_low"]


def test_a_gain_far_below_the_papers_is_smaller_than_reported(tmp_path):
    runs = _runs("mnist-resnet18", "lr_d + GU", FLAT, [0.5, -0.5, 1.0, -1.0, 0.2, -0.2])  # paper: +30.63
    tex, csv = _write(tmp_path, runs, _claim_tests(["mnist-resnet18"], [1.0]))
    gu = csv.set_index("row").loc["lr_d + GU"]
    assert gu["verdict_ood"] == "smaller than reported" and gu["verdict_ood_paper_diff"] == pytest.approx(30.63)
    assert "\\,{<}$" in _cells(tex)["lr\\_d + GU"]


def test_diverged_and_unmatched_seeds_are_left_out_of_the_pairing(tmp_path):
    runs = _runs("toy", "lr_d + GU", FLAT[:4], [1.0, 2.0, 3.0, 6.0])
    runs.loc[(runs["row"] == "lr_d + GU") & (runs["seed"] == 3), ["status", "diverged_at", "id_acc", "ood_acc"]] = \
        ["diverged", 17, np.nan, np.nan]
    extra = {"setup": "toy", "row": "lr_d", "seed": 7, "status": "completed", "id_acc": 10.0, "ood_acc": 10.0}
    runs = pd.concat([runs, pd.DataFrame([extra])], ignore_index=True)  # no GU run of seed 7
    _, csv = _write(tmp_path, runs, _claim_tests(["toy"], [1.0]))
    gu = csv.set_index("row").loc["lr_d + GU"]
    mean, low, high = _closed_form([1.0, 2.0, 3.0])  # seeds 0-2
    assert gu["verdict_ood_n"] == 3 and gu["verdict_ood_diff"] == pytest.approx(mean)
    assert (gu["verdict_ood_ci_low"], gu["verdict_ood_ci_high"]) == pytest.approx((low, high))


def test_one_paired_seed_is_inconclusive(tmp_path):
    tex, csv = _write(tmp_path, _runs("toy", "lr_d + GU", [0.5], [4.0]), _claim_tests(["toy"], [1.0]))
    gu = csv.set_index("row").loc["lr_d + GU"]
    assert gu["verdict_ood"] == "inconclusive" and gu["verdict_ood_reason"] == "fewer than two paired seeds"
    assert gu["verdict_ood_diff"] == pytest.approx(4.0) and pd.isna(gu["verdict_ood_mde"])
    assert _cells(tex)["lr\\_d + GU"].count("\\,?$") == 2


def test_without_the_test_list_the_table_has_no_verdicts(tmp_path):
    write_table1(_runs("toy", "lr_d + GU", FLAT[:2], UP[:2]), tmp_path / "table1.tex")
    tex = (tmp_path / "table1.tex").read_text()
    assert "\\surd" not in tex and "?" not in tex.split("\\caption{", 1)[0]
    assert not [c for c in pd.read_csv(tmp_path / "table1.csv").columns if "verdict" in c]
    assert "the paper reports none of these setups" in tex  # and no italics sentence


def _table(tmp_path, data_source=None):
    extra = {"dataset": "cifar10", **({"data_source": data_source} if data_source else {})}
    runs = pd.concat([_runs("cifar10-resnet18", "lr_d + GU", FLAT, UP, **extra),
                      _runs("cifar10-resnet18", "0.1·lr_d + GU", FLAT, DOWN, **extra)], ignore_index=True)
    return _write(tmp_path, runs, _claim_tests(["cifar10-resnet18"]))


def test_caption_says_stand_in_data_are_no_evidence_only_when_they_are(tmp_path):
    sentence = "pipeline check on synthetic stand-in data"
    assert sentence in _table(tmp_path, "offline")[0].split("\\caption{", 1)[1]
    assert sentence not in _table(tmp_path, "torchvision")[0]
    assert sentence not in _table(tmp_path)[0]  # aggregate tables from before the column


def test_mixed_sources_name_the_stand_in_columns(tmp_path):
    runs = pd.concat([_runs("cifar10-resnet18", "lr_d + GU", [0.1, 0.2], [1.0, 2.0], data_source="offline"),
                      _runs("cifar10-vgg11", "lr_d + GU", [0.1, 0.2], [1.0, 2.0], data_source="torchvision")])
    write_table1(runs, tmp_path / "t.tex")
    caption = (tmp_path / "t.tex").read_text().split("\\caption{", 1)[1]
    assert "The columns CIFAR-10 ResNet-18 are a pipeline check on synthetic stand-in data" in caption


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_every_mark_compiles_in_a_plain_article(tmp_path):
    runs = pd.concat([_runs("cifar10-resnet18", "lr_d + GU", FLAT, UP),
                      _runs("cifar10-resnet18", "0.1·lr_d + GU", UP, DOWN),
                      _runs("mnist-resnet18", "lr_d + GU", FLAT, [0.5, -0.5, 1.0, -1.0, 0.2, -0.2]),
                      _runs("cifar10-vgg11", "lr_d + GU", [0.5], [1.0])], ignore_index=True)
    runs["data_source"] = "offline"
    tex, _ = _write(tmp_path, runs, _claim_tests(["cifar10-resnet18", "mnist-resnet18", "cifar10-vgg11"]))
    for mark in ("\\surd$", "\\times$", "{<}$", "\\,?$"):
        assert mark in tex, mark
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
                                      "\\input{table1.tex}\n\\end{document}\n")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


def test_run_records_carry_the_data_source(tmp_path):
    from earlyphase.records.aggregate import run_row
    from earlyphase.records.run_record import RunRecord

    config = {"setup": "cifar10-resnet18", "data": {"dataset": "cifar10", "source": "offline"}, "arch": "resnet18",
              "optimizer": "sgd", "lr": 0.1, "lr_scale": 1.0, "gu_k": None, "seed": 0, "total_steps": 10}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "status.json").write_text(json.dumps({"status": "completed", "diverged_at": None}))
    assert run_row(RunRecord(tmp_path))["data_source"] == "offline"
