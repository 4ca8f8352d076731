"""The recipe markers of docs/extending.md: every recipe block is marked, and a step that does
not apply fails loudly (:mod:`.recipes`; the recipes themselves build in test_recipes.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .recipes import RecipeError, apply_steps, parse_steps, recipe_steps

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "extending.md"
RECIPE_SECTIONS = {"## Adding an artifact": "lr_sweep", "## Adding a probe": "logit_norm",
                   "## Adding an intervention": "label_smoothing"}


def _step(text: str):
    (step,) = parse_steps(text)
    return step


def test_every_code_block_of_a_recipe_section_is_a_marked_step():
    """A snippet added to a recipe without a marker would go untested; shell blocks are commands
    (tests/docs/test_documented_commands.py)."""
    lines = DOC.read_text().splitlines()
    section, inside, unmarked = None, False, []
    for number, line in enumerate(lines):
        if line.startswith("## "):
            section = line
        fence = re.match(r"\s*```(\w*)\s*$", line)
        if not fence:
            continue
        if not inside and section in RECIPE_SECTIONS and fence[1] not in ("bash", "sh", "console"):
            marker = re.match(r"\s*<!-- recipe ([\w-]+):", lines[number - 1])
            if not marker or marker[1] != RECIPE_SECTIONS[section]:
                unmarked.append(f"docs/extending.md:{number + 1} ({section[3:]})")
        inside = not inside
    assert not unmarked, f"code blocks without a recipe marker of their section: {unmarked}"
    for name in RECIPE_SECTIONS.values():
        assert recipe_steps(DOC, name)


def test_a_merge_pastes_under_the_key_path_and_keeps_the_file(tmp_path):
    (tmp_path / "p.yaml").write_text("# top comment\na:\n  b:\n    x: 1   # kept\n  c: 2\nd: 3\n")
    apply_steps([_step("<!-- recipe t: merge p.yaml at a.b -->\n```yaml\n    y: [1, 2]\n```\n")], tmp_path)
    text = (tmp_path / "p.yaml").read_text()
    assert text == "# top comment\na:\n  b:\n    x: 1   # kept\n    y: [1, 2]\n  c: 2\nd: 3\n"
    assert yaml.safe_load(text)["a"]["b"] == {"x": 1, "y": [1, 2]}


@pytest.mark.parametrize(("marker", "block", "message"), [
    ("merge p.yaml at a.missing", "y: 1", "no block mapping 'a.missing'"),
    ("merge p.yaml at a", "b: 1", r"a has \['b'\] already"),
    ("merge absent.yaml at a", "y: 1", "no such file"),
    ("create p.yaml", "y: 1", "the file exists already"),
    ("insert p.yaml before \"zzz\"", "y: 1", "0 lines start with 'zzz'"),
    ("patch p.yaml", "-  c: 3\n+  c: 4", "the hunk's old lines occur 0 times"),
    ("add-row p.yaml under \"## Table\"", "| x |", "0 lines are '## Table'"),
])
def test_a_step_that_does_not_apply_names_its_line_and_why(tmp_path, marker, block, message):
    (tmp_path / "p.yaml").write_text("a:\n  b: 1\n  c: 2\n")
    text = f"intro\n<!-- recipe t: {marker} -->\n```\n{block}\n```\n"
    with pytest.raises(RecipeError, match=f"line 2: recipe t: .*{message}"):
        apply_steps(parse_steps(text), tmp_path)
    assert (tmp_path / "p.yaml").read_text() == "a:\n  b: 1\n  c: 2\n"


def test_a_marker_needs_a_closed_fence_and_a_known_verb():
    with pytest.raises(RecipeError, match="line 1: a recipe marker must be followed by a code fence"):
        parse_steps("<!-- recipe t: create x.py -->\ntext\n")
    with pytest.raises(RecipeError, match="not closed"):
        parse_steps("<!-- recipe t: create x.py -->\n```python\nx = 1\n")
    with pytest.raises(RecipeError, match="unknown recipe verb 'append'"):
        parse_steps("<!-- recipe t: append x.py -->\n```\nx\n```\n")
    with pytest.raises(RecipeError, match="unreadable recipe marker"):
        parse_steps("<!-- recipe create x.py -->\n```\nx\n```\n")


def test_a_patch_and_a_row_edit_the_lines_they_name(tmp_path):
    (tmp_path / "m.py").write_text("import a\nimport c\n\nX = {\n    1: a,\n}\n")
    (tmp_path / "R.md").write_text("## Table\n\n| h |\n|---|\n| 1 |\n\nafter\n")
    apply_steps(parse_steps("<!-- recipe t: patch m.py -->\n```diff\n import a\n+import b\n import c\n@@\n"
                            "     1: a,\n+    2: b,\n }\n```\n"
                            "  <!-- recipe t: add-row R.md under \"## Table\" -->\n  ```markdown\n  | 2 |\n  ```\n"),
                tmp_path)
    assert (tmp_path / "m.py").read_text() == "import a\nimport b\nimport c\n\nX = {\n    1: a,\n    2: b,\n}\n"
    assert (tmp_path / "R.md").read_text() == "## Table\n\n| h |\n|---|\n| 1 |\n| 2 |\n\nafter\n"
