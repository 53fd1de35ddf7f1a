"""The parse-back: every statement cronspec emits is read again before a file is written.

Each piece of a generated file is parsed twice, by two parsers that share no code:

1. PostgreSQL's own parser (libpg_query, through postgast) parses every piece, as the server
   will, and normalizes it: each constant is replaced by a parameter (`$1`, `$2`, ...) at the
   place the server's lexer says it is, so a literal that ended early or late would show as a
   different statement, or as a syntax error;
2. sqlglot parses each distinct normalized text (a statement's *shape*, its parameters written
   as `'?'`) once per process, or once and for all in the tests for the shapes in
   proven_shapes.json. A
   migration of 1,000 tasks has a handful of shapes: the fixed engine SQL, one INSERT per kind
   of row (a database or DEFAULT, a written schedule or NULL), the final CALL.

What the shape leaves out, the literals' contents, is what quote_literal and dollar_quote make
(render/pg_cron.py); tests/test_quoting.py proves them, by property tests against sqlglot and
the real server: a value goes in, the server reads back exactly that value.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import postgast

_pb: Any = importlib.import_module("postgast.pg_query_pb2")  # its stub does not parse (mypy)
_PARAM = _pb.Token.Value("PARAM")

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is expected

# Statements sqlglot keeps as commands; each is fixed text of ours apart from quoted names.
_ALLOWED_COMMANDS = ("CALL", "CREATE EXTENSION IF NOT EXISTS PG_CRON")


def problems(parts: Iterable[str]) -> list[str]:
    """What is wrong with each piece of an emitted file (nothing, unless cronspec has a bug)."""
    found: list[str] = []
    for part in parts:
        try:
            shape = postgast.normalize(part)
        except postgast.PgQueryError as exc:
            found.append(f"PostgreSQL's parser refuses {_head(part)!r}: {exc}")
            continue
        found.extend(shape_problems(shape))
    return found


PROVEN = "proven_shapes.json"  # beside this module; see proven() and tests/test_parseback.py


@lru_cache(maxsize=1)
def proven() -> frozenset[str]:
    """Shapes sqlglot has already passed: the ones a usual project emits, shipped with
    cronspec, and parsed again by sqlglot in the tests (tests/test_parseback.py), so that a
    compile need not import sqlglot (0.2 s) to learn the same again. Any other shape is given
    to sqlglot at run time."""
    text = (Path(__file__).parent / PROVEN).read_text(encoding="utf-8")
    return frozenset(json.loads(text)["shapes"])


@lru_cache(maxsize=256)  # a few shapes per file; the fixed ones are the same in every render
def shape_problems(shape: str) -> tuple[str, ...]:
    """Statements of a normalized text that sqlglot cannot parse, or keeps as unparsed
    commands other than the few of ours it is known to keep so (none for a proven shape)."""
    if shape in proven():
        return ()
    return sqlglot_problems(shape)


def sqlglot_problems(shape: str) -> tuple[str, ...]:
    """What sqlglot finds wrong with a shape, asked every time."""
    import sqlglot  # on first use: `cronspec --help` and the commands that emit nothing skip it
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        expressions = sqlglot.parse(_placeholders(shape), read="postgres")
    except (ParseError, TokenError) as exc:
        return (f"sqlglot cannot parse {_head(shape)!r}: {_short(exc)}",)
    out = []
    for expression in expressions:
        if isinstance(expression, exp.Command) and not _allowed(expression.sql("postgres")):
            out.append(f"unparsed statement: {expression.sql('postgres')[:80]}")
    return tuple(out)


def _placeholders(shape: str) -> str:
    """The shape with each of normalize's parameters (the constants it took out) written as the
    string `'?'`, which sqlglot reads wherever PostgreSQL takes a constant (`AS $1` it would
    read as the start of a dollar quote)."""
    raw = shape.encode()
    out, last = [], 0
    for token in postgast.scan(shape).tokens:  # offsets in bytes
        if token.token == _PARAM:
            out += [raw[last : token.start], b"'?'"]
            last = token.end
    return b"".join([*out, raw[last:]]).decode()


def _allowed(text: str) -> bool:
    text = re.sub(r"^\s*(/\*.*?\*/\s*)*", "", text, flags=re.S)
    return " ".join(text.upper().split()).startswith(_ALLOWED_COMMANDS)


def _head(text: str) -> str:
    return " ".join(text.split())[:80]


def _short(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    text = re.sub(r"<Token token_type: TokenType\.(\w+), text: ([^,]*),[^>]*>", r"`\2`", text)
    return re.sub(r"\x1b\[[0-9;]*m", "", text)[:160]
