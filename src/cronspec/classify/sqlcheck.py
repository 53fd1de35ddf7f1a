"""sqlglot analysis of task bodies (the parse-back of what cronspec emits: render/parseback.py).

sqlglot is a transpiler, not a validator: it tells us the statements, their kinds and the
functions they call, which is what classification needs. Real PostgreSQL has the last word, when
the migration creates each procedure with `check_function_bodies` on.

What makes a body unusable comes back as diagnostics at their place in the spec (the body's
`Origin`); what reaches outside the database is no problem but a reason (`Reach`) that makes
the task app-bound.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache

from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from ..diagnostics import Diagnostic, Origin, error, position

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is expected

# Functions that reach outside the database: server files, programs, other servers.
OUTSIDE_FUNCTIONS = {
    **dict.fromkeys(
        (
            "pg_read_file",
            "pg_read_binary_file",
            "pg_stat_file",
            "pg_ls_dir",
            "pg_ls_logdir",
            "pg_ls_waldir",
            "pg_ls_tmpdir",
            "pg_ls_archive_statusdir",
            "pg_ls_logicalsnapdir",
            "pg_ls_logicalmapdir",
            "pg_ls_replslotdir",
            "pg_logdir_ls",
        ),
        "reads the server's file system",
    ),
    **dict.fromkeys(
        ("pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync"),
        "writes the server's file system",
    ),
    **dict.fromkeys(("lo_import", "lo_export"), "moves large objects to or from server files"),
    **dict.fromkeys(
        (
            "dblink",
            "dblink_exec",
            "dblink_connect",
            "dblink_connect_u",
            "dblink_send_query",
            "dblink_open",
            "dblink_fetch",
            "dblink_get_result",
        ),
        "connects to another database server (dblink)",
    ),
    **dict.fromkeys(
        (
            "http",
            "http_get",
            "http_post",
            "http_put",
            "http_patch",
            "http_delete",
            "http_head",
            "http_request",
        ),
        "makes HTTP requests",
    ),
}

TRANSACTION_CONTROL = {
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "SAVEPOINT",
    "RELEASE",
}


@dataclass(frozen=True)
class Reach:
    """What a statement does outside the database, and the body line it is on."""

    what: str
    line: int  # 1-based, inside the body


@dataclass(frozen=True)
class Statement:
    """One statement of a body, as written, with where it starts and ends inside the body."""

    keyword: str  # e.g. "UPDATE", "VACUUM", "CREATE INDEX"
    text: str  # the statement as written, without the final `;`
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Analysis:
    """What classification needs to know of a body."""

    statements: tuple[Statement, ...]
    errors: tuple[Diagnostic, ...]  # the body cannot be used at all
    outside: tuple[Reach, ...]  # reaches outside the database: not SQL-eligible
    standalone: str | None  # why it must be the job's only statement, if it must
    fingerprint: str  # equal for bodies that differ only in whitespace and comments


@cache
def _dialect() -> Postgres:
    return Postgres()


def _split(tokens: list[Token]) -> list[list[Token]]:
    groups: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            groups.append([])
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9$]*")
_CALL = re.compile(r"([A-Za-z_][A-Za-z_0-9$]*)\"?\s*\(")


def _words(text: str, limit: int = 8) -> list[str]:
    return [w.upper() for w in _WORD.findall(text[:400])][:limit]


def _standalone_reason(words: list[str]) -> str | None:
    head = " ".join(words)
    if words[:1] == ["VACUUM"]:
        return "VACUUM"
    if re.match(r"CREATE (UNIQUE )?INDEX CONCURRENTLY", head):
        return "CREATE INDEX CONCURRENTLY"
    if head.startswith("DROP INDEX CONCURRENTLY"):
        return "DROP INDEX CONCURRENTLY"
    if words[:1] == ["REINDEX"] and (
        "CONCURRENTLY" in words or (len(words) > 1 and words[1] in {"SCHEMA", "DATABASE", "SYSTEM"})
    ):
        return "REINDEX " + ("CONCURRENTLY" if "CONCURRENTLY" in words else words[1])
    if words[:1] == ["CLUSTER"] and (len(words) == 1 or words[1:] == ["VERBOSE"]):
        return "CLUSTER without a table"
    for prefix in (
        "CREATE DATABASE",
        "DROP DATABASE",
        "CREATE TABLESPACE",
        "DROP TABLESPACE",
        "ALTER SYSTEM",
        "DISCARD ALL",
    ):
        if head.startswith(prefix):
            return prefix
    return None


def fingerprint_tokens(tokens: list[Token]) -> str:
    """A digest of the tokens' kinds and texts: whitespace and comments do not change it."""
    digest = hashlib.sha256()
    for token in tokens:
        digest.update(f"{token.token_type.name}\0{token.text}\0".encode())
    return digest.hexdigest()[:32]


