"""The claims ledger is derived from the claim declarations (``Artifact.claims``): one block per
declared claim, one row per test the configuration makes, m = the number of those tests; a
set leaves the other artifacts' claims untested with the reason; the readers of the arms and
the summary verdict give known answers on constructed tables."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from earlyphase.cli import main
from earlyphase.experiments import ARTIFACTS
from earlyphase.experiments.claims import CLAIM_ARTIFACTS, CLAIM_TESTS, declared_tests, input_tables
from earlyphase.report.claim_samples import paired_samples, unfreeze_points
from earlyphase.report.claims import NOT_TESTED, family_size, render, summary_verdict
from earlyphase.report.verdict import CONTRADICTED, INCONCLUSIVE, REPRODUCED, VERDICTS

from .synthetic_tables import report_inputs

REPO = Path(__file__).resolve().parents[2]
CLAIMS = [claim for artifact, _ in CLAIM_ARTIFACTS for claim in artifact.claims]


def test_the_ledger_has_a_block_per_declared_claim_and_m_counts_their_tests(smoke_params, tmp_path):
    render(report_inputs(smoke_params, ARTIFACTS["claims"]), tmp_path / "claims.csv")
    table = pd.read_csv(tmp_path / "claims.csv", keep_default_na=False, na_values=[""])
    ids = [claim.id for claim in CLAIMS]
    assert len(set(ids)) == len(ids) >= 14
    assert list(dict.fromkeys(table["claim"])) == ids  # declaration order, nothing else
    for claim in CLAIMS:
        assert (table["claim"] == claim.id).sum() == len(claim.tests(smoke_params)) > 0, claim.id
    m = sum(len(claim.tests(smoke_params)) for claim in CLAIMS if not claim.is_summary)
    assert m == family_size(pd.DataFrame(declared_tests(smoke_params)))
    assert (table["m"] == m).all() and set(table["adjustment"]) == {"Bonferroni"}
    assert set(table["verdict"]) <= set(VERDICTS)
    assert f"m = {m} tests" in (tmp_path / "claims.md").read_text()
    assert f"$m = {m}$" in (tmp_path / "claims.tex").read_text()


def test_a_set_judges_only_its_artifacts_claims(smoke_params):
    config = copy.deepcopy(smoke_params)
    config["experiments"]["claims"] = {"artifacts": ["table1"]}
    tests = pd.DataFrame(declared_tests(config))
    table1 = tests[tests["artifact"] == "table1"]
    assert (table1["not_tested"] == "").all() and family_size(tests) == len(table1) == 16  # 4 setups x 2 lr x 2
    others = tests[tests["artifact"] != "table1"]
    assert set(others["not_tested"]) == {f"{name} is not in this set (experiments.claims.artifacts)"
                                         for name in set(others["artifact"])}
    assert ARTIFACTS["claims"].input_tables(config) == (CLAIM_TESTS, "table1_runs.parquet") == input_tables(config)
    del config["experiments"]["table1"]
    assert set(pd.DataFrame(declared_tests(config)).query("artifact == 'table1'")["not_tested"]) == {
        "experiments.table1 is not configured"}
    config["experiments"]["claims"] = {"artifacts": ["table1", "figure9"]}
    with pytest.raises(ValueError, match="figure9"):
        declared_tests(config)


def test_the_laptop_set_is_table1_and_figure1_with_30_tests(tmp_path):
    out = tmp_path / "claim_tests.parquet"
    assert main(["claim-tests", "--overlay", str(REPO / "config" / "laptop.yaml"), "--out", str(out)]) == 0
    tests = pd.read_parquet(out)
    tested = tests[tests["not_tested"] == ""]
    assert set(tested["artifact"]) == {"table1", "figure1"}
    # Table 1: 2 learning rates x (OOD, ID); Figure 1: 6 k x 2 learning rates x (OOD, ID) + largest k x 2
    assert family_size(tests) == 4 + 24 + 2 == 30
    assert (tested.loc[tested["kind"] == "summary", "claim"] == "figure1-some-k").sum() == 2


def test_the_schema_lists_exactly_the_artifacts_that_declare_claims():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "params.schema.yaml").read_text())
    claims = schema["properties"]["experiments"]["properties"]["claims"]["properties"]
    for key in ("artifacts", "judged"):
        assert set(claims[key]["items"]["enum"]) == {artifact.name for artifact, _ in CLAIM_ARTIFACTS}, key


def test_unfreezing_points_pair_the_last_probe_before_with_the_first_at_or_after():
    steps = range(0, 101, 10)
    assert unfreeze_points(steps, 25, 5) == [(20, 30), (40, 50), (70, 80), (90, 100)]  # 125: after the window
    assert unfreeze_points(steps, 3, 5) == [(0, 10), (10, 20)]  # several unfreezings between two probes count once


def _probe_runs(values_gu, values_standard, seeds=(0, 1, 2)) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for k, values in ((25, values_gu), (None, values_standard)):
            for step, value in zip(range(0, 101, 10), values, strict=True):
                rows.append({"setup": "s", "arch": "resnet18", "gu_k": k, "seed": seed, "status": "completed",
                             "step": step, "fisher_trace_norm": value * (1 + 0.01 * seed)})
    return pd.DataFrame(rows)


def test_probe_readers_compare_log_values_per_seed():
    gu = [math.e] * 11
    probes = _probe_runs(gu, [1.0] * 11)
    test = {"label": "t", "probe": "fisher_trace_norm", "k": 25, "intervention": {"setup": "s", "gu_k": 25},
            "comparison": {"setup": "s", "gu_k": None}}
    window = paired_samples("probe_window", probes, test)
    assert list(window.index) == [0, 1, 2]
    assert (window["intervention"] - window["comparison"]).to_numpy() == pytest.approx([1.0] * 3)
    # a GU run that halves at each probe point after an unfreezing step (30, 50, 80, 100)
    halving = [8.0, 8.0, 8.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0, 1.0, 0.5]
    jumps = paired_samples("unfreeze", _probe_runs(halving, [1.0] * 11), {**test, "comparison": test["intervention"]})
    assert (jumps["intervention"] - jumps["comparison"]).to_numpy() == pytest.approx([-math.log(2)] * 3)


def test_chosen_k_is_compared_with_the_mean_of_the_random_k_of_its_seed():
    rows = [{"setup": "s", "role": "chosen", "metric": "fisher_trace", "gu_k": 40, "seed": seed, "status": "completed",
             "ood_acc": 60.0 + seed} for seed in (0, 1)]
    rows += [{"setup": "s", "role": "random", "metric": None, "gu_k": k, "seed": seed, "status": "completed",
              "ood_acc": 50.0 + k / 10 + seed} for k in (10, 30, 200) for seed in (0, 1)]
    test = {"label": "GU-tr(F)", "intervention": {"setup": "s", "role": "chosen", "metric": "fisher_trace"},
            "comparison": {"setup": "s", "role": "random"}}
    pairs = paired_samples("chosen_vs_random", pd.DataFrame(rows), test, "ood_acc")
    assert (pairs["intervention"] - pairs["comparison"]).to_numpy() == pytest.approx([10.0 - 8.0] * 2)
    assert pairs.attrs["note"] == "win rate 67% of 3 random k"  # k = 200 beats the chosen k


def _members(verdicts: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"claim": claim, "test": test, "verdict": verdict} for test, pair in verdicts.items()
                         for claim, verdict in zip(("ood", "id"), pair, strict=True)])


@pytest.mark.parametrize(("verdicts", "expected"), [
    ({"k=1": (REPRODUCED, INCONCLUSIVE), "k=3": (REPRODUCED, REPRODUCED)}, REPRODUCED),
    ({"k=1": (REPRODUCED, INCONCLUSIVE), "k=3": (INCONCLUSIVE, REPRODUCED)}, INCONCLUSIVE),
    ({"k=1": (CONTRADICTED, REPRODUCED), "k=3": (REPRODUCED, CONTRADICTED)}, CONTRADICTED),
])
def test_a_summary_needs_one_setting_with_every_combined_test_reproduced(verdicts, expected):
    verdict, reason = summary_verdict(_members(verdicts), ["ood", "id"])
    assert verdict == expected
    if expected == REPRODUCED:
        assert reason.endswith("k=3")


def test_untested_claims_say_why_in_every_output(smoke_params, tmp_path):
    config = copy.deepcopy(smoke_params)
    config["experiments"]["claims"] = {"artifacts": ["table2"]}
    frames = report_inputs(config, ARTIFACTS["claims"])
    assert len(frames) == 2  # the test list and table2's runs: nothing else is read
    render(frames, tmp_path / "claims.csv")
    table = pd.read_csv(tmp_path / "claims.csv")
    untested = table[table["verdict"] == NOT_TESTED]
    assert set(untested["claim"]) == {claim.id for claim in CLAIMS if not claim.id.startswith("table2")}
    assert (untested["reason"].str.endswith("is not in this set (experiments.claims.artifacts)")).all()
    assert np.isnan(untested["n"]).all()
    tex = (tmp_path / "claims.tex").read_text()
    assert "Not tested (figure1 is not in this set" in tex and "$m = 2$" in tex


def test_a_ledger_judging_part_of_its_set_keeps_the_sets_m(smoke_params, tmp_path):
    """A set published before all its runs finished (experiments.claims.judged): the other
    artifacts' tests stay in m, are listed as not tested with the reason, and their tables are
    not read."""
    config = copy.deepcopy(smoke_params)
    config["experiments"]["claims"] = {"artifacts": ["table1", "table2"]}
    whole = family_size(pd.DataFrame(declared_tests(config)))
    config["experiments"]["claims"]["judged"] = ["table2"]
    tests = pd.DataFrame(declared_tests(config))
    assert family_size(tests) == whole > (tests["artifact"] == "table2").sum()
    assert set(tests.loc[tests["artifact"] == "table1", "pending"]) == {
        "table1's runs are not in this ledger (experiments.claims.judged); its tests count in m"}
    assert set(tests.loc[tests["artifact"] == "table2", "pending"]) == {""}
    frames = report_inputs(config, ARTIFACTS["claims"])
    assert len(frames) == 2 and input_tables(config) == (CLAIM_TESTS, "table2_runs.parquet")
    render(frames, tmp_path / "claims.csv")
    table = pd.read_csv(tmp_path / "claims.csv")
    pending = table[table["claim"].str.startswith("table1")]
    assert len(pending) and (pending["verdict"] == NOT_TESTED).all()
    assert pending["reason"].str.contains("count in m").all()
    judged = table[table["claim"].str.startswith("table2")]
    assert (table["m"] == whole).all() and (judged["verdict"] != NOT_TESTED).any()
    config["experiments"]["claims"]["judged"] = ["figure1"]
    with pytest.raises(ValueError, match="judged.*figure1"):
        declared_tests(config)
