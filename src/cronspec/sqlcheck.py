"""sqlglot analysis of task bodies and of every statement cronspec emits.

sqlglot is a transpiler, not a validator: it tells us the statements, their kinds and the
functions they call, which is what classification needs. Real PostgreSQL has the last word, when
the migration creates each procedure with `check_function_bodies` on.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache, lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

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
class Finding:
    code: str
    message: str
    line: int  # 1-based, inside the body
    col: int


@dataclass(frozen=True)
class Statement:
    keyword: str  # e.g. "UPDATE", "VACUUM", "CREATE INDEX"
    text: str  # the statement as written, without the final `;`
    line: int
    col: int


@dataclass(frozen=True)
class Analysis:
    statements: tuple[Statement, ...]
    errors: tuple[Finding, ...]  # the body cannot be used at all
    outside: tuple[Finding, ...]  # reaches outside the database: not SQL-eligible
    standalone: str | None  # why it must be the job's only statement, if it must
    fingerprint: str  # equal for bodies that differ only in whitespace and comments


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


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
    digest = hashlib.sha256()
    for token in tokens:
        digest.update(f"{token.token_type.name}\0{token.text}\0".encode())
    return digest.hexdigest()[:32]


def analyze(body: str) -> Analysis:
    """Split, parse and classify a task's SQL body. Positions are 1-based inside `body`."""
    try:
        tokens = _dialect().tokenize(body)
    except TokenError as exc:
        line, col = _line_col(body, _token_error_offset(body, exc))
        message = (
            "SQL does not tokenize: an unterminated quote, quoted identifier or "
            "dollar-quoted string?"
        )
        return Analysis((), (Finding("Q401", message, line, col),), (), None, "")
    groups = _split(tokens)
    if not groups:
        return Analysis((), (Finding("Q405", "SQL body is empty", 1, 1),), (), None, "")
    errors: list[Finding] = []
    outside: list[Finding] = []
    statements: list[Statement] = []
    for group in groups:
        start, end = group[0].start, group[-1].end + 1
        text = body[start:end].rstrip()
        line, col = _line_col(body, start)
        words = _words(text)
        keyword = (
            " ".join(words[:2])
            if words[:1] in (["CREATE"], ["DROP"], ["ALTER"])
            else (words[0] if words else "?")
        )
        statements.append(Statement(keyword, text, line, col))
        if (words[:1] and words[0] in TRANSACTION_CONTROL) or words[:2] == [
            "PREPARE",
            "TRANSACTION",
        ]:
            errors.append(
                Finding(
                    "Q403",
                    f"transaction control (`{words[0]}`) is not allowed: "
                    "each job runs in its own transaction",
                    line,
                    col,
                )
            )
            continue
        if words[:1] == ["DO"]:
            errors.append(
                Finding(
                    "Q407",
                    "DO blocks cannot be checked by cronspec; move the "
                    "code into a function created by your schema "
                    "migrations and call it",
                    line,
                    col,
                )
            )
            continue
        outside.extend(_outside(body, group, text, words, line, col))
    if not errors:
        try:  # one parse of the tokens already made: positions are the body's own
            _dialect().parser().parse(tokens, body)
        except ParseError as exc:
            detail = exc.errors[0] if exc.errors else {}
            description = str(detail.get("description", exc)).split(". Line")[0]
            # sqlglot reports where the offending token ends; point at where it starts
            width = len(str(detail.get("highlight") or "")) or 1
            column = max(int(detail.get("col") or 1) - width + 1, 1)
            message = f"SQL does not parse: {_short_text(description)}"
            errors.append(Finding("Q401", message, int(detail.get("line") or 1), column))
    standalone = None
    for statement in statements:
        reason = _standalone_reason(_words(statement.text))
        if reason is None:
            continue
        if len(statements) > 1:
            errors.append(
                Finding(
                    "Q404",
                    f"{reason} cannot run inside a transaction block or procedure, so it must be "
                    "the task's only statement; move it to a task of its own",
                    statement.line,
                    statement.col,
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


def _outside(
    body: str, group: list[Token], text: str, words: list[str], line: int, col: int
) -> list[Finding]:
    found: list[Finding] = []
    if words[:1] == ["COPY"]:
        upper = " ".join(_words(text, 60))
        if " PROGRAM" in upper:
            found.append(
                Finding("Q402", "COPY ... PROGRAM runs a program on the database server", line, col)
            )
        elif re.search(r"\b(FROM|TO)\s+(STDIN|STDOUT)\b", upper):
            found.append(
                Finding(
                    "Q402",
                    "COPY to or from the client needs a client; a pg_cron job has none",
                    line,
                    col,
                )
            )
        else:
            found.append(
                Finding(
                    "Q402",
                    "COPY to or from a server file reaches the server's file system",
                    line,
                    col,
                )
            )
    for index, token in enumerate(group):
        name = None
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) and index + 1 < len(group):
            if group[index + 1].token_type == TokenType.L_PAREN:
                name = token.text.lower()
        elif token.token_type == TokenType.STRING and group[0].token_type == TokenType.COMMAND:
            # sqlglot keeps the rest of an unparsed command as one string: scan it as text
            for match in _CALL.finditer(token.text):
                if match.group(1).lower() in OUTSIDE_FUNCTIONS:
                    base = max(body.find(token.text, group[0].end), 0)
                    t_line, t_col = _line_col(body, base + match.start())
                    found.append(_function_finding(match.group(1).lower(), t_line, t_col))
        if name in OUTSIDE_FUNCTIONS:
            t_line, t_col = _line_col(body, token.start)
            found.append(_function_finding(name, t_line, t_col))
    return found


def _function_finding(name: str, line: int, col: int) -> Finding:
    return Finding("Q402", f"{name}() {OUTSIDE_FUNCTIONS[name]}", line, col)


def _token_error_offset(body: str, exc: TokenError) -> int:
    match = re.search(r"Error tokenizing '(.*)'", str(exc), re.S)
    if match:
        fragment = match.group(1)[:20]
        found = body.find(fragment)
        if found >= 0:
            return found
    return 0


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
