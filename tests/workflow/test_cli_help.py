"""``python -m earlyphase --help`` lists the commands a person runs first, under their own
heading, then the commands the workflow's rules call; every subcommand appears once."""

from __future__ import annotations

import re

import pytest

from earlyphase.cli import USER_COMMANDS, build_parser, main

RULES_HEADING = "commands the workflow's rules call:"


def _listed(text: str) -> list[str]:
    return re.findall(r"^  ([a-z][a-z-]+) {2,}\S", text, re.M)


def test_help_lists_the_users_commands_first_then_the_rules():
    text = build_parser().format_help()
    users, rules = text.split(RULES_HEADING)
    assert "commands to run by hand:" in users
    assert _listed(users) == ["status", "cost", "validate", "publish", "rebuild-published", "unlock-stale"]
    assert list(USER_COMMANDS) == _listed(users)
    registered = set(build_parser()._subparsers._group_actions[0].choices)
    assert set(_listed(rules)) == registered - set(USER_COMMANDS)
    assert {"train", "aggregate", "report"} <= set(_listed(rules))
    assert len(_listed(text)) == len(registered)  # each once


def test_a_commands_own_help_names_it_after_the_program(capsys):
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    assert capsys.readouterr().out.startswith("usage: earlyphase status ")
