"""The declaration of one claim of a paper, tested on the runs of the artifact that declares it.

An :class:`~earlyphase.experiments.artifact.Artifact` lists the claims its runs test in
``claims``; the claims ledger (:mod:`earlyphase.experiments.claims`,
:mod:`earlyphase.report.claims`) is derived from these declarations and nothing else.

A claim makes one *test* per data set and setting the configuration asks for (per Table 1
column, per k of a sweep, per probe, ...): ``tests(config)`` lists them before any result
exists, so the number of tests of a published set, the m of the Bonferroni adjustment
(:mod:`earlyphase.report.verdict`), is fixed by the configuration alone. ``arms`` says how
the two arms of each test are read from the artifact's aggregated tables, paired by seed
(:class:`Arms`). A *summary* claim makes no test of its own: its verdict is read off the
tests of the claims it ``combines`` (see :mod:`earlyphase.report.claims`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# config -> the tests a claim makes: JSON-serializable dicts with "setup", "label" (the setting
# in words), the selectors "intervention" and "comparison" (column -> value of the runs of
# each arm; None selects a missing value), and what the arms' reader needs ("probe", "k", ...).
# Optional "group": a summary claim combines the tests of one group.
Tests = Callable[[dict], list]
ARM_KINDS = ("runs", "probe_window", "unfreeze", "chosen_vs_random", "vs_eta_star", "trend", "critical_level",
             "critical_trend")


@dataclass(frozen=True)
class Arms:
    """How a test's two arms are read from an aggregated table, paired by seed.

    ``kind`` names a reader of :mod:`earlyphase.report.claim_samples`: ``runs`` (one number
    per run, column ``metric``), ``probe_window`` (mean log probe over the early window),
    ``unfreeze`` (log probe just after vs just before each unfreezing step of a GU run),
    ``chosen_vs_random`` (GU at Algorithm 2's k vs the mean of the random-k runs, per seed);
    the companion papers' forms: ``vs_eta_star`` (a run set against the LR-grid run at the
    eta* its runs were trained from, or a share of the way to it), ``trend`` (per seed, the
    slope of a run column against a setting), ``critical_level`` and ``critical_trend`` (a
    critical constant of the phase diagram against a level, per initialization, or its slope
    against log2(depth/width)); the test dicts they read are described there.
    For an "unchanged" claim the comparison arm is an accuracy in percent: its mean over the
    paired seeds sets the equivalence margin (:func:`earlyphase.report.verdict.equivalence_margin`),
    unless the test states its own ``margin`` in the units of the difference.
    """

    kind: str
    table: str  # file name under results/tables
    metric: str | None = None  # the run column compared (runs, chosen_vs_random); probes: per test

    def __post_init__(self):
        if self.kind not in ARM_KINDS:
            raise ValueError(f"unknown kind of arms {self.kind!r}; known: {ARM_KINDS}")


@dataclass(frozen=True)
class Claim:
    """One claim and how our runs test it.

    ``id``          short stable identifier (the ledger's key), e.g. ``table1-lr_d-ood``.
    ``paper``       who claims it, e.g. "Liu & Gurevych (arXiv v1)".
    ``section``     where: "Table 1", "Figure 2", ...
    ``statement``   the claim in our own words.
    ``metric``      what is compared, with its unit, e.g. "OOD accuracy (pp)".
    ``comparison``  which runs against which, e.g. "lr_d + GU vs lr_d, paired by seed".
    ``direction``   "up", "down" (intervention minus comparison) or "unchanged".
    ``tests``       config -> the tests (see module docstring).
    ``arms``        how each test's two arms are read (:class:`Arms`).
    ``paper_values``  setup -> the paper's own difference for that column, where it reports one.
    ``combines``    summary claims: the ids of the claims whose tests it reads.
    """

    id: str
    paper: str
    section: str
    statement: str
    metric: str
    comparison: str
    direction: str
    tests: Tests
    arms: Arms | None = None
    paper_values: Mapping[str, float] = field(default_factory=dict)
    combines: tuple[str, ...] = ()

    def __post_init__(self):
        if self.direction not in ("up", "down", "unchanged"):
            raise ValueError(f"claim {self.id!r}: direction must be up, down or unchanged, got {self.direction!r}")
        if (self.arms is None) == (not self.combines):
            raise ValueError(f"claim {self.id!r}: give either arms (a tested claim) or combines (a summary)")

    @property
    def is_summary(self) -> bool:
        return bool(self.combines)
