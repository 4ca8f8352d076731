"""Argument types and argument patterns that several stages' subcommands share."""

from __future__ import annotations

import argparse
import json


def json_arg(text: str):
    """An argument given as JSON (a job's resolved config, a manifest of runs)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from err


def add_manifest_command(sub, name: str, help_text: str, manifest_help: str, func) -> None:
    """A subcommand that turns a JSON manifest of runs into one table (``--manifest``, ``--out``)."""
    p = sub.add_parser(name, help=help_text)
    p.add_argument("--manifest", type=json_arg, required=True, help=manifest_help)
    p.add_argument("--out", required=True)
    p.set_defaults(func=func)
