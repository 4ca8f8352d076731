"""The test forms of the companion papers' claims (Jastrzebski et al., Kalra & Barkeshli,
Berariu et al.), each against a hand-computed example: the arms against eta*, the per-seed
slopes, the critical constants' levels and trend, and a margin stated with the claim."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from earlyphase.report.claim_samples import paired_samples, slope
from earlyphase.report.claims import judge_test
from earlyphase.report.verdict import REPRODUCED


def _fisher_runs() -> pd.DataFrame:
    """Two seeds: the LR grid (eta* = scale 1.0, a larger LR scoring higher on test), the
    Baseline at 0.1 x eta* and FP."""
    rows = []
    for seed, (grid_low, eta_star, grid_high, baseline, fp) in enumerate([(70, 90, 99, 80, 88), (72, 92, 98, 82, 86)]):
        for scale, acc in ((0.1, grid_low), (1.0, eta_star), (10.0, grid_high)):
            rows.append({"row": "grid", "lr_scale": scale, "seed": seed, "id_acc": acc, "run_id": f"g{scale}-{seed}"})
        rows.append({"row": "Baseline", "lr_scale": 0.1, "eta_star_scale": 1.0, "seed": seed, "id_acc": baseline,
                     "run_id": f"g0.1-{seed}"})  # the Baseline is the grid run at 0.1: the same run, two labels
        rows.append({"row": "FP", "lr_scale": 0.1, "eta_star_scale": 1.0, "seed": seed, "id_acc": fp,
                     "run_id": f"fp-{seed}"})
    return pd.DataFrame(rows).assign(status="completed")


def _differences(pairs: pd.DataFrame) -> list[float]:
    return list((pairs["intervention"] - pairs["comparison"]).to_numpy())


def test_the_baseline_is_compared_with_the_grid_run_at_its_own_eta_star_not_the_best_test_accuracy():
    test = {"label": "Baseline vs eta*", "intervention": {"row": "Baseline"}}
    pairs = paired_samples("vs_eta_star", _fisher_runs(), test, "id_acc")
    assert _differences(pairs) == [80 - 90, 82 - 92]  # not the 99 / 98 of scale 10


def test_a_share_of_the_way_to_eta_star_is_the_point_between_the_arms():
    test = {"label": "FP vs midpoint", "intervention": {"row": "FP"}, "comparison": {"row": "Baseline"},
            "eta_star_share": 0.5}
    pairs = paired_samples("vs_eta_star", _fisher_runs(), test, "id_acc")
    assert _differences(pairs) == [88 - (80 + 90) / 2, 86 - (82 + 92) / 2]  # +3, -1


def test_the_probe_form_compares_the_log_of_each_runs_peak():
    runs = _fisher_runs()
    rows = []
    for run in runs.to_dict("records"):
        peak = {("Baseline", 0): math.e**3, ("Baseline", 1): math.e**2}.get((run["row"], run["seed"]), math.e)
        for step, fraction in ((0, 0.5), (10, 1.0), (20, 0.25)):
            rows.append({**run, "step": step, "fisher_trace": peak * fraction})
    probes = pd.DataFrame(rows).drop(columns=["status", "id_acc"])  # a run-log table has neither
    test = {"label": "peak", "intervention": {"row": "Baseline"}, "probe": "fisher_trace"}
    assert _differences(paired_samples("vs_eta_star", probes, test)) == pytest.approx([3 - 1, 2 - 1])


def test_no_eta_star_label_gives_no_pairs():
    runs = _fisher_runs().drop(columns="eta_star_scale")
    assert paired_samples("vs_eta_star", runs, {"label": "t", "intervention": {"row": "Baseline"}}, "id_acc").empty


def test_the_trend_is_the_least_squares_slope_per_seed_on_log2_one_plus_the_setting():
    accuracies = [(90, 88, 86), (90, 89.5, 87.5)]  # per seed, at E = 0, 1, 3
    rows = [{"penalty": "fisher", "onset_epoch": epoch, "seed": seed, "id_acc": acc, "status": "completed"}
            for seed, accs in enumerate(accuracies) for epoch, acc in zip((0, 1, 3), accs, strict=True)]
    rows.append({"penalty": None, "onset_epoch": None, "seed": 0, "id_acc": 10.0, "status": "completed"})  # Baseline
    test = {"label": "onset", "intervention": {"penalty": "fisher"}, "x": "onset_epoch"}
    pairs = paired_samples("trend", pd.DataFrame(rows), test, "id_acc")
    # x = log2(1 + E) = 0, 1, 2: seed 0 falls 2 per unit; seed 1: slope of (0, -0.5, -2.5) = -1.25
    assert _differences(pairs) == pytest.approx([-2.0, -1.25])
    assert math.isnan(slope([1.0, 1.0], [2.0, 3.0]))  # one setting: no slope


def _trajectories(points: dict) -> pd.DataFrame:
    """Loss trajectories on c in {1, 2, 4, 8, 16}: below c_loss the loss falls, from c_loss it
    rises, from c_div it diverges; ``points``: (depth, width, seed) -> (c_loss, c_div)."""
    frames = []
    for (depth, width, seed), (c_loss, c_div) in points.items():
        for c in (1.0, 2.0, 4.0, 8.0, 16.0):
            factor = 0.8 if c < c_loss else 1.2 if c < c_div else np.inf
            frames.append(pd.DataFrame({
                "c": c, "step": [0, 1, 2], "loss": [1.0, factor, factor**2], "sharpness": [3.0, np.nan, np.nan],
                "diverged": [False, factor == np.inf, factor == np.inf], "lambda0": 3.0, "width": width,
                "depth": depth, "parameterization": "sp", "seed": seed}))
    return pd.concat(frames, ignore_index=True)


POINTS = {(2, 64, 0): (2.0, 8.0), (2, 64, 1): (2.0, 16.0), (4, 16, 0): (4.0, 8.0), (4, 16, 1): (8.0, 16.0)}


def test_a_critical_level_is_log2_of_the_constant_at_one_point_against_the_level():
    test = {"label": "c_loss about 2", "select": {"parameterization": "sp"}, "at": {"depth": 4, "width": 16},
            "constant": "c_loss", "reference": 2.0}
    pairs = paired_samples("critical_level", _trajectories(POINTS), test)
    assert _differences(pairs) == pytest.approx([2 - 1, 3 - 1])  # log2 4 - log2 2, log2 8 - log2 2
    assert pairs.attrs["note"].startswith("c_loss: median 6 (25-75 %: 5-7) over 2 initialization(s)")


def test_a_critical_level_against_another_constant_is_averaged_over_the_points():
    # c_max is the grid value below the first divergent c: 4, 8 at width 64; 4, 8 at width 16
    test = {"label": "c_max over c_loss", "select": {}, "at": None, "constant": "c_max", "reference": "c_loss"}
    pairs = paired_samples("critical_level", _trajectories(POINTS), test)
    seed0 = np.mean([math.log2(4 / 2), math.log2(4 / 4)])
    seed1 = np.mean([math.log2(8 / 2), math.log2(8 / 8)])
    assert _differences(pairs) == pytest.approx([seed0, seed1])


def test_the_critical_trend_is_the_slope_on_log2_depth_over_width():
    test = {"label": "trend", "select": {"parameterization": "sp"}, "constant": "c_loss"}
    pairs = paired_samples("critical_trend", _trajectories(POINTS), test)
    # log2(d/w): -5 (2/64) and -2 (4/16); log2 c_loss: 1 -> 2 (seed 0), 1 -> 3 (seed 1)
    assert _differences(pairs) == pytest.approx([1 / 3, 2 / 3])


def test_initializations_without_the_constant_on_the_grid_are_left_out_and_counted():
    points = {**POINTS, (4, 16, 1): (32.0, 64.0)}  # seed 1 never raises the loss on c <= 16 at (4, 16)
    test = {"label": "c_loss about 2", "select": {}, "at": {"depth": 4, "width": 16}, "constant": "c_loss",
            "reference": 2.0}
    pairs = paired_samples("critical_level", _trajectories(points), test)
    assert list(pairs.index) == [0] and pairs.attrs["note"].endswith("1 without a c_loss on the c grid, left out")


def test_without_a_sharpness_trajectory_c_sharp_is_not_estimated():
    from earlyphase.phase_diagram.fcn_experiment import fcn_critical_constants

    crit = fcn_critical_constants(_trajectories(POINTS))
    assert crit["c_sharp"].isna().all() and list(crit["c_loss"]) == [4.0, 8.0, 2.0, 2.0]


def test_a_margin_stated_with_the_test_replaces_the_accuracy_margin():
    test = {"label": "c_loss about 2", "select": {}, "at": {"depth": 2, "width": 64}, "constant": "c_loss",
            "reference": 2.0, "margin": 0.5}
    row = pd.Series({"claim": "c", "paper": "p", "section": "s", "statement": "t", "setup": "fcn", "label": "l",
                     "comparison": "c", "metric": "m", "direction": "unchanged", "paper_value": None,
                     "kind": "critical_level", "table": "pd.parquet", "arm_metric": "", "test": json.dumps(test)})
    record = judge_test(row, {"pd.parquet": _trajectories(POINTS)}, m=1)
    # both initializations have c_loss = 2 at (2, 64): d = 0, 0, an interval of zero width inside +-0.5
    assert record["margin"] == 0.5 and record["mean_diff"] == 0.0 and record["verdict"] == REPRODUCED


def test_the_critical_constants_of_one_table_are_computed_once_for_all_its_tests(monkeypatch):
    from earlyphase.phase_diagram import fcn_experiment
    from earlyphase.report import claim_samples

    monkeypatch.setattr(claim_samples, "_CRITICAL_CACHE", {})  # nothing from the tests before
    calls = []
    original = fcn_experiment.fcn_critical_constants
    monkeypatch.setattr(fcn_experiment, "fcn_critical_constants", lambda df: calls.append(len(df)) or original(df))
    level = {"label": "level", "select": {}, "at": {"depth": 4, "width": 16}, "constant": "c_loss", "reference": 2.0}
    trend = {"label": "trend", "select": {"parameterization": "sp"}, "constant": "c_loss"}
    first = paired_samples("critical_level", _trajectories(POINTS), level)
    paired_samples("critical_trend", _trajectories(POINTS), trend)  # the same content, a new frame
    again = paired_samples("critical_level", _trajectories(POINTS), level)
    assert len(calls) == 1 and _differences(again) == _differences(first)
    changed = paired_samples("critical_level", _trajectories({**POINTS, (4, 16, 1): (32.0, 64.0)}), level)
    assert len(calls) == 2 and list(changed.index) == [0]  # another table is computed afresh
