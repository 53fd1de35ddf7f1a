"""The values the analysis returns: where PostgreSQL lets a statement run, what a body names
and what it does, each placed in the body by character offset and line/column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Placement = Literal["anywhere", "alone", "alone_if_partitioned", "top_level", "in_block"]
"""Where PostgreSQL 15 lets a statement run (tests/test_pgsql_server.py checks each on a server):

- anywhere: in a `LANGUAGE sql` procedure, a transaction block, or alone as the job's command;
- alone: refuses a transaction block and a function ("cannot run inside a transaction block",
  "cannot be executed from a function"): it must be the job's only statement, with no wrapper;
- alone_if_partitioned: REINDEX TABLE/INDEX and CLUSTER of a table: `alone` when the relation
  is partitioned, which only the live database knows, `anywhere` otherwise;
- top_level: CALL: a callee that COMMITs works only as the job's only statement, unwrapped
  ("invalid transaction termination" in a wrapper, a transaction block or a multi-statement job);
- in_block: LOCK and DECLARE CURSOR without HOLD fail alone at top level ("can only be used in
  transaction blocks"): they need a wrapper or other statements around them.
"""

FindingKind = Literal[
    "outside",  # reaches outside the database: server files, programs, other servers, HTTP
    "pg_net",  # queues an HTTP request through pg_net (net.http_get, ...)
    "do",  # a DO block
    "opaque",  # like DO: code the analysis cannot see into
    "transaction_control",  # BEGIN, COMMIT, SAVEPOINT, SET TRANSACTION, ...
    "alone",  # an `alone` statement among others: it cannot run in that job
    "call_among_others",  # a CALL among others: a callee that COMMITs fails there
    "parse_setting",  # changes standard_conforming_strings (or resets every setting)
    "scs_dependent",  # text whose meaning depends on standard_conforming_strings
    "own_relation",  # uses a relation an earlier statement creates (fails in a procedure)
]


GRAMMAR = "PostgreSQL 18 (libpg_query 18-latest, vendored by postgast 0.2)"
MAX_TOKENS = 100_000  # beyond this a body is refused as too large to analyse


@dataclass(frozen=True, slots=True)
class Span:
    """Where something is in the body: character offsets [start, end), 1-based line/column."""

    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the body cannot be used at all: `syntax` (PostgreSQL's message), `empty`,
    `too_large` or `too_deep`."""

    kind: Literal["syntax", "empty", "too_large", "too_deep"]
    message: str
    span: Span


@dataclass(frozen=True, slots=True)
class Statement:
    """One top-level statement of the body."""

    index: int
    kind: str  # PostgreSQL's command tag: "SELECT", "CREATE INDEX", "VACUUM", "CALL", ...
    node: str  # libpg_query's node type: "SelectStmt", "IndexStmt", ...
    text: str  # as written, from its first token to its last, without the final `;`
    span: Span
    placement: Placement
    why: str  # for `alone` and `in_block`: the statement PostgreSQL names in its error


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function or procedure the body names (called, or named as a cast's, trigger's ...)."""

    schema: str | None  # as written; None when unqualified
    name: str  # decoded: U&"\0070g_read_file" is pg_read_file
    statement: int
    span: Span
    called: bool  # False: named as a cast's, operator's, trigger's... function, or in GRANT

    @property
    def qualified(self) -> str:
        """`schema.name`, or `name` when unqualified."""
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True, slots=True)
class Relation:
    """A table, view, sequence or index the body names (decoded, as PostgreSQL resolves it)."""

    schema: str | None
    name: str
    statement: int
    span: Span
    role: Literal["uses", "creates", "drops"]
    created_here: bool  # a statement of this body (this one or an earlier one) creates it
    missing_ok: bool  # IF EXISTS

    @property
    def qualified(self) -> str:
        """`schema.name`, or `name` when unqualified."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def must_exist(self) -> bool:
        """True when the job fails unless it exists before the job runs (to_regclass)."""
        return self.role == "uses" and not self.created_here and not self.missing_ok


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the body does that classification must weigh, with where it is."""

    kind: FindingKind
    message: str
    statement: int
    span: Span
    name: str = ""  # the function or setting concerned, when there is one
    # `outside` findings: what a spec names to accept it on purpose (`reaches:`), or "" when
    # it cannot be accepted (COPY to or from a client a pg_cron job does not have)
    capability: str = ""


@dataclass(frozen=True, slots=True)
class Analysis:
    """What PostgreSQL's parser says of a body: validity, statements, names and findings."""

    error: Problem | None
    statements: tuple[Statement, ...]
    functions: tuple[FunctionRef, ...]
    relations: tuple[Relation, ...]
    findings: tuple[Finding, ...]
    fingerprint: str  # equal for bodies that differ only in whitespace, comments, keyword case

    def of(self, *kinds: FindingKind) -> tuple[Finding, ...]:
        """The findings of these kinds, in body order."""
        return tuple(f for f in self.findings if f.kind in kinds)

    @property
    def bare(self) -> Statement | None:
        """The statement that must be the job's own command (no wrapper procedure), if any:
        a lone `alone` statement, or a lone CALL (its callee may COMMIT)."""
        if len(self.statements) == 1 and self.statements[0].placement in ("alone", "top_level"):
            return self.statements[0]
        return None
