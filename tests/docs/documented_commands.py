"""Every shell command the project documents, found where a person would copy it from.

Sources: README.md and docs/*.md (fenced shell blocks, and inline code spans in the prose
that start with a command), the help comments at the top of the Makefile, and the comments
of the files a person edits or reads first (Snakefile, params.yaml, config/*.yaml,
dvc.yaml, the workflow profiles): backquoted commands, ``(= command)`` asides and comment
lines indented as examples (``#   snakemake ...``).

A command is kept as written (continuation lines joined, its trailing ``# comment`` kept
apart as ``note``, since a note may state what the command does: "72 training runs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The words a documented command starts with (after VAR=value assignments).
COMMANDS = ("snakemake", "python", "make", "dvc", "bash", "pytest", "source", "git")
SHELL_FENCES = {"", "bash", "sh", "shell", "console"}
COMMENTED_FILES = ("Snakefile", "params.yaml", "dvc.yaml", "config/*.yaml", "profiles/*/config.yaml",
                   "workflow/profiles/*/config.yaml")


@dataclass(frozen=True)
class Command:
    text: str  # as documented, one line
    where: str  # file:line
    note: str = ""  # the comment after it, if any

    def __str__(self) -> str:
        return f"{self.where}: `{self.text}`"


def is_command(text: str) -> bool:
    """Whether text starts like a shell command of this project (a command and an argument)."""
    words = text.split()
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]
    if len(words) < 2 or words[1] in ("...", "…"):
        return False
    first = words[0].removeprefix(".venv/bin/")
    return first in COMMANDS or first.startswith(("scripts/", "bench/"))


def _split_compound(text: str) -> list[str]:
    """``a && b``, ``a; b`` and ``a | b`` (the docs' "or") are separate commands."""
    return [part.strip() for part in re.split(r"\s+(?:&&|\|\||;|\|)\s+", text) if part.strip()]


def _without_comment(line: str) -> tuple[str, str]:
    match = re.search(r"\s+#\s?(.*)$", line)
    return (line[: match.start()].rstrip(), match.group(1).strip()) if match else (line.rstrip(), "")


def _spans(text: str):
    """(offset, content) of each inline code span."""
    for match in re.finditer(r"`([^`]+)`", text):
        yield match.start(), " ".join(match.group(1).split())


def _line_at(lines: list[tuple[int, str]], offset: int) -> int:
    """The file line of a character offset into the joined paragraph."""
    line_no = lines[0][0]
    position = 0
    for number, line in lines:
        if position > offset:
            break
        line_no = number
        position += len(line) + 1
    return line_no


def _from_prose(lines: list[tuple[int, str]], name: str) -> list[Command]:
    """Commands in inline code spans and ``(= command)`` asides of one paragraph."""
    text = " ".join(line for _, line in lines)
    found = []
    for offset, span in _spans(text):
        for part in _split_compound(span):
            if is_command(part):
                found.append(Command(part, f"{name}:{_line_at(lines, offset)}"))
    for match in re.finditer(r"\((?:= )?([^()`]+)\)", text):
        for part in _split_compound(match.group(1).rstrip(". ")):
            if is_command(part):
                found.append(Command(part, f"{name}:{_line_at(lines, match.start())}"))
    return found


def _fenced_block(lines: list[tuple[int, str]], name: str) -> list[Command]:
    found = []
    pending, start = "", 0
    for number, raw in lines:
        line = raw.strip()
        if not pending:
            start = number
        line = line.removeprefix("$ ")
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text, note = _without_comment(pending + line)
        pending = ""
        for part in _split_compound(text):
            if is_command(part):
                found.append(Command(" ".join(part.split()), f"{name}:{start}", note))
    return found


def markdown_commands(path: Path, name: str) -> list[Command]:
    found = []
    fence, block, paragraph = None, [], []
    text = re.sub(r"<!-- results:begin -->.*?<!-- results:end -->", lambda m: "\n" * m.group(0).count("\n"),
                  path.read_text(), flags=re.S)  # the generated block quotes past commands as they were run
    for number, line in enumerate(text.splitlines(), 1):
        marker = re.match(r"\s*```(\S*)", line)
        if marker and fence is None:
            found += _from_prose(paragraph, name) if paragraph else []
            fence, block, paragraph = marker.group(1), [], []
        elif marker:
            found += _fenced_block(block, name) if fence in SHELL_FENCES else []
            fence = None
        elif fence is not None:
            block.append((number, line))
        elif line.strip():
            paragraph.append((number, line))
        elif paragraph:
            found += _from_prose(paragraph, name)
            paragraph = []
    return found + (_from_prose(paragraph, name) if paragraph else [])


def comment_commands(path: Path, name: str) -> list[Command]:
    """Commands in the ``#`` comments of a YAML file or the Snakefile."""
    found, paragraph = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = re.match(r"\s*#(.*)$", line) or re.search(r"\s#(.*)$", line)
        comment = match.group(1) if match else None
        example = comment is not None and re.match(r"\s{2,}(\S.*)$", comment)
        if example and is_command(example.group(1)):
            text = re.split(r"\s{2,}|\s#\s", example.group(1))[0]
            rest = example.group(1)[len(text):]
            note = _without_comment(rest)[1] or rest.strip()
            found += [Command(part, f"{name}:{number}", note) for part in _split_compound(text)]
        if comment is not None and not example:
            paragraph.append((number, comment.strip()))
        elif paragraph:
            found += _from_prose(paragraph, name)
            paragraph = []
    return found + (_from_prose(paragraph, name) if paragraph else [])


def makefile_help_commands(path: Path) -> list[Command]:
    """``make <target>`` in the comment block that opens the Makefile (its help text)."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.startswith("#"):
            break
        found += [Command(f"make {target}", f"Makefile:{number}")
                  for target in re.findall(r"\bmake ([a-z][\w-]*)", line)]
    return found


def collect(repo: Path) -> list[Command]:
    """Every documented command of the repository at ``repo``, in reading order."""
    commands = []
    for path in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        commands += markdown_commands(path, str(path.relative_to(repo)))
    commands += makefile_help_commands(repo / "Makefile")
    for pattern in COMMENTED_FILES:
        for path in sorted(repo.glob(pattern)):
            commands += comment_commands(path, str(path.relative_to(repo)))
    return commands
