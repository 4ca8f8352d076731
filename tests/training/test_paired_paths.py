"""The fast-path check pairs two builds' Table 1 runs by (row, seed) and judges each difference
against its row's seed-to-seed spread on today's path."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from earlyphase.bench import paired_paths
from earlyphase.bench.__main__ import main


def runs(id_acc: dict, ood_acc: dict) -> pd.DataFrame:
    return pd.DataFrame([{"row": row, "seed": seed, "id_acc": id_acc[row][seed], "ood_acc": ood_acc[row][seed]}
                         for row in id_acc for seed in range(len(id_acc[row]))])


TODAY = runs({"lr_d": [90.0, 91.0, 92.0, 93.0], "lr_d + GU": [80.0, 80.0, 82.0, 82.0]},
             {"lr_d": [60.0, 62.0, 64.0, 66.0], "lr_d + GU": [50.0, 51.0, 52.0, 53.0]})


def test_differences_and_spreads_are_the_hand_computed_ones():
    fast = runs({"lr_d": [90.5, 91.0, 92.0, 93.0], "lr_d + GU": [80.0, 83.0, 82.0, 82.0]},
                {"lr_d": [60.0, 62.0, 64.0, 65.0], "lr_d + GU": [50.0, 51.0, 52.0, 53.0]})
    paired = paired_paths.paired_differences(TODAY, fast).set_index(["row", "seed"])
    assert paired.loc[("lr_d", 0), "id_acc_diff"] == pytest.approx(0.5)
    assert paired.loc[("lr_d", 3), "ood_acc_diff"] == pytest.approx(-1.0)
    assert paired.loc[("lr_d", 0), "id_acc_spread"] == pytest.approx(np.std([90, 91, 92, 93], ddof=1))
    assert paired.loc[("lr_d + GU", 1), "id_acc_spread"] == pytest.approx(np.std([80, 80, 82, 82], ddof=1))
    # +3 against a spread of 1.15: the only pair outside
    assert not paired.loc[("lr_d + GU", 1), "id_acc_within"]
    assert paired.drop(("lr_d + GU", 1))["id_acc_within"].all() and paired["ood_acc_within"].all()
    s = paired_paths.summary(paired.reset_index())
    assert s["pairs"] == 8 and not s["within_spread"]
    assert s["id_acc"]["max_abs_diff"] == pytest.approx(3.0) and s["ood_acc"]["mean_diff"] == pytest.approx(-1 / 8)
    ood = np.array([0, 0, 0, -1, 0, 0, 0, 0], dtype=float)  # fast - today, in (row, seed) order
    low, high = stats.t.interval(0.95, len(ood) - 1, loc=ood.mean(), scale=stats.sem(ood))
    assert (s["ood_acc"]["ci_low"], s["ood_acc"]["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_identical_paths_pass_and_unmatched_builds_are_refused():
    assert paired_paths.summary(paired_paths.paired_differences(TODAY, TODAY.copy()))["within_spread"]
    other = TODAY.assign(row=TODAY["row"] + " (other preset)")
    with pytest.raises(ValueError, match="share no"):
        paired_paths.paired_differences(TODAY, other)
    with pytest.raises(ValueError, match="repeat"):
        paired_paths.paired_differences(pd.concat([TODAY, TODAY]), TODAY)


def test_the_bench_command_reads_two_results_folders(tmp_path, capsys):
    for name, frame in (("today", TODAY), ("fast", TODAY.assign(ood_acc=TODAY["ood_acc"] + 0.25))):
        (tmp_path / name / "tables").mkdir(parents=True)
        frame.to_parquet(tmp_path / name / "tables" / "table1_runs.parquet")
    result = main(["--paired", str(tmp_path / "today"), str(tmp_path / "fast"), "--out", str(tmp_path / "p.json")])
    assert result["summary"]["ood_acc"]["mean_diff"] == pytest.approx(0.25)
    assert "every fast - today difference is within" in capsys.readouterr().out
    assert (tmp_path / "p.json").exists()
    with pytest.raises(FileNotFoundError, match="make fast-path-check"):
        main(["--paired", str(tmp_path / "today"), str(tmp_path / "missing")])
