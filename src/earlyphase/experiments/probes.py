"""Figures 2 and 3 of Liu & Gurevych: probe trajectories over the early window.

Standard training and gradual unfreezing at several k, trained only through the probe
window (the figures show nothing later), so these runs are not evaluated.
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.report import appendix_feature_rank as appendix_feature_rank_report
from earlyphase.report import appendix_sharpness_scaling as appendix_sharpness_scaling_report
from earlyphase.report import figure2 as figure2_report
from earlyphase.report import figure3 as figure3_report
from earlyphase.report.probe_dynamics import METRICS as PROBE_COLUMNS
from earlyphase.runs import resolve_run, total_steps

EVALUATED = False
PAPER = "Liu & Gurevych (arXiv v1)"
PROBES = "probes.parquet"
# Figure 2's probes by their column, named as the tables name them.
PROBE_NAMES = {"fisher_trace_norm": "tr(F)", "avg_sharpness": "S_avg", "worst_sharpness": "S_worst"}


def runs(config: dict) -> list:
    spec = config["experiments"]["probes"]
    window = config["probe"]["window"]
    entries = []
    for setup_name in spec["setups"]:
        steps = min(window, total_steps(config, setup_name))
        for seed in spec["seeds"]:
            for k in [None, *spec["k_values"]]:
                run = resolve_run(config, setup_name, seed, gu_k=k, probe=True, steps=steps)
                entries.append((run, {"k": k}))
    return entries


def _each_probe(config: dict, make) -> list[dict]:
    """``make(setup, column, name, ks)`` per probed setup and Figure 2 probe, flattened."""
    spec = config["experiments"]["probes"]
    ks = sorted(spec["k_values"])
    return [test for setup in spec["setups"] for column in PROBE_COLUMNS
            for test in make(setup, column, PROBE_NAMES.get(column, column), ks)]


def gu_vs_standard_tests(config: dict) -> list[dict]:
    return _each_probe(config, lambda setup, column, name, ks: [
        {"setup": setup, "label": f"{name}, k={k}", "probe": column, "intervention": {"setup": setup, "gu_k": k},
         "comparison": {"setup": setup, "gu_k": None}} for k in ks])


def longer_k_tests(config: dict) -> list[dict]:
    return _each_probe(config, lambda setup, column, name, ks: [
        {"setup": setup, "label": f"{name}, k={ks[-1]} vs {ks[0]}", "probe": column,
         "intervention": {"setup": setup, "gu_k": ks[-1]}, "comparison": {"setup": setup, "gu_k": ks[0]}}
    ] if len(ks) > 1 else [])


def unfreeze_tests(config: dict) -> list[dict]:
    return _each_probe(config, lambda setup, column, name, ks: [
        {"setup": setup, "label": f"{name}, k={k}", "probe": column, "k": k,
         "intervention": {"setup": setup, "gu_k": k}, "comparison": {"setup": setup, "gu_k": k}} for k in ks])


WINDOW = "mean of log(probe) over the early window"
CLAIMS = (
    Claim(id="figure2-gu-higher", paper=PAPER, section="Figures 2-3", metric=f"{WINDOW} (tr(F), S_avg, S_worst)",
          comparison="GU at interval k vs standard training (lr_d), same seed",
          statement="Gradual unfreezing keeps tr(F), S_avg and S_worst higher than standard training over the "
          "early window.", direction="up", tests=gu_vs_standard_tests, arms=Arms("probe_window", PROBES)),
    Claim(id="figure2-longer-k-higher", paper=PAPER, section="Figures 2-3",
          metric=f"{WINDOW} (tr(F), S_avg, S_worst)", comparison="GU at the largest vs the smallest k, same seed",
          statement="The longer the unfreezing interval k, the higher tr(F), S_avg and S_worst stay over the "
          "early window.", direction="up", tests=longer_k_tests, arms=Arms("probe_window", PROBES)),
    Claim(id="figure2-unfreezing-lowers", paper=PAPER, section="Figures 2-3",
          metric="log(probe) (tr(F), S_avg, S_worst)",
          comparison="first probe point after each unfreezing step vs the last before it, within a GU run",
          statement="Each unfreezing step lowers tr(F), S_avg and S_worst.", direction="down",
          tests=unfreeze_tests, arms=Arms("unfreeze", PROBES)),
)

ARTIFACTS = (
    Artifact(
        name="figure2",
        outputs={"pdf": "figure2.pdf", "png": "figure2.png"},
        shown=("png",),
        tables=("probes.parquet",),
        config_key="probes",
        render=figure2_report.render,
        plot_data=figure2_report.plot_points,
        caption=(
            "**Figure 2 (Liu & Gurevych).** Learning dynamics over the early window on CIFAR-10 "
            "(ResNet-18, lr_d): tr(F) (normalized by the number of trainable parameters), S_avg and "
            "S_worst (ρ = 0.01, perturbation scaling c = 1, un-augmented training points, BatchNorm in "
            "eval mode; c = |w| in the appendix figure) for standard "
            "training and gradual unfreezing at several k. As in the paper the y-axis is logarithmic "
            "and normalized to [1, 1000] per panel; dotted lines mark the unfreezing steps k, 2k, … "
            "S_worst is the best loss of `probe.apgd_iters` Auto-PGD iterations (the paper's 15), a lower bound: "
            "converged while the gradient leads the ascent, up to about 5 % low near a minimum."
        ),
        category="Primary paper",
        claims=CLAIMS,  # tested on every probed setup: Figure 3 shows the others
    ),
    Artifact(
        name="figure3",
        outputs={"pdf": "figure3.pdf", "png": "figure3.png"},
        shown=("png",),
        tables=("probes.parquet",),
        config_key="probes",
        render=figure3_report.render,
        plot_data=figure3_report.plot_points,
        caption=(
            "**Figure 3 (Liu & Gurevych, appendix).** The probe dynamics of Figure 2 on the other "
            "setups (ResNet-18 on MNIST and CIFAR-100, lr_d): tr(F), S_avg and S_worst (c = 1) over the early "
            "window, standard training and gradual unfreezing at several k; log y-axis normalized to "
            "[1, 1000] per panel, dotted lines at the unfreezing steps. S_worst: 15 Auto-PGD iterations by "
            "default, converged early in training, up to about 5 % low near a minimum (see Figure 2)."
        ),
        category="Primary paper",
    ),
    Artifact(
        name="appendix_feature_rank",
        outputs={"pdf": "appendix_feature_rank.pdf", "png": "appendix_feature_rank.png"},
        shown=("png",),
        tables=("probes.parquet",),
        config_key="probes",
        render=appendix_feature_rank_report.render,
        caption=(
            "**Feature rank (Liu & Gurevych arXiv v1, Appendix E.1, Figure 7).** Numerical rank "
            "(singular values above the float32 matrix_rank threshold) and effective rank of the "
            "features fed to the head on the fixed probe points over the first steps, for standard "
            "training and gradual unfreezing at several k; dotted lines at the unfreezing steps."
        ),
        category="Primary paper (appendix)",
    ),
    Artifact(
        name="appendix_sharpness_scaling",
        outputs={"pdf": "appendix_sharpness_scaling.pdf", "png": "appendix_sharpness_scaling.png"},
        shown=("png",),
        tables=("probes.parquet",),
        config_key="probes",
        render=appendix_sharpness_scaling_report.render,
        caption=(
            "**Sharpness scaling (appendix).** S_avg and S_worst over the early window with the "
            "perturbation scaling c = |w| (adaptive, as in ASAM), recorded at the same probe points as "
            "Figures 2 and 3, which use c = 1 (the reference code's default; the paper does not say which "
            "c it used). S_worst with c = |w| ascends in δ/c, which reaches the constrained maximum. Every "
            "probed setup, standard training and gradual unfreezing at several k; log y-axis normalized "
            "to [1, 1000] per panel, dotted lines at the unfreezing steps. S_worst: 15 Auto-PGD iterations by "
            "default, converged early in training, up to about 5 % low near a minimum (see Figure 2)."
        ),
        category="Primary paper (appendix)",
    ),
)
