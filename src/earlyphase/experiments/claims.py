"""The claims ledger: every claim declared on an artifact (``Artifact.claims``), judged.

No runs of its own. A ledger judges one published *set* of artifacts:
``experiments.claims.artifacts`` (default: every configured artifact that declares claims;
the laptop preset names Table 1 and Figure 1, the artifacts it builds). What it tests is
fixed by the configuration before any result: :func:`declared_tests` lists, per claim of
every artifact that declares claims, one row per test its ``tests(config)`` makes, or one
"not tested" row with the reason (its artifact is outside the set or not configured, or the
configuration makes no test of it). The workflow writes that list to
``results/tables/claim_tests.parquet`` (rule ``claim_tests``, ``python -m earlyphase
claim-tests``); its tested rows are the m of the Bonferroni adjustment, so Table 1's marks
and the ledger use the same m. The report (:mod:`earlyphase.report.claims`) reads the list
and the aggregated tables of the tested claims and writes ``claims.{csv,md,tex}``.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
from pathlib import Path

from earlyphase.experiments.artifact import Artifact
from earlyphase.report import claims as claims_report

CLAIM_TESTS = "claim_tests.parquet"
# Modules of this package that declare types, and this one: not searched for claims.
_NOT_EXPERIMENTS = {"artifact", "claim", "claims"}
# The ledger lists the artifacts in the paper's order, then the companion papers' (others after
# them, by module name).
PAPER_ORDER = ("table1", "figure1", "figure2", "table2", "table_stabilization", "fisher_table1", "fisher_onset",
               "phase_diagram", "warm_start")


def _claim_artifacts() -> list[tuple[Artifact, tuple[str, ...]]]:
    """(artifact, the experiments whose runs it needs) of every artifact declaring claims."""
    found = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name in _NOT_EXPERIMENTS:
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        owner = (info.name,) if hasattr(module, "runs") else ()
        found += [(artifact, artifact.run_sets or owner) for artifact in getattr(module, "ARTIFACTS", ())
                  if artifact.claims]
    rank = {name: i for i, name in enumerate(PAPER_ORDER)}
    return sorted(found, key=lambda entry: rank.get(entry[0].name, len(rank)))


CLAIM_ARTIFACTS = _claim_artifacts()


def ledger_set(config: dict) -> list[str] | None:
    """The artifacts whose claims the ledger tests (None: every configured one)."""
    chosen = (config["experiments"].get("claims") or {}).get("artifacts")
    known = [artifact.name for artifact, _ in CLAIM_ARTIFACTS]
    unknown = sorted(set(chosen or ()) - set(known))
    if unknown:
        raise ValueError(f"experiments.claims.artifacts: {unknown} declare no claims; those that do: {known}")
    return chosen


def _not_tested(artifact: Artifact, config: dict) -> str:
    """Why the claims of ``artifact`` are not tested under ``config`` (empty: they are)."""
    chosen = ledger_set(config)
    if chosen is not None and artifact.name not in chosen:
        return f"{artifact.name} is not in this set (experiments.claims.artifacts)"
    if not artifact.enabled(config):
        return f"experiments.{artifact.config_key} is not configured"
    return ""


def _pending(artifact: Artifact, config: dict) -> str:
    """Why a tested claim of ``artifact`` is not judged in this ledger (empty: it is). A set
    published before all of its runs finished judges ``experiments.claims.judged``; the other
    artifacts' tests stay in the family (m), fixed by the set before any result."""
    judged = (config["experiments"].get("claims") or {}).get("judged")
    outside = sorted(set(judged or ()) - set(ledger_set(config) or (a.name for a, _ in CLAIM_ARTIFACTS)))
    if outside:
        raise ValueError(f"experiments.claims.judged: {outside} are not in this ledger's set")
    if judged is None or artifact.name in judged:
        return ""
    return f"{artifact.name}'s runs are not in this ledger (experiments.claims.judged); its tests count in m"


def declared_tests(config: dict) -> list[dict]:
    """The ledger's rows before any result: claim, where it comes from, and one test (or why none)."""
    rows = []
    for artifact, _ in CLAIM_ARTIFACTS:
        for claim in artifact.claims:
            base = {"claim": claim.id, "artifact": artifact.name, "paper": claim.paper, "section": claim.section,
                    "statement": claim.statement, "metric": claim.metric, "comparison": claim.comparison,
                    "direction": claim.direction, "kind": claim.arms.kind if claim.arms else "summary",
                    "table": claim.arms.table if claim.arms else "", "arm_metric": (claim.arms.metric or "")
                    if claim.arms else "", "combines": ",".join(claim.combines)}
            reason = _not_tested(artifact, config)
            if reason:
                rows.append({**base, "not_tested": reason})
                continue
            tests = claim.tests(config)
            if not tests:
                rows.append({**base, "not_tested": "the configuration makes no test of it"})
            for test in tests:
                paper = claim.paper_values.get(test["setup"], math.nan)
                rows.append({**base, "setup": test["setup"], "label": test["label"], "group": test.get("group", ""),
                             "paper_value": None if math.isnan(paper) else paper,
                             "test": json.dumps(test, sort_keys=True), "not_tested": "",
                             "pending": _pending(artifact, config)})
    return [{"setup": "", "label": "", "group": "", "paper_value": None, "test": "", "pending": "", **row}
            for row in rows]


def all_tables() -> tuple[str, ...]:
    """Every table a ledger may read: the test list, then the claims' tables in name order."""
    tables = {claim.arms.table for artifact, _ in CLAIM_ARTIFACTS for claim in artifact.claims if claim.arms}
    return (CLAIM_TESTS, *sorted(tables))


def input_tables(config: dict) -> tuple[str, ...]:
    """What the ledger of ``config`` reads: the test list, then the tables of its tested claims
    in name order (the order :func:`earlyphase.report.claims.render` expects)."""
    tested = {row["table"] for row in declared_tests(config)
              if not row["not_tested"] and not row["pending"] and row["table"]}
    return (CLAIM_TESTS, *sorted(tested))


ARTIFACTS = (
    Artifact(
        name="claims",
        outputs={"csv": "claims.csv", "md": "claims.md", "tex": "claims.tex"},
        shown=("csv",),
        tables=all_tables(),
        select_tables=input_tables,
        config_key="claims",
        run_sets=tuple(dict.fromkeys(name for _, names in CLAIM_ARTIFACTS for name in names)),
        # the same hooks as the artifacts it judges: their work is counted once, by the declaring artifact
        extra_costs={name: hook for artifact, _ in CLAIM_ARTIFACTS for name, hook in artifact.extra_costs.items()},
        render=claims_report.render,
        caption=(
            "**Claims ledger.** Every claim the artifacts declare, with the paper's value, our paired "
            "difference over seeds (intervention − comparison), its 95% and Bonferroni-adjusted t intervals "
            "(m = every test of this ledger), the TOST margin of an 'unchanged' claim, the minimal detectable "
            "effect at 80% power, n and the verdict by the README's verdict rule: reproduced, contradicted, "
            "smaller than reported, inconclusive, or not tested (with the reason)."
        ),
        category="Claims",
        metric_keys=("claim", "dataset", "test"),
        metric_values=("n", "mean_diff", "adj_ci_low", "adj_ci_high", "mde"),
    ),
)
