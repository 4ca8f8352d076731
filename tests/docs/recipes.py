"""The recipes of docs/extending.md as steps a test applies to a copy of the repository.

A step is a fenced code block with a marker comment on the line before its fence::

    <!-- recipe NAME: VERB PATH [WHERE] -->

``NAME`` is the recipe (``lr_sweep``), ``PATH`` a file relative to the repository root and
``VERB`` one of

* ``create PATH``: the block is the new file (which must not exist yet);
* ``merge PATH at KEY.PATH``: the block is YAML; its keys are pasted under the block mapping at
  ``KEY.PATH`` of the YAML file (as text, so the file's comments and layout stay; a key
  already there is an error);
* ``insert PATH before "TEXT"``: the block goes before the one line that starts with ``TEXT``;
* ``patch PATH``: the block is a diff without headers: ``' '`` context, ``'-'`` removed and
  ``'+'`` added lines, ``@@`` between hunks; each hunk's old lines must occur exactly once;
* ``add-row PATH under "HEADING"``: the block's lines go after the last row of the first
  Markdown table below the line ``HEADING``.

A step that cannot be applied raises :class:`RecipeError` naming the marker's line.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

MARKER = re.compile(r"^\s*<!--\s*recipe\s+(?P<name>[\w-]+):\s*(?P<verb>[\w-]+)\s+(?P<path>\S+)"
                    r"(?:\s+(?P<where>.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
VERBS = ("create", "merge", "insert", "patch", "add-row")


class RecipeError(AssertionError):
    """A recipe step that does not apply: the doc and the code drifted apart."""


@dataclass(frozen=True)
class Step:
    recipe: str
    verb: str
    path: str
    where: str
    code: str  # the block, without the fence's indentation
    lang: str
    line: int  # of the marker in the doc

    def error(self, message: str) -> RecipeError:
        return RecipeError(f"line {self.line}: recipe {self.recipe}: {self.verb} {self.path}: {message}")


def parse_steps(text: str) -> list[Step]:
    """Every marked block of a Markdown text, in order."""
    lines = text.splitlines()
    steps = []
    for number, line in enumerate(lines):
        marker = MARKER.match(line)
        if not marker:
            if line.lstrip().startswith("<!-- recipe"):
                raise RecipeError(f"line {number + 1}: unreadable recipe marker {line.strip()!r}")
            continue
        if marker["verb"] not in VERBS:
            raise RecipeError(f"line {number + 1}: unknown recipe verb {marker['verb']!r}; known: {VERBS}")
        fence = FENCE.match(lines[number + 1]) if number + 1 < len(lines) else None
        if not fence:
            raise RecipeError(f"line {number + 1}: a recipe marker must be followed by a code fence")
        indent, body = fence["indent"], []
        for inner in lines[number + 2:]:
            if inner.strip() == "```":
                break
            if inner.strip() and not inner.startswith(indent):
                raise RecipeError(f"line {number + 1}: a line of the block is indented less than its fence")
            body.append(inner[len(indent):])
        else:
            raise RecipeError(f"line {number + 1}: the code block after the marker is not closed")
        steps.append(Step(marker["name"], marker["verb"], marker["path"], marker["where"] or "",
                          "\n".join(body) + "\n", fence["lang"], number + 1))
    return steps


def recipe_steps(doc: Path, name: str) -> list[Step]:
    steps = [step for step in parse_steps(doc.read_text()) if step.recipe == name]
    if not steps:
        raise RecipeError(f"{doc}: no step of recipe {name!r}")
    return steps


def apply_steps(steps: list[Step], root: Path) -> None:
    for step in steps:
        target = root / step.path
        if step.verb == "create":
            if target.exists():
                raise step.error("the file exists already")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.code)
            continue
        if not target.is_file():
            raise step.error("no such file")
        text = target.read_text()
        edit = {"merge": _merge, "insert": _insert, "patch": _patch, "add-row": _add_row}[step.verb]
        target.write_text(edit(step, text))


def _quoted(step: Step, keyword: str) -> str:
    match = re.fullmatch(rf'{keyword}\s+"(.+)"', step.where)
    if not match:
        raise step.error(f'expected {keyword} "TEXT", got {step.where!r}')
    return match[1]


def _insert(step: Step, text: str) -> str:
    anchor = _quoted(step, "before")
    lines = text.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.startswith(anchor)]
    if len(found) != 1:
        raise step.error(f"{len(found)} lines start with {anchor!r} (need exactly one)")
    gap = "\n\n" if step.lang == "python" else ""  # two blank lines between top-level definitions
    return "".join(lines[:found[0]]) + step.code + gap + "".join(lines[found[0]:])


def _hunks(step: Step) -> list[tuple[list[str], list[str]]]:
    hunks, old, new = [], [], []
    for line in step.code.splitlines():
        if line.startswith("@@"):
            hunks.append((old, new))
            old, new = [], []
        elif line[:1] in (" ", "-", "+") or line == "":
            body = line[1:]
            if line[:1] != "+":
                old.append(body)
            if line[:1] != "-":
                new.append(body)
        else:
            raise step.error(f"a diff line must start with ' ', '-' or '+': {line!r}")
    return [*hunks, (old, new)]


def _patch(step: Step, text: str) -> str:
    for old, new in _hunks(step):
        before, after = "\n".join(old) + "\n", "\n".join(new) + "\n"
        count = text.count(before)
        if count != 1:
            raise step.error(f"the hunk's old lines occur {count} times (need exactly one):\n{before}")
        text = text.replace(before, after)
    return text


def _add_row(step: Step, text: str) -> str:
    heading = _quoted(step, "under")
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == heading]
    if len(starts) != 1:
        raise step.error(f"{len(starts)} lines are {heading!r} (need exactly one)")
    rows = [i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith("|")]
    if not rows:
        raise step.error(f"no table below {heading!r}")
    last = rows[0]
    while last + 1 < len(lines) and lines[last + 1].startswith("|"):
        last += 1
    return "".join(lines[:last + 1]) + step.code + "".join(lines[last + 1:])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _merge(step: Step, text: str) -> str:
    match = re.fullmatch(r"at\s+([\w.-]+)", step.where)
    if not match:
        raise step.error(f"expected at KEY.PATH, got {step.where!r}")
    keys = match[1].split(".")
    snippet = yaml.safe_load(textwrap.dedent(step.code))
    if not isinstance(snippet, dict):
        raise step.error("the block is not a YAML mapping")
    lines = (text if text.endswith("\n") else text + "\n").splitlines(keepends=True)
    start, end, indent = 0, len(lines), -1  # the parent block: lines [start, end), deeper than indent
    for depth, key in enumerate(keys):
        children = [i for i in range(start, end) if _is_content(lines[i]) and _indent(lines[i]) > indent]
        child_indent = min((_indent(lines[i]) for i in children), default=None)
        found = [i for i in children if _indent(lines[i]) == child_indent
                 and re.match(rf"{re.escape(key)}:\s*(#.*)?$", lines[i].strip())]
        if len(found) != 1:
            raise step.error(f"no block mapping {'.'.join(keys[:depth + 1])!r} (found {len(found)} such key lines)")
        start, indent = found[0] + 1, child_indent
        inner = [i for i in range(start, end) if _is_content(lines[i])]
        outside = next((i for i in inner if _indent(lines[i]) <= indent), end)
        end = max((i for i in inner if i < outside), default=start - 1) + 1
    members = [i for i in range(start, end) if _is_content(lines[i])]
    pad = min(_indent(lines[i]) for i in members) if members else indent + 2
    existing = (yaml.safe_load(text) or {})
    for key in keys:
        existing = existing[key]
    clash = sorted(set(snippet) & set(existing or {}))
    if clash:
        raise step.error(f"{'.'.join(keys)} has {clash} already")
    block = textwrap.indent(textwrap.dedent(step.code), " " * pad)
    merged = "".join(lines[:end]) + block + "".join(lines[end:])
    landed = yaml.safe_load(merged)
    for key in keys:
        landed = landed[key]
    if any(landed.get(key) != value for key, value in snippet.items()):
        raise step.error("the pasted block did not land under the key path")
    return merged
