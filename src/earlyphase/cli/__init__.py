"""Command line of earlyphase: what the Snakemake rules call (``python -m earlyphase ...``).

Each subcommand is a thin shell around one module; arguments are explicit paths and the
resolved JSON config of the job, so a rule's command line is the whole story of a job.
A subcommand's arguments and its handler sit together in the module of its stage
(:mod:`.data`, :mod:`.training`, :mod:`.records`, ...); each stage module's ``register`` adds
its subcommands to the parser.
"""

from __future__ import annotations

import argparse
import sys

from earlyphase.cli import data, operations, phase_diagram, records, reports, selection, training

# ``earlyphase --help`` lists the subcommands stage by stage, in the order of the data flow.
STAGES = (data, training, selection, records, reports, phase_diagram, operations)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="earlyphase", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for stage in STAGES:
        stage.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, RuntimeError) as err:  # bad input, missing/corrupt files, OOM
        hint = ""
        if "out of memory" in str(err).lower():
            hint = ("\n  hint: out of memory; lower the batch size or give the rule more memory "
                    "(mem_mb, or a larger GPU); a training run resumes from its last checkpoint")
        print(f"earlyphase {args.command}: error: {err}{hint}", file=sys.stderr)
        return 2

