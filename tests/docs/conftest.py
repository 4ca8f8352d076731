"""Fixtures of the documentation tests: one copy of the repository and one checker for them."""

from __future__ import annotations

import pytest

from .command_checks import CommandChecker


@pytest.fixture(scope="session")
def docs_repo(tmp_path_factory, copy_repo):
    """A copy of the repository (no results, data or .snakemake) that the commands run in."""
    return copy_repo(tmp_path_factory.mktemp("docs-repo"))


@pytest.fixture(scope="session")
def checker(docs_repo) -> CommandChecker:
    """Checks commands in the copy; its dry runs are cached for every test that asks again."""
    return CommandChecker(docs_repo)
