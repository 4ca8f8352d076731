"""What DVC reads, declared once: every table artifact of the registry writes a metrics file
(results/metrics/<name>.json) and every artifact with plot data a CSV of points
(results/plots/<name>.csv); dvc.yaml reads the metrics folder as a whole and draws its plots
from exactly those CSVs, with fields the report writes. Synthetic inputs; the real DVC
commands run in test_dvc_on_a_small_dag.py."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from earlyphase.cli import main
from earlyphase.experiments import ARTIFACTS
from earlyphase.report.metrics import table_metrics, write_metrics
from earlyphase.report.paper_values import SETUP_TITLES

from .synthetic_tables import report_inputs, runs_table

REPO = Path(__file__).resolve().parents[2]
DVC = yaml.safe_load((REPO / "dvc.yaml").read_text())
TABLES = sorted(name for name, a in ARTIFACTS.items() if a.metric_keys)
PLOTTED = sorted(name for name, a in ARTIFACTS.items() if a.plot_data)


PUBLISHED = "results/published/"


def _plot_definitions() -> list[dict]:
    """dvc.yaml's plots with a template (the others are images, e.g. a published PNG)."""
    definitions = []
    for entry in DVC["plots"]:
        if isinstance(entry, str):
            assert entry.startswith(PUBLISHED) and entry.endswith(".png"), entry
            continue
        (props,) = entry.values()
        definitions.append(props)
    return definitions


def _plot_sources(prefix: str = "${paths.results}/") -> dict[str, set[str]]:
    """File (relative to ``prefix``) -> fields that dvc.yaml's plots draw from it."""
    sources: dict[str, set[str]] = {}
    for props in _plot_definitions():
        for path, field in props["y"].items():
            assert path.startswith(("${paths.results}/", PUBLISHED)), path
            if path.startswith(prefix):
                sources.setdefault(path.removeprefix(prefix), set()).update({field, props["x"]})
    return sources


def test_every_table_and_no_figure_declares_metrics():
    assert {name for name, a in ARTIFACTS.items() if "tex" in a.outputs} == set(TABLES)
    assert {"figure1", "figure2", "figure3"} <= set(PLOTTED)


@pytest.mark.parametrize("name", TABLES)
def test_report_writes_the_tables_headline_numbers_per_cell(name, default_params, tmp_path):
    artifact = ARTIFACTS[name]
    inputs = []
    for i, frame in enumerate(report_inputs(default_params, artifact)):
        inputs.append(str(tmp_path / f"in{i}.parquet"))
        frame.to_parquet(inputs[-1])
    tex, metrics = tmp_path / artifact.outputs["tex"], tmp_path / "metrics" / f"{name}.json"
    assert main(["report", name, "--runs", *inputs, "--out", str(tex), "--metrics", str(metrics)]) == 0
    written = json.loads(metrics.read_text())
    table = pd.read_csv(tex.with_name(artifact.outputs["csv"]))
    assert len(table) > 2
    for _, row in table.iterrows():
        cell = written
        for key in artifact.metric_keys:
            cell = cell[str(row[key])]
        assert set(cell) >= set(artifact.metric_values)
        if name != "claims":  # the ledger's cells are tests: n, difference, interval, verdict
            assert set(artifact.metric_values) >= {"id_mean", "ood_mean", "n_seeds"}
        for value in artifact.metric_values:
            assert (cell[value] is None and pd.isna(row[value])) or cell[value] == pytest.approx(row[value])


def test_verdict_columns_come_along_and_missing_numbers_are_null(tmp_path):
    table = pd.DataFrame({"setup": ["a", "a", "b"], "row": ["lr_d", "lr_d + GU", "lr_d + GU"],
                          "id_mean": [90.0, 91.5, float("nan")], "ood_mean": [50.0, 52.0, 40.0],
                          "n_seeds": [3, 3, 0], "verdict_ood": ["", "holds", "does not hold"],
                          "paper_id": [93.3, 93.1, 1.0]})
    table.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "m.json"
    write_metrics(tmp_path / "t.csv", ("setup", "row"), ("id_mean", "ood_mean", "n_seeds"), out)
    assert json.loads(out.read_text()) == {
        "a": {"lr_d": {"id_mean": 90.0, "ood_mean": 50.0, "n_seeds": 3, "verdict_ood": None},
              "lr_d + GU": {"id_mean": 91.5, "ood_mean": 52.0, "n_seeds": 3, "verdict_ood": "holds"}},
        "b": {"lr_d + GU": {"id_mean": None, "ood_mean": 40.0, "n_seeds": 0, "verdict_ood": "does not hold"}}}
    with pytest.raises(ValueError, match="share"):
        table_metrics(pd.concat([table, table]), ("setup", "row"), ("id_mean",))
    with pytest.raises(ValueError, match="win_rate"):
        table_metrics(table, ("setup", "row"), ("win_rate",))


