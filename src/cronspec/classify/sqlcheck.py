"""sqlglot's parse-back of every statement cronspec emits: a statement of ours that sqlglot
cannot parse is a cronspec bug (exit 2). Task bodies are read by PostgreSQL's own parser
(classify/pgsql); in the emitted files they are dollar-quoted or string literals.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is expected


def _short(exc: Exception) -> str:
    return _short_text(str(exc).split("\n")[0])


def _short_text(text: str) -> str:
    text = re.sub(r"<Token token_type: TokenType\.(\w+), text: ([^,]*),[^>]*>", r"`\2`", text)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return text[:160]


@lru_cache(maxsize=64)  # the fixed parts of a file come back on every render
def unparsable_statements(sql: str) -> tuple[str, ...]:
    """Statements of an emitted file that sqlglot cannot parse (a cronspec bug if any)."""
    problems: list[str] = []
    try:
        expressions = sqlglot.parse(sql, read="postgres")
    except (ParseError, TokenError) as exc:
        return (_short(exc),)
    for expression in expressions:
        if isinstance(expression, exp.Command) and not _allowed_command(expression):
            problems.append(f"unparsed statement: {expression.sql('postgres')[:80]}")
    return tuple(problems)


# Statements sqlglot keeps as commands; each is fixed text of ours apart from quoted names.
_ALLOWED_COMMANDS = {"CALL", "CREATE EXTENSION IF NOT EXISTS PG_CRON"}


def _allowed_command(expression: exp.Command) -> bool:
    text = re.sub(r"^\s*(/\*.*?\*/\s*)*", "", expression.sql("postgres"), flags=re.S)
    head = " ".join(text.upper().split())
    return any(head.startswith(allowed) for allowed in _ALLOWED_COMMANDS)
