"""The targets a ``snakemake`` command line asks for, checked before Snakemake plans its DAG.

Snakemake reports a target that no rule makes as ``MissingRuleException: No rule to produce
...`` and nothing more. The Snakefile calls :func:`unknown_targets_message` once every rule
exists, so that a misspelled target is answered with the nearest valid ones (``difflib``)
and a target that another configuration makes (``figures/laptop/table1.tex`` without
``--configfile config/laptop.yaml``) with that preset and the command that builds it.

Snakemake hands the requested targets to the workflow only after it has read the Snakefile,
so :func:`command_line_targets` reads them from the command line with Snakemake's own
argument parser: ``--configfile a.yaml figures/table1.tex`` is read exactly as Snakemake
reads it (two config files, no target).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path


def is_snakemake_command_line(argv: list[str]) -> bool:
    """Whether this process is the ``snakemake`` command (not the API, a test or pytest)."""
    program = Path(argv[0]) if argv else Path()
    return program.name == "snakemake" or program.parts[-2:] == ("snakemake", "__main__.py")


def command_line_targets(argv: list[str] | None = None) -> list[str]:
    """The targets named on this process's ``snakemake`` command line; [] if it is none."""
    argv = sys.argv if argv is None else argv
    if not is_snakemake_command_line(argv):
        return []
    from snakemake.cli import get_argument_parser

    args, _ = get_argument_parser().parse_known_args(argv[1:])
    return list(args.targets or [])


def preset_outputs(presets: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """file -> the presets (overlay files; "" for params.yaml alone) whose configuration makes it."""
    defined: dict[str, list[str]] = {}
    for preset, outputs in presets.items():
        for output in outputs:
            defined.setdefault(output, []).append(preset)
    return defined


def command_for(target: str, preset: str) -> str:
    """The command that builds ``target`` with ``preset`` (targets before --configfile)."""
    return f"snakemake {target} --configfile {preset}" if preset else f"snakemake {target}"


def _made_with(target: str, presets: list[str]) -> str:
    names = " or ".join(preset or "params.yaml alone (no --configfile)" for preset in presets)
    return f"{target}: made with {names}; run `{command_for(target, presets[0])}`"


def unknown_targets_message(unknown: list[str], valid: Iterable[str],
                            presets: Mapping[str, Iterable[str]]) -> str:
    """One message for every requested target no rule makes: for each, the presets that make
    it, or else the nearest valid targets (those of this configuration and of the presets).

    ``valid``: the rule names and files this configuration makes; ``presets``: overlay file
    ("" for params.yaml alone) -> the files a run with it makes."""
    defined = preset_outputs(presets)
    valid = set(valid)
    candidates = sorted(valid) + sorted(set(defined) - valid)
    lines = []
    for target in unknown:
        if target in defined:
            lines.append(_made_with(target, defined[target]))
            continue
        near = difflib.get_close_matches(target, candidates, n=3, cutoff=0.6)
        shown = [name if name in valid else f"{name} (`{command_for(name, defined[name][0])}`)" for name in near]
        hint = f"nearest valid targets: {', '.join(shown)}" if shown else "no valid target is close"
        lines.append(f"{target}: no rule makes it here; {hint}")
    return ("no rule makes these targets (`snakemake --list-target-rules` lists the target rules):\n  "
            + "\n  ".join(lines))
