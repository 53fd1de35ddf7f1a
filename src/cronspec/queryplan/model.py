"""The values `cronspec plan --explain` passes between its pure stages and the database module.

`targets.py` turns the placed tasks into `Target`s (one per statement of a pg_cron job, with its
place in the spec); `db/` runs EXPLAIN for each target's `Request` and returns an `Explained`
(the plan as PostgreSQL wrote it, and the size of every relation it names); `rules.py` reads
those into `Review`: findings as diagnostics, and what happened to each statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, Span


@dataclass(frozen=True)
class Thresholds:
    """When a per-row pattern is worth a finding.

    A relation is large when the planner's statistics give it at least `min_rows` rows, or
    `min_pages` pages (8 kB each); a pattern runs per row when the plan estimates that it runs
    at least `min_loops` times.
    """

    min_rows: int = 1000
    min_pages: int = 100
    min_loops: int = 10


@dataclass(frozen=True)
class Request:
    """One statement to EXPLAIN: in the migration's database (None) or in another one."""

    database: str | None
    sql: str


@dataclass(frozen=True)
class Target:
    """One statement of a pg_cron job, and where it is written."""

    task: str
    spec: str
    index: int  # 0-based, among the body's statements
    kind: str  # PostgreSQL's command tag: SELECT, UPDATE, ...
    span: Span  # the statement in the spec file
    request: Request | None  # None: nothing to EXPLAIN (see `skip`)
    skip: str = ""  # why the statement is not explained
    database: str | None = None  # where the job runs: None for the migration's database

    @property
    def label(self) -> str:
        """`statement 2 (UPDATE)`, as messages name it."""
        return f"statement {self.index + 1} ({self.kind})"


@dataclass(frozen=True)
class RelationSize:
    """What the planner knows of a relation's size: `rows` is pg_class.reltuples (None before
    the first VACUUM or ANALYZE), `pages` its current size in blocks; `indexes` the key columns
    of each of its valid indexes."""

    schema: str
    name: str
    rows: float | None
    pages: int
    indexes: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Explained:
    """The result of one Request: EXPLAIN's JSON document, the server's error, or why it could
    not be asked (`unreached`: another database that cannot be connected to)."""

    plan: Any = None  # EXPLAIN (FORMAT JSON) output: a list holding one {"Plan": ...} object
    error: str | None = None
    sizes: tuple[RelationSize, ...] = ()
    unreached: str | None = None


@dataclass(frozen=True)
class StatementReview:
    """What `--explain` did with one statement: explained (with its findings), skipped, failed."""

    target: Target
    status: str  # "explained", "skipped", "failed"
    note: str = ""  # why skipped, or the server's error
    findings: tuple[Diagnostic, ...] = ()
    plan: Any = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the statement, its place and status (findings are listed apart)."""
        t = self.target
        return {
            "task": t.task,
            "spec": t.spec,
            "line": t.span.line,
            "statement": t.index + 1,
            "kind": t.kind,
            "database": t.database,
            "status": self.status,
            "note": self.note,
            "findings": [f.code for f in self.findings],
        }


@dataclass(frozen=True)
class Review:
    """Every statement `--explain` looked at, and what it found."""

    statements: tuple[StatementReview, ...]
    thresholds: Thresholds

    @property
    def findings(self) -> tuple[Diagnostic, ...]:
        """Every finding, in the order of the specs and their lines."""
        found = [f for s in self.statements for f in s.findings]
        return tuple(sorted(found, key=Diagnostic.sort_key))

    def count(self, status: str) -> int:
        """How many statements have this status."""
        return sum(s.status == status for s in self.statements)