def analyze(body: str, origin: Origin | None = None) -> Analysis:
    """Split, parse and classify a task's SQL body.

    Diagnostics are placed through `origin`, where the body is in its spec (by default the
    body is a file of its own, `<sql>`).
    """
    where = origin or Origin("<sql>")

    def at(code: str, message: str, start: tuple[int, int], end: tuple[int, int]) -> Diagnostic:
        return error(code, message, where.span(*start, *end))

    try:
        tokens = _dialect().tokenize(body)
    except TokenError as exc:
        # sqlglot says where the context it quotes starts; 0 when it does not
        line, col = position(body, exc.start or 0)
        message = (
            "SQL does not tokenize: an unterminated quote, quoted identifier or "
            "dollar-quoted string?"
        )
        return Analysis((), (at("Q401", message, (line, col), (line, col + 1)),), (), None, "")
    groups = _split(tokens)
    if not groups:
        empty = at("Q405", "SQL body is empty", (1, 1), (1, 2))
        return Analysis((), (empty,), (), None, "")
    errors: list[Diagnostic] = []
    outside: list[Reach] = []
    statements: list[Statement] = []
    for group in groups:
        start, end = group[0].start, group[-1].end + 1
        text = body[start:end].rstrip()
        line, col = position(body, start)
        end_line, end_col = position(body, start + len(text))
        words = _words(text)
        keyword = (
            " ".join(words[:2])
            if words[:1] in (["CREATE"], ["DROP"], ["ALTER"])
            else (words[0] if words else "?")
        )
        statements.append(Statement(keyword, text, line, col, end_line, end_col))
        span = ((line, col), (end_line, end_col))
        if (words[:1] and words[0] in TRANSACTION_CONTROL) or words[:2] == [
            "PREPARE",
            "TRANSACTION",
        ]:
            errors.append(
                at(
                    "Q403",
                    f"transaction control (`{words[0]}`) is not allowed: "
                    "each job runs in its own transaction",
                    *span,
                )
            )
            continue
        if words[:1] == ["DO"]:
            errors.append(
                at(
                    "Q407",
                    "DO blocks cannot be checked by cronspec; move the code into a function "
                    "created by your schema migrations and call it",
                    *span,
                )
            )
            continue
        outside.extend(_outside(body, group, text, words, line))
    if not errors:
        try:  # one parse of the tokens already made: positions are the body's own
            _dialect().parser().parse(tokens, body)
        except ParseError as exc:
            detail = exc.errors[0] if exc.errors else {}
            description = str(detail.get("description", exc)).split(". Line")[0]
            # sqlglot reports where the offending token ends; point at where it starts
            width = len(str(detail.get("highlight") or "")) or 1
            last = int(detail.get("col") or 1)
            line = int(detail.get("line") or 1)
            message = f"SQL does not parse: {_short_text(description)}"
            errors.append(at("Q401", message, (line, max(last - width + 1, 1)), (line, last + 1)))
    standalone = None
    for statement in statements:
        reason = _standalone_reason(_words(statement.text))
        if reason is None:
            continue
        if len(statements) > 1:
            errors.append(
                at(
                    "Q404",
                    f"{reason} cannot run inside a transaction block or procedure, so it must be "
                    "the task's only statement; move it to a task of its own",
                    (statement.line, statement.col),
                    (statement.end_line, statement.end_col),
                )
            )
        else:
            standalone = (
                f"{reason} cannot run inside a transaction or procedure: scheduled as "
                "the job's only statement, with no wrapper procedure"
            )
    return Analysis(
        tuple(statements), tuple(errors), tuple(outside), standalone, fingerprint_tokens(tokens)
    )


def _outside(body: str, group: list[Token], text: str, words: list[str], line: int) -> list[Reach]:
    found: list[Reach] = []
    if words[:1] == ["COPY"]:
        upper = " ".join(_words(text, 60))
        if " PROGRAM" in upper:
            what = "COPY ... PROGRAM runs a program on the database server"
        elif re.search(r"\b(FROM|TO)\s+(STDIN|STDOUT)\b", upper):
            what = "COPY to or from the client needs a client; a pg_cron job has none"
        else:
            what = "COPY to or from a server file reaches the server's file system"
        found.append(Reach(what, line))
    for index, token in enumerate(group):
        name = None
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and index + 1 < len(group):
            if group[index + 1].token_type == TokenType.L_PAREN:
                name = token.text.lower()
        elif token.token_type == TokenType.STRING and group[0].token_type == TokenType.COMMAND:
            # sqlglot keeps the rest of an unparsed command as one string: scan it as text
            for match in _CALL.finditer(token.text):
                called = match.group(1).lower()
                if called in OUTSIDE_FUNCTIONS:
                    base = max(body.find(token.text, group[0].end), 0)
                    found.append(_function_reach(called, position(body, base + match.start())[0]))
        if name in OUTSIDE_FUNCTIONS:
            found.append(_function_reach(name, position(body, token.start)[0]))
    return found


def _function_reach(name: str, line: int) -> Reach:
    return Reach(f"{name}() {OUTSIDE_FUNCTIONS[name]}", line)


def _short_text(text: str) -> str:
    text = re.sub(r"<Token token_type: TokenType\.(\w+), text: ([^,]*),[^>]*>", r"`\2`", text)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return text[:160]
