"""A task's SQL body as PostgreSQL's parser reads it (classify/pgsql), turned into what the
verdict needs: the diagnostics that make the body unusable, placed in the spec; what reaches
outside the database, accepted by `reaches:` or not; the pg_net requests; the live checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..diagnostics import Diagnostic, Origin, Span, error, position, warning
from ..model import Task
from .pgsql import CAPABILITIES, Analysis, Finding, analyze
from .pgsql import Span as BodySpan

# Findings that make a body unusable wherever it runs: (code, what to do about it)
_REFUSED: dict[str, tuple[str, str]] = {
    "do": ("Q407", ""),
    "opaque": (
        "Q409",
        "; create that code in your schema migrations and call it, or write it as LANGUAGE sql",
    ),
    "transaction_control": ("Q403", ""),
    "alone": ("Q404", ""),
    "parse_setting": ("Q410", "; remove it"),
}
_PROBLEM_CODES = {"syntax": "Q401", "empty": "Q405", "too_large": "Q408", "too_deep": "Q408"}


@dataclass(frozen=True)
class LiveCheck:
    """What the migration checks in the live database before it changes anything, so that a
    job does not fail at its first run for what the database lacks.

    - relation: `schema.name` (or `name`, in the job's search_path) exists (to_regclass);
    - not_partitioned: that relation is not partitioned (REINDEX and CLUSTER of a partitioned
      table cannot run inside a transaction, which this statement does);
    - extension: the extension `name` is installed (pg_net, and its worker serves this database).
    """

    kind: Literal["relation", "not_partitioned", "extension"]
    schema: str | None
    name: str
    line: int  # where the body names it (1-based, in the body)
    about: str  # the statement or function that needs it: "REFRESH MATERIALIZED VIEW"

    @property
    def qualified(self) -> str:
        """`schema.name`, or `name` when unqualified."""
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class Body:
    """What classification takes from a body's analysis."""

    analysis: Analysis
    errors: tuple[Diagnostic, ...]  # the body cannot be used at all
    warnings: tuple[Diagnostic, ...]
    outside: tuple[Finding, ...]  # reaches outside the database, not accepted
    accepted: tuple[Finding, ...]  # reaches outside, accepted by `reaches:`
    pg_net: tuple[Finding, ...]  # requests queued through pg_net

    def checks(self) -> tuple[LiveCheck, ...]:
        """The relations the job needs before it runs, and pg_net where it is called."""
        found: dict[tuple[str, str | None, str], LiveCheck] = {}
        kinds = {s.index: s.kind for s in self.analysis.statements}
        for r in self.analysis.relations:
            if r.must_exist:
                key = ("relation", r.schema, r.name)
                found.setdefault(
                    key, LiveCheck("relation", r.schema, r.name, r.span.line, kinds[r.statement])
                )
        if self.pg_net:
            first = self.pg_net[0]
            found[("extension", None, "pg_net")] = LiveCheck(
                "extension", None, "pg_net", first.span.line, f"{first.name}()"
            )
        return tuple(found.values())


def read_body(task: Task) -> Body:
    """The body of a `kind: sql` task, analysed; errors and warnings placed in its spec."""
    assert task.sql is not None
    analysis = analyze(task.sql)
    where = task.sql_origin
    if analysis.error is not None:
        problem = analysis.error
        message = _one_line(problem.message)
        if problem.kind == "syntax":
            message = f"SQL does not parse: {message}"
        elif problem.kind != "empty":
            if problem.kind == "too_deep" and not message.startswith("nested too deeply"):
                message = f"nested too deeply for PostgreSQL's parser ({message})"
            message += "; split the body, or move it into a function of your schema migrations"
        code = _PROBLEM_CODES[problem.kind]
        span = place(where, problem.span)
        end = len(task.sql.rstrip())
        if problem.span.start >= end:  # "at end of input": just after the last character
            line, col = position(task.sql, end)
            span = where.span(line, col, line, col)
        return Body(analysis, (error(code, message, span),), (), (), (), ())
    errors = []
    warnings = []
    for f in analysis.findings:
        if f.kind in _REFUSED:
            code, fix = _REFUSED[f.kind]
            errors.append(error(code, f.message + fix, place(where, f.span)))
        elif f.kind == "call_among_others":
            warnings.append(warning("Q413", f.message, place(where, f.span)))
    outside = analysis.of("outside")
    accepted = tuple(f for f in outside if f.capability and f.capability in task.reaches)
    refused = tuple(f for f in outside if f not in accepted)
    return Body(
        analysis,
        tuple(errors),
        tuple(warnings),
        refused,
        accepted,
        analysis.of("pg_net"),
    )


_NEAR = re.compile(r'(.*? at or near ")(.*)(")', re.S)


def _one_line(message: str) -> str:
    """PostgreSQL's message on one line: "at or near" quotes the rest of an unterminated string,
    newlines and all; a diagnostic is one line, so that quote is cut short."""
    match = _NEAR.fullmatch(message)
    if match is None:
        return " ".join(message.split())
    first, *more = match[2].split("\n")
    near = " ".join(first.split())
    if len(near) > 40 or any(line.strip() for line in more):
        near = near[:40].rstrip() + "..."
    return match[1] + near + match[3]


def place(where: Origin, span: BodySpan) -> Span:
    """A span of the body as a span of the spec file."""
    return where.span(span.line, span.col, span.end_line, span.end_col)


def statements_reason(body: Body) -> str:
    """The first reason of an SQL-eligible task: its statements, and who read them."""
    statements = body.analysis.statements
    count = len(statements)
    kinds = ", ".join(s.kind for s in statements)
    head = f"{count} statement{'s' if count != 1 else ''} ({kinds}), parsed by PostgreSQL's parser"
    if body.accepted:
        return f"SQL: {head}; it reaches outside the database only where `reaches:` accepts it"
    if body.pg_net:
        return f"pure SQL: {head}, nothing outside the database but pg_net's request queue"
    return f"pure SQL: {head}, nothing outside the database"


def finding_reason(f: Finding) -> str:
    """A finding as a reason, with the body line it is on."""
    return f"{f.message} (SQL line {f.span.line})"


def reaches_hint(findings: tuple[Finding, ...]) -> str:
    """What to write to accept these findings on purpose, or "" when one cannot be accepted."""
    if not findings or any(not f.capability for f in findings):
        return ""
    names = [c for c in CAPABILITIES if any(f.capability == c for f in findings)]
    return f"`reaches: [{', '.join(names)}]`"
