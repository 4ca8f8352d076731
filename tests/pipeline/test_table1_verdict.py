"""The verdict on the paper's GU claim in Table 1: paired differences over seeds, their
Student-t interval, the ID / OOD rules at their boundaries, whether the paper's own
difference lies in our interval, and how the table shows it (marks, caption, CSV, metrics)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from earlyphase.report.metrics import table_metrics
from earlyphase.report.table1 import write_table1
from earlyphase.report.verdict import id_verdict, in_interval, ood_verdict, t_interval, verdicts

# Student-t 0.975 quantiles (from tables), so the test does not rely on scipy's.
T975 = {1: 12.706204736174707, 2: 4.302652729911275, 3: 3.182446305284263}
STANDARD_ID = [90.0, 91.5, 89.0, 92.0]
STANDARD_OOD = [60.0, 58.0, 61.0, 59.5]
ID_FLAT = [0.2, -0.3, 0.1, 0.4]  # interval [-0.37, 0.57]: within one point
OOD_UP = [0.5, 1.0, 1.5, 2.0]  # interval [0.22, 2.28]: above zero


def _runs(setup: str, gu_row: str, id_diffs, ood_diffs, **extra) -> pd.DataFrame:
    """Standard and GU runs of one setup whose per-seed GU - standard differences are given."""
    standard_row = gu_row.removesuffix(" + GU")
    rows = []
    for seed, (d_id, d_ood) in enumerate(zip(id_diffs, ood_diffs, strict=True)):
        base = {"setup": setup, "seed": seed, "status": "completed", "diverged_at": None, **extra}
        rows.append({**base, "row": standard_row, "id_acc": STANDARD_ID[seed], "ood_acc": STANDARD_OOD[seed]})
        rows.append({**base, "row": gu_row, "id_acc": STANDARD_ID[seed] + d_id,
                     "ood_acc": STANDARD_OOD[seed] + d_ood})
    return pd.DataFrame(rows)


def _closed_form(diffs) -> tuple[float, float, float]:
    d = np.asarray(diffs, dtype=float)
    n = len(d)
    mean = d.sum() / n
    sd = math.sqrt(((d - mean) ** 2).sum() / (n - 1))
    half = T975[n - 1] * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def _one(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1
    return frame.iloc[0]


def test_interval_of_the_paired_differences_matches_the_closed_form():
    id_diffs, ood_diffs = ID_FLAT, OOD_UP
    v = _one(verdicts(_runs("toy", "lr_d + GU", id_diffs, ood_diffs), {}))
    assert v["row"] == "lr_d + GU" and v["verdict_pairs"] == 4
    for name, diffs in (("id", id_diffs), ("ood", ood_diffs)):
        mean, low, high = _closed_form(diffs)
        assert v[f"verdict_{name}_diff"] == pytest.approx(mean)
        assert v[f"verdict_{name}_low"] == pytest.approx(low)
        assert v[f"verdict_{name}_high"] == pytest.approx(high)
    assert v["verdict_id_holds"] == "holds" and v["verdict_ood_holds"] == "up"
    assert t_interval([1.0, 3.0]) == pytest.approx(_closed_form([1.0, 3.0]))


def test_id_rule_at_its_boundaries():
    assert id_verdict(-1.0, 1.0) == "holds"  # the band is closed
    assert id_verdict(-1.0001, 0.5) == "unclear" and id_verdict(-0.5, 1.0001) == "unclear"
    assert id_verdict(1.0, 3.0) == "unclear"  # touches the band
    assert id_verdict(1.0001, 3.0) == "fails" and id_verdict(-3.0, -1.0001) == "fails"
    assert id_verdict(-2.0, 2.0) == "unclear"
    assert id_verdict(math.nan, math.nan) == "unclear"


def test_ood_rule_at_its_boundaries():
    assert ood_verdict(0.0, 2.0) == "unclear" and ood_verdict(-2.0, 0.0) == "unclear"
    assert ood_verdict(1e-9, 2.0) == "up" and ood_verdict(-2.0, -1e-9) == "down"
    assert ood_verdict(math.nan, math.nan) == "unclear"


def test_paper_difference_inside_and_outside_our_interval():
    paper = {("toy", "lr_d"): (90.0, 60.0), ("toy", "lr_d + GU"): (90.1, 61.0)}  # differences 0.1, 1.0
    v = _one(verdicts(_runs("toy", "lr_d + GU", ID_FLAT, OOD_UP), paper))
    assert v["verdict_paper_id_diff"] == pytest.approx(0.1) and v["verdict_paper_ood_diff"] == pytest.approx(1.0)
    assert {v["verdict_paper_id_in_interval"], v["verdict_paper_ood_in_interval"]} == {True}
    paper[("toy", "lr_d + GU")] = (91.0, 63.0)  # differences 1.0, 3.0: above both intervals
    v = _one(verdicts(_runs("toy", "lr_d + GU", ID_FLAT, OOD_UP), paper))
    assert {v["verdict_paper_id_in_interval"], v["verdict_paper_ood_in_interval"]} == {False}
    assert in_interval(1.0, 1.0, 2.0) is True and in_interval(2.0, 1.0, 2.0) is True


def test_no_paper_value_leaves_the_comparison_empty():
    v = _one(verdicts(_runs("not-in-the-paper", "lr_d + GU", [0.2, -0.3], [1.0, 2.0]), {}))
    assert math.isnan(v["verdict_paper_id_diff"]) and math.isnan(v["verdict_paper_ood_in_interval"])
    assert v["verdict_pairs"] == 2 and not math.isnan(v["verdict_ood_low"])


def test_one_paired_seed_has_a_mean_but_no_interval():
    paper = {("toy", "0.1·lr_d"): (90.0, 60.0), ("toy", "0.1·lr_d + GU"): (90.0, 61.0)}
    v = _one(verdicts(_runs("toy", "0.1·lr_d + GU", [0.5], [4.0]), paper))
    assert v["row"] == "0.1·lr_d + GU" and v["verdict_pairs"] == 1
    assert v["verdict_ood_diff"] == pytest.approx(4.0)
    assert math.isnan(v["verdict_ood_low"]) and math.isnan(v["verdict_ood_high"])
    assert v["verdict_id_holds"] == "unclear" and v["verdict_ood_holds"] == "unclear"
    assert math.isnan(v["verdict_paper_ood_in_interval"])


def test_diverged_and_unmatched_seeds_are_left_out_of_the_pairing():
    runs = _runs("toy", "lr_d + GU", ID_FLAT, [1.0, 2.0, 3.0, 6.0])
    runs.loc[(runs["row"] == "lr_d + GU") & (runs["seed"] == 3), ["status", "id_acc", "ood_acc"]] = \
        ["diverged", np.nan, np.nan]
    extra = {"setup": "toy", "row": "lr_d", "seed": 7, "status": "completed", "id_acc": 10.0, "ood_acc": 10.0}
    runs = pd.concat([runs, pd.DataFrame([extra])], ignore_index=True)  # no GU run of seed 7
    v = _one(verdicts(runs, {}))
    assert v["verdict_pairs"] == 3
    mean, low, high = _closed_form([1.0, 2.0, 3.0])  # seeds 0-2
    assert v["verdict_ood_diff"] == pytest.approx(mean)
    assert (v["verdict_ood_low"], v["verdict_ood_high"]) == pytest.approx((low, high))


def test_standard_only_setups_get_no_verdict():
    runs = _runs("toy", "lr_d + GU", [0.1], [1.0])
    assert verdicts(runs[runs["row"] == "lr_d"], {}).empty


def _table(tmp_path, data_source=None):
    both = [_runs("cifar10-resnet18", gu_row, ID_FLAT, diffs, dataset="cifar10",
                  **({"data_source": data_source} if data_source else {}))
            for gu_row, diffs in (("lr_d + GU", OOD_UP), ("0.1·lr_d + GU", [-d for d in OOD_UP]))]
    write_table1(pd.concat(both, ignore_index=True), tmp_path / "table1.tex")
    return (tmp_path / "table1.tex").read_text(), pd.read_csv(tmp_path / "table1.csv")


def test_table_marks_the_gu_cells_and_explains_the_marks(tmp_path):
    tex, csv = _table(tmp_path)
    lines = {line.split(" & ", 1)[0]: line for line in tex.splitlines() if " & " in line}
    assert lines["lr\\_d + GU"].count("\\,\\approx$") == 1 and lines["lr\\_d + GU"].count("\\,\\uparrow$") == 1
    assert "\\,\\downarrow$" in lines["0.1$\\cdot$lr\\_d + GU"]
    assert not any(mark in lines["lr\\_d"] for mark in ("\\approx", "\\uparrow", "\\,?"))
    caption = tex.split("\\caption{", 1)[1]
    assert "95\\% Student-$t$ interval" in caption and "$\\uparrow$" in caption and "$\\pm 1$ point" in caption
    gu = csv.set_index("row").loc["lr_d + GU"]
    assert gu["verdict_ood_holds"] == "up" and gu["verdict_id_holds"] == "holds" and gu["verdict_pairs"] == 4
    assert pd.isna(csv.set_index("row").loc["lr_d", "verdict_ood_holds"])
    metrics = table_metrics(csv, ("setup", "row"), ("id_mean", "ood_mean", "n_seeds"))["cifar10-resnet18"]
    assert metrics["lr_d + GU"]["verdict_ood_holds"] == "up"
    assert metrics["0.1·lr_d + GU"]["verdict_ood_holds"] == "down"
    assert metrics["lr_d + GU"]["verdict_paper_ood_in_interval"] is True  # the paper's +0.59 in [0.22, 2.28]
    assert metrics["lr_d"]["verdict_ood_holds"] is None


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
    runs = pd.concat([_runs("cifar10-resnet18", "lr_d + GU", ID_FLAT, OOD_UP),
                      _runs("cifar10-resnet18", "0.1·lr_d + GU", [3.0, 4.0, 5.0, 6.0], [-d for d in OOD_UP]),
                      _runs("cifar10-vgg11", "lr_d + GU", [0.5], [1.0])], ignore_index=True)
    runs["data_source"] = "offline"
    write_table1(runs, tmp_path / "table1.tex")
    tex = (tmp_path / "table1.tex").read_text()
    for mark in ("\\approx$", "\\neq$", "\\uparrow$", "\\downarrow$", "\\,?$"):
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
