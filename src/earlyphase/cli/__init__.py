"""Command line of earlyphase: the commands a user types, and those the Snakemake rules call.

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

# Stage modules in the order of the data flow (the order of the rules' commands in --help).
STAGES = (data, training, selection, records, reports, phase_diagram, operations)
# What a person runs by hand, in the order they need it; --help lists these first.
USER_COMMANDS = ("status", "cost", "validate", "publish", "rebuild-published", "unlock-stale")


def _listing(helps: dict[str, str], names, width: int = 20) -> str:
    return "\n".join(f"  {name:<{width}}{helps[name]}" for name in names)


def command_overview(sub: argparse._SubParsersAction) -> str:
    """--help's list of subcommands in two groups: the user's commands, then the rules'."""
    # argparse keeps each subcommand's one-line help on its pseudo-action, not on its parser.
    helps = {action.dest: action.help for action in sub._choices_actions}
    missing = [name for name in USER_COMMANDS if name not in helps]
    if missing:
        raise RuntimeError(f"USER_COMMANDS names {missing}, which no stage module registers")
    rules = [name for name in helps if name not in USER_COMMANDS]
    return (f"commands to run by hand:\n{_listing(helps, USER_COMMANDS)}\n\n"
            f"commands the workflow's rules call:\n{_listing(helps, rules)}\n\n"
            "python -m earlyphase COMMAND --help shows a command's options.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="earlyphase", usage="%(prog)s [-h] COMMAND [options]",
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # The grouped overview (epilog) replaces argparse's single flat list of subcommands.
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS,
                                prog="earlyphase")  # sub-commands' usage: "earlyphase status ..."
    for stage in STAGES:
        stage.register(sub)
    parser.epilog = command_overview(sub)
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
