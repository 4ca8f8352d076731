"""Run ``python -m <module> <args>`` up to its argument parsing, and stop there.

Reads a JSON list of ``[module, args]`` on stdin and writes, per entry, ``[exit code, stderr]``
on stdout. Each module runs as ``python -m`` would run it, with argparse patched so that the
first complete parse of the command line ends the run with code 0 (a refused command line
ends it with argparse's code 2 and message; ``--help`` prints and exits 0 as usual). Nothing
after the parse runs, so a documented ``python -m earlyphase train ...`` is checked without
training. A module that reaches no argparse call is reported with code 3 (and has then run).
Used by :mod:`command_checks`, one process for all commands (imports are paid once).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import runpy
import sys


class Parsed(Exception):
    """Raised right after the command line was parsed."""


def _stop_after_parsing() -> None:
    parse_args, parse_known_args = argparse.ArgumentParser.parse_args, argparse.ArgumentParser.parse_known_args
    depth = {"parse_args": 0, "parse_known_args": 0}

    def stop_after(real, name):
        def patched(self, *args, **kwargs):
            depth[name] += 1
            try:
                result = real(self, *args, **kwargs)
            finally:
                depth[name] -= 1
            # The outermost call only: subparsers parse with parse_known_args inside it.
            if name == "parse_args" and depth["parse_args"] == 0:
                raise Parsed
            if name == "parse_known_args" and depth["parse_args"] == 0 and depth["parse_known_args"] == 0:
                raise Parsed
            return result

        return patched

    argparse.ArgumentParser.parse_args = stop_after(parse_args, "parse_args")
    argparse.ArgumentParser.parse_known_args = stop_after(parse_known_args, "parse_known_args")


def run(module: str, args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    sys.argv = [module, *args]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except Parsed:
            return 0, err.getvalue()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            return code, err.getvalue()
        except Exception as error:  # noqa: BLE001 - reported, not raised: the next entry still runs
            return 1, f"{err.getvalue()}{type(error).__name__}: {error}"
    return 3, "ran to the end without parsing a command line"


if __name__ == "__main__":
    _stop_after_parsing()
    print(json.dumps([run(module, args) for module, args in json.load(sys.stdin)]))
