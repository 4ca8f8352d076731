"""The declaration of one paper artifact (a table or figure under ``paths.figures``).

An experiment module lists the artifacts it feeds in a module attribute ``ARTIFACTS``
(a tuple of :class:`Artifact`); :mod:`earlyphase.experiments` collects them. The Snakefile
(``rule all``, one report rule per artifact, local rules, report captions), the cost model
(``python -m earlyphase cost``, with the cost hooks declared here), ``python -m earlyphase
report`` and the tests read these declarations and nothing else, so an artifact is declared
exactly once.

The artifacts are those of Liu & Gurevych (Tables 1 and 2, Figures 1-3, arXiv v1
Appendix C/E.1 and the stabilization table) and of the companion papers: Jastrzebski et
al. (Fisher explosion), Kalra & Barkeshli (phase diagrams) and Berariu et al. (warm start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from earlyphase.experiments.claim import Claim

# (tables, out, note) -> None: the report function that renders the artifact.
Render = Callable[..., None]
# tables -> the tidy frame a DVC plot draws (one row per point).
PlotData = Callable[[list], object]
# (config, ledger) -> None: adds work that is not a training run of the run sets to the cost
# estimate, through an earlyphase.operations.cost.Ledger (not imported: cost reads this package).
CostHook = Callable[[dict, Any], None]
# What a table's metrics file gives per cell; columns whose name contains "verdict" come too.
HEADLINE = ("id_mean", "ood_mean", "n_seeds")


@dataclass(frozen=True)
class Artifact:
    """One table or figure and everything the workflow needs to make it.

    ``name``      the rule name, the ``cost`` target and the ``report`` subcommand argument.
    ``outputs``   output key -> file name under ``paths.figures``. The first entry is the
                  artifact's target (what ``rule all`` asks for and ``report --out`` gets);
                  the report function writes the others beside it (``.png``, ``.csv``).
    ``shown``     output keys shown in the Snakemake HTML report with ``caption``.
    ``tables``    the report's inputs, file names under ``paths.results``/tables, in the
                  order the report function receives them.
    ``select_tables``  config -> the subset of ``tables`` the report reads under that
                  configuration, where that depends on it (the claims ledger); default: all.
    ``config_key``  the artifact is built when ``experiments.<config_key>`` is configured.
    ``run_sets``  experiments (modules of :mod:`earlyphase.experiments`) whose training runs
                  the artifact needs; empty: the module that declares it. Whether their
                  runs are evaluated is the module's ``EVALUATED``.
    ``extra_costs``  name -> cost hook, for work that is not a training run of a run set
                  (post-hoc probes, phase-diagram jobs, runs that depend on earlier results);
                  each hook lives in the experiment module it describes, and
                  ``python -m earlyphase cost`` calls it when the artifact is configured.
                  Names are unique across artifacts; ``cost all`` counts each once.
    ``render``    the report function (``earlyphase.report.<module>.render``).
    ``caption``   the figure/table caption of the Snakemake report (reStructuredText).
    ``category``  its section in the Snakemake report.
    ``metric_keys``  tables only: the columns of its CSV that name a cell (setup, row, ...);
                  the report also writes ``paths.results``/metrics/<name>.json, per cell the
                  ``metric_values`` and any verdict column, which DVC shows as metrics
                  (``dvc metrics show/diff``, ``dvc exp show``).
    ``plot_data`` a function of the input tables giving the points DVC plots draw; the report
                  writes them to ``paths.results``/plots/<name>.csv (``dvc plots show``).
    ``claims``    the paper's claims that this artifact's runs test (:class:`Claim`); the claims
                  ledger (artifact ``claims``) judges each of them.
    """

    name: str
    outputs: dict[str, str]
    shown: tuple[str, ...]
    tables: tuple[str, ...]
    config_key: str
    render: Render
    caption: str
    category: str
    run_sets: tuple[str, ...] = ()
    extra_costs: dict[str, CostHook] = field(default_factory=dict)
    metric_keys: tuple[str, ...] = ()
    metric_values: tuple[str, ...] = HEADLINE
    plot_data: PlotData | None = None
    claims: tuple[Claim, ...] = ()
    select_tables: Callable[[dict], tuple[str, ...]] | None = None

    def __post_init__(self):
        if not self.outputs:
            raise ValueError(f"artifact {self.name!r}: no outputs")
        unknown = set(self.shown) - set(self.outputs)
        if unknown:
            raise ValueError(f"artifact {self.name!r}: shown outputs {sorted(unknown)} are not in outputs")
        if self.metric_keys and "csv" not in self.outputs:
            raise ValueError(f"artifact {self.name!r}: metrics are read from its csv output, and it has none")

    @property
    def target(self) -> str:
        """The file (under ``paths.figures``) that stands for the artifact."""
        return next(iter(self.outputs.values()))

    @property
    def metrics_file(self) -> str | None:
        """Its DVC metrics file under ``paths.results`` (tables only)."""
        return f"metrics/{self.name}.json" if self.metric_keys else None

    @property
    def plot_file(self) -> str | None:
        """Its DVC plot data under ``paths.results``."""
        return f"plots/{self.name}.csv" if self.plot_data else None

    def enabled(self, config: dict) -> bool:
        return self.config_key in config["experiments"]

    def input_tables(self, config: dict) -> tuple[str, ...]:
        """The tables its report reads under ``config``: ``tables``, or those ``select_tables`` picks."""
        return tuple(self.select_tables(config)) if self.select_tables else self.tables
