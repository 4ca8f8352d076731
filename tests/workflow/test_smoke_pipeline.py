"""End to end: the real Snakemake DAG on the offline smoke configuration, then DVC.

One module-scoped run of the whole workflow in a copy of the repository (minutes on a
2-core CPU); the tests below check its products and the incremental-rebuild, validation
and DVC push/pull guarantees on that copy.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from earlyphase.experiments import artifact_targets
from earlyphase.params import load_params

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
SMOKE = ["--configfile", "config/smoke.yaml"]
# Every artifact of the registry that the smoke configuration enables (what `rule all` builds).
ARTIFACTS = artifact_targets(load_params(REPO / "params.yaml", REPO / "config" / "smoke.yaml"))
COMPANIONS = ["figures/fisher_table1.tex", "figures/fisher_onset.pdf", "figures/fisher_explosion.pdf",
              "figures/phase_diagram.pdf", "figures/uv_phase_diagram.pdf", "figures/warm_start.pdf"]  # seeds 002-004
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{output}")
    return result


def _dry_run_jobs(cwd: Path, targets: list[str], overlays: tuple[str, ...] = ()) -> dict[str, int]:
    """Job counts per rule of a dry run (empty when there is nothing to do).

    Targets come first: ``--configfile`` takes every following word as a file.
    """
    out = _run([*SNAKEMAKE, *targets, "-n", "--cores", "2", *SMOKE, *overlays], cwd).stdout
    counts = {}
    table = re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal", out, re.S)
    if table:
        for line in table.group(1).splitlines():
            rule, count = line.split()
            counts[rule] = int(count)
    return counts


@pytest.fixture(scope="module")
def smoke_repo(tmp_path_factory, copy_repo) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    _run([*SNAKEMAKE, *ARTIFACTS, "--cores", "2", *SMOKE], repo)
    return repo


def test_table1_has_every_row_and_column_with_valid_numbers(smoke_repo, smoke_params):
    table = pd.read_csv(smoke_repo / "figures" / "table1.csv")
    setups = smoke_params["experiments"]["table1"]["setups"]
    rows = {"lr_d", "lr_d + GU", "0.1·lr_d", "0.1·lr_d + GU"}
    assert set(table["setup"]) == set(setups)
    assert set(table["row"]) == rows
    assert len(table) == len(setups) * len(rows)
    for column in ("id_mean", "ood_mean"):
        assert table[column].between(0, 100).all(), column
    seeds = smoke_params["experiments"]["table1"]["seeds"]
    for _, row in table.iterrows():
        assert row["n_seeds"] + row["n_diverged"] == len(seeds[row["setup"]])
    assert table["paper_id"].notna().all()  # every column is one of the paper's

    tex = (smoke_repo / "figures" / "table1.tex").read_text()
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule", 1)[0]  # the caption mentions \\pm too
    assert body.count("\\pm") == 2 * int((table["n_seeds"] >= 2).sum())  # one seed: mean and n, no spread
    assert "\\textit{93.32}" in tex and "\\textit{63.99}" in tex  # paper's values beside ours
    assert "\\textit{CIFAR-10 VGG-11} ($n=2$, GU $k=2$)" in tex  # one block of rows per setup, with its k
    assert "not evidence for or against the paper" in tex  # stand-in data say so
    verdicts = table.dropna(subset=["verdict_ood"])
    assert set(verdicts["row"]) == {"lr_d + GU", "0.1·lr_d + GU"} and (verdicts["verdict_ood_n"] >= 1).all()
    ledger = pd.read_csv(smoke_repo / "figures" / "claims.csv")
    assert (verdicts["verdict_m"] == ledger["m"].iloc[0]).all()  # Table 1 and the ledger share m


def _latex_problems(tex: str) -> list[str]:
    """Characters that break pdflatex in text mode: bare _ or %, a raw middle dot, unbalanced braces."""
    problems = []
    for number, line in enumerate(tex.splitlines(), 1):
        if line.startswith("%") or line.startswith("\\label{"):
            continue
        text = re.sub(r"\$[^$]*\$", "", line)  # math mode may hold _ and ^
        if re.search(r"(?<!\\)[_%]", text) or "·" in text:
            problems.append(f"line {number}: {line}")
        if line.count("{") - line.count("\\{") != line.count("}") - line.count("\\}"):
            problems.append(f"line {number} (braces): {line}")
    return problems


def test_every_latex_table_is_safe_to_compile(smoke_repo):
    tables = sorted((smoke_repo / "figures").glob("*.tex"))
    assert len(tables) >= 4
    for path in tables:
        assert _latex_problems(path.read_text()) == [], path.name


def test_figure1_is_written(smoke_repo):
    for suffix in ("pdf", "png"):
        path = smoke_repo / "figures" / f"figure1.{suffix}"
        assert path.stat().st_size > 10_000


def test_primary_figures_are_written(smoke_repo):
    for name in ("figure2", "figure3", "appendix_feature_rank", "appendix_sharpness_ood", "appendix_sharpness_scaling"):
        for suffix in ("pdf", "png"):
            assert (smoke_repo / "figures" / f"{name}.{suffix}").stat().st_size > 10_000, name
    probes = pd.read_parquet(smoke_repo / "results" / "tables" / "probes.parquet")
    for column in ("step", "gu_k", "fisher_trace_norm", "avg_sharpness", "worst_sharpness", "avg_sharpness_adaptive",
                   "worst_sharpness_adaptive", "feature_rank"):  # both scalings c, at the same probe points
        assert column in probes.columns, column
    assert probes["step"].min() == 0 and probes["feature_rank"].ge(0).all()


def test_table2_has_both_parts_with_the_papers_numbers(smoke_repo, smoke_params):
    table = pd.read_csv(smoke_repo / "figures" / "table2.csv")
    onsets = smoke_params["experiments"]["table2"]["fisher_penalty"]["onset_steps"]
    assert set(table["row"]) == {"lr_d", "lr_l2h", "0.1·lr_d", "lr_h2l", "no FP"} | {f"FP, delay {d}" for d in onsets}
    assert table["id_mean"].between(0, 100).all() and table["ood_mean"].between(0, 100).all()
    tex = (smoke_repo / "figures" / "table2.tex").read_text()
    assert "93.35" in tex and "72.89" in tex and "91.58" in tex  # paper's lr_l2h / lr_h2l beside ours


def test_stabilization_table_has_chosen_k_win_rate_and_paper_values(smoke_repo, smoke_params):
    spec = smoke_params["experiments"]["stabilization"]
    table = pd.read_csv(smoke_repo / "figures" / "table_stabilization.csv")
    chosen = table[table["metric"].notna()]
    assert set(chosen["metric"]) == set(spec["metrics"])
    assert chosen["k"].between(1, spec["random_k"]["k_max"]).all()
    assert chosen["win_rate"].between(0, 100).all() and (chosen["wr_n"] == spec["random_k"]["n"]).all()
    for path in (smoke_repo / "results" / "stabilization").rglob("*.json"):
        assert json.loads(path.read_text())["k"] in set(chosen["k"])
    tex = (smoke_repo / "figures" / "table_stabilization.tex").read_text()
    assert "72.75" in tex and "73.56" in tex and "230" in tex  # v1 Table 2, CIFAR-10 ResNet-18


def test_html_report_builds(smoke_repo):
    _run([*SNAKEMAKE, "--report", "report.html", *SMOKE], smoke_repo)
    assert (smoke_repo / "report.html").stat().st_size > 100_000


def test_second_invocation_has_nothing_to_do(smoke_repo):
    assert _dry_run_jobs(smoke_repo, ["figures/table1.tex", "figures/figure1.pdf"]) == {}
    # Snakemake re-renders a table downstream of a checkpoint (the stabilization choice) on
    # every invocation, and the claims ledger that reads the same table; that costs seconds.
    # Nothing else may run again.
    assert set(_dry_run_jobs(smoke_repo, ARTIFACTS)) <= {"table_stabilization", "claims"}


def test_changing_one_k_reruns_only_its_jobs(smoke_repo, tmp_path):
    overlay = tmp_path / "k.yaml"
    overlay.write_text(yaml.safe_dump({"experiments": {"table1": {"gu_k": {"cifar10-vgg11": 3}}}}))
    jobs = _dry_run_jobs(smoke_repo, ["figures/table1.tex"], (str(overlay),))
    # The GU rows of one column: 2 learning rates x 2 seeds.
    assert jobs["train"] == 4 and jobs["evaluate"] == 4
    assert jobs.get("prepare_clean", 0) == 0 and jobs.get("prepare_ood", 0) == 0


def test_changing_one_seed_list_reruns_only_its_jobs(smoke_repo, tmp_path):
    overlay = tmp_path / "seeds.yaml"
    overlay.write_text(yaml.safe_dump({"experiments": {"table1": {"seeds": {"mnist-resnet18": [0, 1, 2]}}}}))
    jobs = _dry_run_jobs(smoke_repo, ["figures/table1.tex"], (str(overlay),))
    assert jobs["train"] == 4  # seed 2 of each of the 4 rows of one column


def test_invalid_params_stop_before_any_job(smoke_repo, tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text(yaml.safe_dump({"setups": {"cifar10-resnet18": {"lr": 0}}}))
    result = _run([*SNAKEMAKE, "--cores", "2", *SMOKE, str(overlay)], smoke_repo, check=False)
    assert result.returncode != 0
    assert "setups.cifar10-resnet18.lr" in result.stdout + result.stderr
    assert "Select jobs to execute" not in result.stdout + result.stderr


def test_dvc_push_then_pull_in_a_fresh_clone_leaves_no_training(smoke_repo, tmp_path):
    env_path = f"{BIN}:{Path('/usr/bin')}:{Path('/bin')}"
    git = ["git", "-c", "user.email=ci@example.org", "-c", "user.name=ci"]

    def sh(args, cwd):
        env = {"PATH": env_path, "HOME": str(tmp_path)}
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
        assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        return result.stdout

    params = yaml.safe_load((smoke_repo / "params.yaml").read_text())
    params["config_overlay"] = "config/smoke.yaml"
    (smoke_repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    if not (smoke_repo / ".git").exists():
        sh(["git", "init", "-q"], smoke_repo)
    sh(["dvc", "repro"], smoke_repo)
    assert "up to date" in sh(["dvc", "repro"], smoke_repo).lower()
    store = tmp_path / "store"
    sh(["dvc", "remote", "add", "-d", "store", str(store)], smoke_repo)
    sh(["dvc", "push"], smoke_repo)
    sh([*git, "add", "-A"], smoke_repo)
    sh([*git, "commit", "-qm", "smoke results"], smoke_repo)

    clone = tmp_path / "clone"
    sh(["git", "clone", "-q", str(smoke_repo), str(clone)], tmp_path)
    sh(["dvc", "pull"], clone)
    assert (clone / "results" / "runs").is_dir()
    sh([sys.executable, "-m", "snakemake", "--cores", "1", "--touch", "runs"], clone)
    jobs = _dry_run_jobs(clone, ["all"])
    for expensive in ("prepare_clean", "prepare_ood", "train", "evaluate"):
        assert jobs.get(expensive, 0) == 0, jobs


def test_companion_artifacts_exist_and_parse(smoke_repo, smoke_params):
    figures = smoke_repo / "figures"
    for target in COMPANIONS:
        for suffix in (".pdf", ".png") if target.endswith(".pdf") else (".tex", ".csv"):
            assert (smoke_repo / target).with_suffix(suffix).stat().st_size > 300, (target, suffix)
    fisher = pd.read_csv(figures / "fisher_table1.csv")
    assert list(fisher["column"]) == ["eta*", "Baseline", "GPx", "GP", "FP", "GPr"]
    assert fisher["paper_id"].tolist() == [76.94, 71.32, 75.68, 75.73, 79.66, 79.76]
    assert "\\textit{79.66}" in (figures / "fisher_table1.tex").read_text()
    choice = json.loads(next((smoke_repo / "results" / "fisher").glob("eta_star-*.json")).read_text())
    by_column = fisher.set_index("column")
    assert by_column.loc["eta*", "lr"] == pytest.approx(choice["eta_star"])  # the checkpoint's choice
    small = by_column.loc[["Baseline", "GPx", "GP", "FP", "GPr"], "lr"]
    assert all(lr == pytest.approx(choice["eta_star"] / 10) for lr in small)
    uv = pd.read_csv(figures / "uv_phase_diagram.csv")
    assert set(uv["width"]) == set(smoke_params["experiments"]["uv_model"]["widths"])
    assert uv[["c_loss_mean", "c_max_mean"]].notna().all().all()
    phase = pd.read_csv(figures / "phase_diagram.csv")
    assert set(phase["width"]) == set(smoke_params["experiments"]["phase_diagram"]["widths"])
    warm = pd.read_csv(figures / "warm_start.csv")
    assert set(warm["pretrain_epochs"]) >= {0, 1} and warm["last_mean"].between(0, 100).all()
    assert (warm["n_evals"] == smoke_params["experiments"]["warm_start"]["last_epochs"]).all()
