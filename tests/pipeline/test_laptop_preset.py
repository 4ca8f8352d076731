"""The laptop preset (config/laptop.yaml): its planned grid, and a tiny run on the real images."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from earlyphase import runs
from earlyphase.data.local_mirror import DEFAULT_PATHS
from earlyphase.data.prepare import prepare_clean, prepare_corrupted
from earlyphase.experiments import all_runs, experiment_runs
from earlyphase.params import REPO_ROOT, load_params
from earlyphase.training.evaluate import evaluate_run
from earlyphase.training.trainer import train_run

FASHION_MNIST = Path(DEFAULT_PATHS["fashion_mnist"])
TARGETS = ["figures/laptop/table1.tex", "figures/laptop/figure1.pdf", "figures/laptop/claims.csv"]


@pytest.fixture(scope="module")
def laptop() -> dict:
    return load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "laptop.yaml")


def test_the_grid_is_table1_with_four_seeds_and_a_k_sweep_of_both_learning_rates(laptop):
    table1 = experiment_runs(laptop, "table1")
    assert len(table1) == 4 * 4  # four rows, four seeds
    figure1 = {run.run_id: run for run, _ in experiment_runs(laptop, "figure1")}
    ks = sorted({run.config["gu_k"] for run in figure1.values() if run.config["gu_k"]})
    assert len(ks) >= 5 and ks[0] == 1 and ks[-1] == runs.total_steps(laptop, "fmnist-resnet18") // 5
    assert {run.config["lr_scale"] for run in figure1.values()} == {1.0, 0.1}
    # Table 1's k and baselines are Figure 1's runs too: trained once.
    shared = {run.run_id for run, _ in table1} & set(figure1)
    assert len(shared) == 2 * 2 * 2  # seeds 0-1, both learning rates, standard and k = 38
    laptop_runs = {run_id for run_id in all_runs(laptop) if run_id.startswith("fmnist-resnet18/")}
    assert len(laptop_runs) == 16 + len(figure1) - len(shared) == 36


def test_the_dry_run_plans_the_jobs_of_the_grid_and_nothing_else():
    # --forceall: the whole plan, whatever this checkout has already built.
    out = subprocess.run([sys.executable, "-m", "snakemake", *TARGETS, "-n", "--forceall", "--cores", "2",
                          "--configfile", "config/laptop.yaml"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    table = re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal", out.stdout, re.S)
    counts = {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}
    assert counts == {"train": 36, "evaluate": 36, "aggregate": 2, "table1": 1, "figure1": 1, "prepare_clean": 1,
                      "prepare_ood": 1, "claim_tests": 1, "claims": 1}


@pytest.mark.skipif(not (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
                    reason=f"Fashion-MNIST is not installed in {FASHION_MNIST} (apt-get install dataset-fashion-mnist)")
def test_two_short_runs_train_and_evaluate_on_the_real_images(laptop, tmp_path):
    spec = runs.clean_data_spec(laptop, "fashion_mnist")
    clean, ood = tmp_path / "clean", tmp_path / "c"
    prepare_clean("fashion_mnist", "local", clean, tmp_path / "raw", path=spec["path"],
                  subset={"train_size": 512, "test_size": 200})
    corruptions = ["fog", "rotate"]
    prepare_corrupted("fashion_mnist", "generated", clean, ood, tmp_path / "raw", corruptions)
    results = {}
    for gu_k in (None, 1):
        run = runs.resolve_run(laptop, "fmnist-resnet18", 0, gu_k=gu_k, steps=6)
        run_dir = tmp_path / run.run_id
        status = train_run({**run.config, "log_every": 2}, run_dir, clean, progress=False)
        assert status["status"] == "completed"
        results[gu_k] = evaluate_run(run_dir / "final", clean, ood, corruptions, [1], tmp_path / f"{gu_k}.parquet")
        assert json.loads((run_dir / "final" / "config.json").read_text())["data"]["source"] == "local"
    for frame in results.values():
        assert list(frame["split"]) == ["id", "ood", "ood"] and (frame["n"] == 200).all()
        assert frame["accuracy"].between(0, 100).all()
    # Six AdamW steps on real images already beat chance (10%) on the clean test images.
    assert max(frame.loc[frame["split"] == "id", "accuracy"].iloc[0] for frame in results.values()) > 15
    assert not np.allclose(results[None]["accuracy"], results[1]["accuracy"])  # GU trains another network
