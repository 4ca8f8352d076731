"""Experiment and artifact registry: what every paper artifact needs, declared once.

Each module of this package is one experiment (a run set) and/or the declaration of the
artifacts it feeds:

* ``runs(config) -> list[(Run, labels)]``: exactly the training runs the experiment needs
  (labels are the columns its table or figure groups by); runs shared by several
  experiments resolve to the same id and are trained once;
* ``EVALUATED``: whether those runs need the ID/OOD evaluation;
* ``CONFIG_KEY`` (optional): the ``experiments.<key>`` section it reads (default: the
  module name); an experiment whose section is missing has no runs;
* ``ARTIFACTS`` (optional): a tuple of :class:`~earlyphase.experiments.artifact.Artifact`,
  the tables and figures made from it (name, outputs, report function, caption, the cost
  hooks of work that is not a training run, ...).

The modules are found by listing the package (as RobustBench builds its leaderboards from
its model records), so adding an artifact is its experiment module here, its report module
under :mod:`earlyphase.report` and its ``params.yaml`` block; the Snakefile's ``rule all``,
report rules and local rules, the report captions, ``python -m earlyphase cost`` and the
tests derive from the declarations. See docs/extending.md.

API: :data:`EXPERIMENTS` (name -> module), :data:`ARTIFACTS` (name -> Artifact),
:func:`register` (add a module; tests use it for toy artifacts), :func:`experiment_runs`,
:func:`all_runs`, :func:`evaluated_run_ids`, :func:`enabled_artifacts`, :func:`artifact_targets`,
:func:`artifact_files`, :func:`preset_targets`.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from earlyphase.experiments.artifact import Artifact
from earlyphase.runs import Run

EXPERIMENTS: dict[str, ModuleType] = {}
ARTIFACTS: dict[str, Artifact] = {}

Entry = tuple[Run, dict]


def register(module: ModuleType, name: str | None = None) -> None:
    """Add an experiment module (if it defines ``runs``) and the artifacts it declares."""
    name = name or module.__name__.rsplit(".", 1)[-1]
    if hasattr(module, "runs"):
        if name in EXPERIMENTS and EXPERIMENTS[name] is not module:
            raise ValueError(f"experiment {name!r} is registered twice")
        EXPERIMENTS[name] = module
    for artifact in getattr(module, "ARTIFACTS", ()):
        if artifact.name in ARTIFACTS and ARTIFACTS[artifact.name] is not artifact:
            raise ValueError(f"artifact {artifact.name!r} is declared twice")
        for cost, hook in artifact.extra_costs.items():  # `cost` finds a hook by its name
            # the same hook may be shared (the claims ledger counts its members' work), another may not;
            # the owner is named before an aggregate that shares it
            others = [a.name for a in sorted(ARTIFACTS.values(), key=lambda a: a.select_tables is not None)
                      if cost in a.extra_costs and a.extra_costs[cost] is not hook and a.name != artifact.name]
            if others:
                raise ValueError(f"extra cost {cost!r} of artifact {artifact.name!r} is declared by {others[0]!r} too")
        ARTIFACTS[artifact.name] = artifact


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name not in ("artifact", "claim"):  # the declaration types, not experiments
            register(importlib.import_module(f"{__name__}.{info.name}"))


def experiment_runs(config: dict, name: str) -> list[Entry]:
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}")
    # Several experiments may share one settings section (module attribute CONFIG_KEY).
    if getattr(EXPERIMENTS[name], "CONFIG_KEY", name) not in config["experiments"]:
        return []
    return EXPERIMENTS[name].runs(config)


def all_runs(config: dict) -> dict[str, Run]:
    """Every run of every configured experiment, once each."""
    return {run.run_id: run for name in EXPERIMENTS for run, _ in experiment_runs(config, name)}


def evaluated_run_ids(config: dict) -> set[str]:
    """Runs whose ID/OOD accuracy some artifact reports."""
    return {
        run.run_id
        for name, module in EXPERIMENTS.items()
        if module.EVALUATED
        for run, _ in experiment_runs(config, name)
    }


def run_sets(artifact: Artifact) -> tuple[str, ...]:
    """The experiments whose runs an artifact needs (default: the module declaring it)."""
    if artifact.run_sets:
        return artifact.run_sets
    owner = next((n for n, m in EXPERIMENTS.items() if artifact in getattr(m, "ARTIFACTS", ())), None)
    return (owner,) if owner else ()


def enabled_artifacts(config: dict) -> list[Artifact]:
    """The artifacts whose ``experiments.<config_key>`` section is configured."""
    return [artifact for artifact in ARTIFACTS.values() if artifact.enabled(config)]


def artifact_targets(config: dict) -> list[str]:
    """What ``rule all`` builds: each enabled artifact's target under ``paths.figures``."""
    figures = config["paths"]["figures"]
    return [f"{figures}/{artifact.target}" for artifact in enabled_artifacts(config)]


def artifact_files(config: dict) -> list[str]:
    """Every file the enabled artifacts write (target, PNG, CSV ...) under ``paths.figures``."""
    figures = config["paths"]["figures"]
    return [f"{figures}/{name}" for artifact in enabled_artifacts(config) for name in artifact.outputs.values()]


def preset_targets(config: dict) -> list[str]:
    """The targets of a preset's ``targets:`` (artifact names), what a run with that overlay
    and no named target builds; [] when the configuration names none (then: ``rule all``)."""
    figures = config["paths"]["figures"]
    return [f"{figures}/{ARTIFACTS[name].target}" for name in config.get("targets", [])]


_discover()
