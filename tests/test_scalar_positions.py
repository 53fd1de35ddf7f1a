"""PostgreSQL's error position in a body, as the line and column of the spec, however the body is
written in YAML: a literal block, or plain, quoted and folded scalars (load/scalars.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronspec.load.scalars import scalar_grid
from cronspec.load.source import parse_document, text_origin

HEAD = "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\n"


def where(cli: Any, project: Any, sql_yaml: str) -> tuple[str, str]:
    """The first diagnostic's `line:col` and the text of the spec at that place."""
    text = HEAD + sql_yaml
    root = project({"x.yaml": text})
    code, out, err = cli(root, "compile")
    assert code == 1
    first = (out + err).splitlines()[0]
    line, col = (int(n) for n in first.split(":")[1:3])
    return f"{line}:{col}", text.split("\n")[line - 1][col - 1 :]


@pytest.mark.parametrize(
    ("sql_yaml", "at", "rest"),
    [
        ("sql: |\n  SELECT 1;\n  SELEC 2\n", "7:3", "SELEC 2"),  # literal block
        ("sql: SELECT 1; SELEC 2\n", "5:16", "SELEC 2"),  # plain, one line
        ("sql: SELECT 1;\n  SELEC 2\n", "6:3", "SELEC 2"),  # plain, folded over lines
        ("sql: 'SELECT ''a'', ''b'' FROM WHERE'\n", "5:32", "WHERE'"),  # '' in single quotes
        ('sql: "SELECT \\"a\\", \\u00e9 FROM WHERE"\n', "5:33", 'WHERE"'),  # escapes
        ('sql: "SELECT 1;\\n  SELEC 2"\n', "5:20", 'SELEC 2"'),  # \\n: one line in the file
        ('sql: "SELECT 1; \\\n  SELEC 2"\n', "6:3", 'SELEC 2"'),  # an escaped line break
        ("sql: >\n  SELECT 1;\n  SELEC 2\n", "7:3", "SELEC 2"),  # folded block
        ("sql: 'SELECT 1;\n\n  SELEC 2'\n", "7:3", "SELEC 2'"),  # a blank line is a newline
    ],
    ids=[
        "literal",
        "plain",
        "plain-folded",
        "single-quoted",
        "double-quoted",
        "double-quoted-newline",
        "escaped-break",
        "folded-block",
        "single-quoted-blank-line",
    ],
)
def test_a_syntax_error_points_at_the_token_in_the_spec(
    cli: Any, project: Any, sql_yaml: str, at: str, rest: str
) -> None:
    # main: every scalar but a literal block pointed at where the value starts
    assert where(cli, project, sql_yaml) == (at, rest)


def test_a_statement_finding_spans_its_text_in_a_quoted_scalar(cli: Any, project: Any) -> None:
    assert where(cli, project, "sql: 'SELECT 1; COMMIT'\n") == ("5:17", "COMMIT'")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="ab '\"\\é\t", min_size=1, max_size=8), min_size=1, max_size=4),
    st.sampled_from(["'", '"', None]),
)
def test_every_mapped_character_is_where_yaml_read_it(words: list[str], style: str | None) -> None:
    """Whatever a scalar holds, a mapped character of the value is that character in the file
    (or the start of what wrote it: a quote doubled, an escape)."""
    value = " ".join(words).strip() or "a"
    if style == "'":
        written = "'" + value.replace("'", "''") + "'"
    elif style == '"':
        written = '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    else:
        if value[0] in "'\"" or "\t" in value or value != value.strip() or ": " in value:
            return  # not a plain scalar
        written = value
    text = HEAD + "sql: " + written + "\n"
    doc, _ = parse_document("x.yaml", text.encode())
    if doc is None or not isinstance(doc.data.get("sql"), str):
        return
    origin = text_origin(doc, ("sql",))
    body = doc.data["sql"].strip()
    if not body:
        return
    assert origin.grid is not None, (written, body)
    lines = text.split("\n")
    for k, char in enumerate(body.split("\n")[0]):
        line, col = origin.grid[0][k]
        found = lines[line - 1][col - 1]
        assert found == char or found in "'\\", (written, k, char, found)


def test_a_value_the_walk_cannot_account_for_has_no_grid() -> None:
    text = "sql: 'abc'\n"
    assert scalar_grid(text, (1, 6), (1, 11), "xyz", "'") is None
