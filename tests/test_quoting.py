"""The literals cronspec writes mean exactly their value: property tests of quote_literal and
dollar_quote (render/pg_cron.py) against sqlglot, PostgreSQL's own lexer (libpg_query) and the
real server, which reads every value back under standard_conforming_strings on and off.

This is what lets the parse-back (render/parseback.py) check each statement's *shape* with
sqlglot once: every literal in a statement is one of these, and a literal that PostgreSQL's
lexer reads as one constant, and the server as exactly its value, cannot change the shape.
Raise the budget with CRONSPEC_FUZZ_EXAMPLES.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import postgast
import psycopg
import pytest
import sqlglot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from cronspec.render import parseback
from cronspec.render.pg_cron import dollar_quote, quote_literal

EXAMPLES = int(os.environ.get("CRONSPEC_FUZZ_EXAMPLES", "300"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None)

# What breaks quoting: quotes, backslashes, dollar signs and would-be tags, comment starts,
# semicolons, E/U& prefixes, line ends; then any text PostgreSQL can store (no NUL, no lone
# surrogates, which UTF-8 cannot encode).
PIECES = ["'", "''", "\\", "\\'", "$", "$$", "$body$", "$body_1$", "$body_2", "E'", "U&'", '"']
PIECES += ["--", "/*", "*/", ";", "\n", "\r\n", "\t", " ", "x", "é", "\u2028", "😀"]
ANY_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"))
VALUES = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    ANY_TEXT,
    st.lists(st.one_of(st.sampled_from(PIECES), ANY_TEXT), max_size=6).map("".join),
)
NASTY = ["", "'", "\\", "x\\'y", "'; DROP TABLE t; --", "$body$", "x$", "$body$$body_1$", "\\\\'"]


def _sqlglot_value(literal: str) -> str:
    (select,) = sqlglot.parse(f"SELECT {literal}", read="postgres")
    assert isinstance(select, exp.Select)
    (node,) = select.expressions
    # sqlglot reads '...' as Literal, E'...' as ByteString (decoded), $tag$...$tag$ as RawString
    assert isinstance(node, exp.Literal | exp.ByteString | exp.RawString), repr(node)
    value = node.this
    assert isinstance(value, str)
    return value


def _one_constant(literal: str) -> None:
    """PostgreSQL's lexer and parser read the literal as one constant, wherever it is put."""
    assert postgast.normalize(f"SELECT {literal}") == "SELECT $1"
    statement = f"INSERT INTO t VALUES ({literal}, {literal});"
    assert postgast.normalize(statement) == "INSERT INTO t VALUES ($1, $2);"
    assert parseback.problems([statement]) == []


@PROPERTY
@given(VALUES)
@example("")
@example("'")
@example("\\")
@example("x\\'y")
def test_quote_literal_reads_back_exactly(value: str) -> None:
    literal = quote_literal(value)
    assert _sqlglot_value(literal) == value
    _one_constant(literal)


@PROPERTY
@given(VALUES, st.sampled_from(["body", "b", "body_1"]))
@example("", "body")
@example("x$", "body")
@example("$body$", "body")
@example("$body$ $body_1$ $body_2$", "body")
def test_dollar_quote_reads_back_exactly(value: str, tag: str) -> None:
    literal = dollar_quote(value, tag)
    assert _sqlglot_value(literal) == value
    _one_constant(literal)


def test_quote_literal_refuses_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote_literal("a\0b")


# --- the real server ---------------------------------------------------------------------------


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(db, autocommit=True) as connection:
        yield connection


def _read_back(conn: psycopg.Connection[tuple[object, ...]], literals: list[str]) -> list[object]:
    # bytes and no parameters: the simple query protocol, the text reaches the server as is
    row = conn.execute(("SELECT " + ", ".join(literals)).encode()).fetchone()
    assert row is not None
    return list(row)


@pytest.mark.db
@settings(
    max_examples=max(EXAMPLES // 3, 20),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(VALUES, min_size=1, max_size=8))
@example(NASTY)
def test_the_server_reads_back_exactly_the_value(
    conn: psycopg.Connection[tuple[object, ...]], values: list[str]
) -> None:
    literals = [quote_literal(v) for v in values] + [dollar_quote(v) for v in values]
    for setting in ("on", "off"):  # quote_literal means the same under either
        conn.execute(f"SET standard_conforming_strings = {setting}")
        assert _read_back(conn, literals) == values + values, setting
    conn.execute("RESET standard_conforming_strings")


# --- the parse-back itself ---------------------------------------------------------------------


def test_the_parse_back_catches_a_literal_that_ends_early() -> None:
    good = f"INSERT INTO t VALUES ({quote_literal('a')}, 1);"
    assert parseback.problems([good]) == []
    # a value spliced in unquoted: a different statement, or none
    broken = "INSERT INTO t VALUES ('it's', 1);"
    (problem,) = parseback.problems([broken])
    assert problem.startswith("PostgreSQL's parser refuses \"INSERT INTO t VALUES ('it's', 1);")
    assert problem.endswith('syntax error at or near "s"')
    unterminated = f"INSERT INTO t VALUES ({dollar_quote('x')[:-1]}, 1);"
    (problem,) = parseback.problems([unterminated])
    assert "unterminated dollar-quoted string" in problem


def test_the_parse_back_refuses_what_sqlglot_keeps_unparsed() -> None:
    (problem,) = parseback.problems(["ALTER SYSTEM SET work_mem = '1MB';"])
    assert problem.startswith("unparsed statement: ALTER SYSTEM")
    assert parseback.problems(["CALL pg_temp.cronspec_migrate('p', NULL, NULL, NULL, true);"]) == []


def test_shapes_are_parsed_once() -> None:
    parseback.shape_problems.cache_clear()
    parts = [
        f"INSERT INTO t VALUES ({quote_literal(f'{i}')}, {dollar_quote(f'{i}')});"
        for i in range(50)
    ]
    assert parseback.problems(parts) == []
    info = parseback.shape_problems.cache_info()
    assert (info.misses, info.hits) == (1, 49)
