"""The scale ladder: every published Table 1 as points against training compute."""

from __future__ import annotations

import pandas as pd
import pytest

from earlyphase.params import REPO_ROOT
from earlyphase.records import scale_ladder

PUBLISHED = REPO_ROOT / "results" / "published"


def test_flops_of_one_image_are_the_closed_form_of_a_bias_free_fcn():
    w = 16
    fcn = scale_ladder.flops_per_image("fcn", w, 1, 28, 10)  # depth 4: 784 -> w -> w -> w -> 10
    products = 784 * w + 2 * w * w + w * 10
    # forward and weight gradients of every layer; the input gradient of all but the first
    assert fcn == 2 * products + 2 * products + 2 * (products - 784 * w)


def test_each_published_table1_is_two_points_with_its_own_verdict_numbers():
    points = scale_ladder.ladder(PUBLISHED)
    sets = sorted(p.name for p in PUBLISHED.iterdir() if (p / "table1.csv").is_file())
    assert sorted(set(points["set"])) == sets and len(points) == 2 * len(sets)
    for _, point in points.iterrows():
        table = pd.read_csv(PUBLISHED / point["set"] / "table1.csv").set_index(["setup", "row"])
        gu = table.loc[(point["setup"], point["lr"] + " + GU")]
        assert point["ood_diff"] == pytest.approx(gu["verdict_ood_diff"])
        assert point["id_adj_low"] == pytest.approx(gu["verdict_id_adj_low"])
        assert point["standard_ood"] == pytest.approx(table.loc[(point["setup"], point["lr"]), "ood_mean"])
    assert list(points["flops_per_run"]) == sorted(points["flops_per_run"])


def test_compute_scales_with_steps_at_one_width():
    laptop = scale_ladder.set_points(PUBLISHED / "laptop")[0]
    mnist = scale_ladder.set_points(PUBLISHED / "claims-mnist-table1")[0]
    assert (laptop["width"], laptop["batch_size"]) == (mnist["width"], mnist["batch_size"]) == (0.125, 128)
    assert laptop["flops_per_run"] / mnist["flops_per_run"] == pytest.approx(710 / 320)


def test_the_committed_ladder_is_what_the_published_sets_give():
    assert scale_ladder.check(PUBLISHED), "run `python -m earlyphase scale-ladder` (make readme) and commit"


def test_a_folder_without_a_table1_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no published set has a table1.csv"):
        scale_ladder.ladder(tmp_path)


def test_the_readme_reads_the_ladder_by_counting_adjusted_intervals():
    from earlyphase.records.readme_results import _ladder_reading

    points = pd.DataFrame({"flops_per_run": [1e12, 1e12, 4e12], "ood_adj_low": [0.5, -3.0, -9.0],
                           "ood_adj_high": [4.0, 2.0, -1.0]})
    reading = _ladder_reading(points)
    assert reading.endswith("the adjusted OOD interval lies above 0 at 1, below 0 at 1 and holds 0 at 1.")
    assert "3 points at 2 compute sizes" in reading


def test_the_dvc_stage_depends_on_every_point_of_the_ladder():
    import yaml

    deps = set(yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]["scale-ladder"]["deps"])
    sets = [p.name for p in PUBLISHED.iterdir() if (p / "table1.csv").is_file()]
    assert deps == {f"results/published/{name}/{what}" for name in sets for what in ("table1.csv", "runs")}


def test_rebuild_published_on_the_ladder_checks_it_against_its_sibling_sets(capsys):
    from earlyphase.cli import main

    assert main(["rebuild-published", str(PUBLISHED / scale_ladder.FOLDER), "--check"]) == 0
    assert "matches the published sets" in capsys.readouterr().out