def test_dvc_yaml_reads_the_metrics_folder_and_caches_what_it_compares():
    assert DVC["metrics"][0] == "${paths.results}/metrics"
    assert all(path.startswith(PUBLISHED) for path in DVC["metrics"][1:])
    outs = [next(iter(o)) if isinstance(o, dict) else o for o in DVC["stages"]["paper"]["outs"]]
    assert {"${paths.results}/metrics", "${paths.results}/plots"} <= set(outs)
    for out in DVC["stages"]["paper"]["outs"]:
        if out in ("${paths.results}/metrics", "${paths.results}/plots"):
            assert isinstance(out, str)  # cached: dvc exp show and metrics diff read old revisions


def test_dvc_plots_draw_exactly_the_registry_plot_files_with_fields_they_have(default_params):
    sources = _plot_sources()
    assert set(sources) == {ARTIFACTS[name].plot_file for name in PLOTTED}
    probes = pd.DataFrame([{"setup": s, "arch": "resnet18", "gu_k": k, "step": step, "status": "completed",
                            "fisher_trace_norm": 1.0 + step, "avg_sharpness": 2.0, "worst_sharpness": 3.0}
                           for s in ("cifar10-resnet18", "mnist-resnet18") for k in (None, 50)
                           for step in (0, 10, 20)])
    inputs = {"figure1": [runs_table(default_params, "figure1")], "figure2": [probes], "figure3": [probes]}
    for name in PLOTTED:
        points = ARTIFACTS[name].plot_data(inputs[name])
        assert sources[ARTIFACTS[name].plot_file] | {"panel", "series"} <= set(points.columns), name
        assert len(points) and points[["panel", "series"]].notna().all().all()
    for props in _plot_definitions():
        template = json.loads((REPO / ".dvc" / "plots" / f"{props['template']}.json").read_text())
        text = json.dumps(template)
        for anchor in ("<DVC_METRIC_DATA>", "<DVC_METRIC_X>", "<DVC_METRIC_Y>"):
            assert anchor in text
        assert template["encoding"]["color"]["field"] == "series"
        assert template["encoding"]["column"]["field"] == "panel"
        assert props["x_label"] and props["y_label"]


def test_figure1_points_are_the_mean_change_over_seeds(default_params):
    runs = runs_table(default_params, "figure1")
    points = ARTIFACTS["figure1"].plot_data([runs])
    done = runs[runs["status"] == "completed"]
    setup, scale = done["setup"].iloc[0], 1.0
    k = int(done.loc[done["gu_k"].notna(), "gu_k"].iloc[0])
    mine = done[(done["setup"] == setup) & (done["lr_scale"] == scale)]
    base = mine[mine["gu_k"].isna()].set_index("seed")["ood_acc"]
    gu = mine[mine["gu_k"] == k].set_index("seed")["ood_acc"]
    expected = (gu - base.reindex(gu.index)).dropna().mean()
    row = points[(points["series"] == "lr_d") & (points["k"] == k) & (points["panel"] == SETUP_TITLES[setup])]
    assert len(row) == 1 and expected == pytest.approx(row["delta_ood"].iloc[0])
    assert row["n_seeds"].iloc[0] == len(gu)


def test_the_published_sets_dvc_files_are_outputs_of_their_stage_in_the_workflows_layout():
    """Each published folder's metrics and plots that dvc.yaml reads are uncached outputs of
    its stage (committed to git with their hashes in dvc.lock), named as the workflow names
    them under paths.results, and the published records make exactly those files."""
    from earlyphase.records.published import PROVENANCE, dvc_files

    shown = set(DVC["metrics"][1:]) | {PUBLISHED + path for path in _plot_sources(PUBLISHED)}
    folders = sorted(p.parent for p in (REPO / "results" / "published").glob(f"*/{PROVENANCE}"))
    assert folders, "no published folder"
    for folder in folders:
        stage = DVC["stages"][f"published-{folder.name}"]
        outs = {next(iter(out)): out[next(iter(out))] for out in stage["outs"]}
        assert all(options == {"cache": False} for options in outs.values())
        relative = f"{PUBLISHED}{folder.name}/"
        record = json.loads((folder / PROVENANCE).read_text())
        for path in dvc_files(record["artifacts"]):
            assert relative + path in outs and (folder / path).is_file()
            assert relative + path in shown, f"dvc.yaml shows no metrics or plots of {relative + path}"
        jobs = {relative + name for name in ("phase_diagram",) if (folder / name).is_dir()}  # job records
        assert {relative + "runs", relative + PROVENANCE} | jobs == set(stage["deps"])
