"""Figure 1 as a reviewer reads it, on the published laptop run's records: the curve joins
the log grid of k only (Table 1's k = 38 beside the grid's 41 is a separate marker, so the
line does not zig-zag), the log axis says so, the legend sits inside a panel and names the
band (±1 SD over n seeds), and the note under the figure says which seeds the k = 38 points
and Table 1 use."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from earlyphase.experiments import experiment_runs
from earlyphase.params import REPO_ROOT
from earlyphase.records import published
from earlyphase.records.aggregate import collect
from earlyphase.report.figure1 import accuracy_changes, caption_note, draw_figure1, plot_points, point_stats, seed_list

LAPTOP = REPO_ROOT / "results" / "published" / "laptop"
GRID = [1, 3, 12, 41, 142]


@pytest.fixture(scope="module")
def laptop_runs():
    config = published._config(["config/laptop.yaml"], LAPTOP)
    return collect(published._manifest(config, "figure1_runs.parquet"))


@pytest.fixture(scope="module")
def figure(laptop_runs):
    figure = draw_figure1(laptop_runs)
    figure.canvas.draw()
    yield figure
    plt.close(figure)


def test_runs_carry_whether_k_is_on_the_grid_and_table1s_seeds():
    config = published._config(["config/laptop.yaml"])
    labels = {(run.config["gu_k"], run.config["lr_scale"]): tags for run, tags in experiment_runs(config, "figure1")}
    assert {k for (k, _), tags in labels.items() if tags["k_on_grid"]} == set(GRID)
    for lr_scale in (1.0, 0.1):
        assert labels[(38, lr_scale)] == {"k_on_grid": False, "table1_seeds": "0,1,2,3"}
        assert labels[(41, lr_scale)] == {"k_on_grid": True, "table1_seeds": ""}
        assert labels[(None, lr_scale)]["k_on_grid"] is None


def test_the_curves_join_the_grid_only_and_k38_is_a_separate_marker(figure):
    for ax in figure.axes:
        curves = [line for line in ax.get_lines() if line.get_marker() == "o"]
        assert len(curves) == 2  # one per learning rate
        for line in curves:
            assert list(line.get_xdata()) == GRID
        diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"]
        assert sorted(x for line in diamonds for x in line.get_xdata()) == [38, 38]


def test_the_log_axis_is_labelled_and_no_tick_labels_overlap(figure):
    bottom = figure.axes[-1]
    assert bottom.get_xscale() == "log" and "k (log scale)" in bottom.get_xlabel()
    labels = [label for label in bottom.get_xticklabels(which="both") if label.get_text()]
    assert [label.get_text() for label in labels] == [str(k) for k in GRID]
    boxes = sorted((label.get_window_extent() for label in labels), key=lambda box: box.x0)
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:], strict=False))
    assert 38 in bottom.xaxis.get_minorticklocs()  # a bare tick at Table 1's k


def test_the_legend_is_inside_a_panel_and_names_the_band_and_k38(figure):
    assert not figure.legends
    (legend,) = [ax.get_legend() for ax in figure.axes if ax.get_legend()]
    texts = [text.get_text() for text in legend.get_texts()]
    assert texts[:2] == ["lr_d", "0.1·lr_d"]
    assert "±1 SD over n = 2 seeds" in texts and any(t.startswith("k = 38 (Table 1's k)") for t in texts)
    assert legend.axes.get_window_extent().contains(*legend.get_window_extent().p0)
    assert legend.axes.get_window_extent().contains(*legend.get_window_extent().p1)


def test_the_note_under_the_figure_says_what_the_band_is_and_which_seeds(figure):
    notes = [text.get_text() for text in figure.texts]
    assert any("±1 SD over n = 2 seeds" in note and "The k = 38 points use seeds 0–1; Table 1 uses seeds 0–3."
               in note for note in notes)


def test_seed_sets_read_as_ranges_and_equal_sets_need_no_note(laptop_runs):
    assert seed_list([3, 0, 1, 2]) == "0–3" and seed_list([0, 2, 5]) == "0, 2, 5" and seed_list([1]) == "1"
    runs = laptop_runs.assign(table1_seeds=laptop_runs["table1_seeds"].replace("0,1,2,3", "0,1"))
    assert "Table 1 uses" not in caption_note(point_stats(accuracy_changes(runs)))


def test_dvc_points_keep_the_off_grid_k_in_a_series_of_its_own(laptop_runs):
    points = plot_points([laptop_runs])
    assert sorted(points.loc[points["series"] == "lr_d", "k"]) == GRID
    assert list(points.loc[points["series"].str.contains("off the log grid"), "k"]) == [38, 38]
