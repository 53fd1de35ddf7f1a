"""The one module that talks to PostgreSQL: run the migration, for real or rolled back, and read
what it did.

There is no second diff here: the migration decides every action itself and records it in the
temporary table `cronspec_action`. A plan runs the migration without its final COMMIT, reads
that table and rolls back; an apply reads it and commits. Every database failure becomes a
`DbError` carrying the server's message, DETAIL and HINT.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .queryplan import Explained, RelationSize, Request, relations
from .render.pg_cron import END

if TYPE_CHECKING:
    import psycopg

# What the migration records; `unchanged` and `run` (@startup calls) change nothing it owns.
ACTIONS = ("add", "change", "remove", "adopt", "clash", "unchanged", "run")
CHANGES = frozenset({"add", "change", "remove", "adopt"})


class DbError(Exception):
    """A connection, privilege or migration failure: the server's message, detail and hint."""

    def __init__(self, message: str, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint

    def lines(self) -> list[str]:
        """One line each: the message, then DETAIL and HINT when the server sent them."""
        lines = [self.message]
        if self.detail:
            lines.append(f"detail: {self.detail}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines


@dataclass(frozen=True)
class Action:
    """One row of `cronspec_action`: what the migration did, or would do, to one object."""

    action: str  # one of ACTIONS
    kind: str  # job, procedure, startup, schema, bookkeeping, extension
    name: str
    task: str = ""
    spec: str = ""
    owned: bool = False  # this project and role owned the object before the run
    jobid: int | None = None
    details: tuple[str, ...] = ()
    hint: str | None = None

    @property
    def changes(self) -> bool:
        """Whether this action changes the database (adoptions count, unchanged does not)."""
        return self.action in CHANGES

    @property
    def drift(self) -> bool:
        """A change to an object cronspec owned: made outside cronspec, or not applied yet."""
        return self.owned and self.changes

    def as_dict(self) -> dict[str, Any]:
        """The action as JSON-ready data (`--format json`)."""
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "task": self.task,
            "spec": self.spec,
            "owned": self.owned,
            "jobid": self.jobid,
            "details": list(self.details),
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Report:
    """What one run of the migration recorded, and as which role it ran."""

    role: str
    actions: tuple[Action, ...]
    explained: tuple[Explained, ...] = ()  # `plan --explain`: one per request, in order


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _error(exc: BaseException, prefix: str) -> DbError:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        return DbError(
            f"{prefix}: {_one_line(primary)}",
            _one_line(diag.message_detail) or None,  # type: ignore[union-attr]
            _one_line(diag.message_hint) or None,  # type: ignore[union-attr]
        )
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    message = lines[0] if lines else type(exc).__name__
    return DbError(f"{prefix}: {message}", " ".join(lines[1:]) or None)


def connect(dsn: str) -> psycopg.Connection[Any]:
    """A connection to `dsn`, or a DbError saying why not (psycopg missing, server refused)."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise DbError("psycopg is not installed: pip install 'cronspec[db]'") from exc
    try:
        conn = psycopg.connect(dsn, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise _error(exc, "cannot connect") from None
    conn.add_notice_handler(lambda _: None)  # the migration's NOTICE summary is for psql users
    return conn


def run_migration(
    conn: psycopg.Connection[Any],
    sql: str,
    *,
    plan: bool,
    adopt: bool = False,
    explain: Sequence[Request] = (),
) -> Report:
    """Run a migration file as is but for its COMMIT; read its actions; commit or roll back.

    `plan` runs it with `cronspec.mode = plan` (@startup tasks are listed, not run; clashes are
    listed, not raised) and always rolls back. `adopt` sets `cronspec.adopt = on`. A plan
    EXPLAINs each of `explain` after the migration ran, in its transaction, so that the
    procedures and schemas it makes exist (see `explain_statements`).
    """
    import psycopg

    if not sql.endswith(END):
        raise ValueError("not a cronspec migration: it must end with COMMIT")
    body = sql[: -len(END)]
    mode = "plan" if plan else "apply"
    done = "nothing was changed"
    failed = f"the migration fails, {done}" if plan else f"migration failed, {done}"
    try:
        conn.execute(
            "SELECT set_config('cronspec.mode', %s, false), "
            "set_config('cronspec.adopt', %s, false)",
            (mode, "on" if adopt else "off"),
        )
        conn.execute(body.encode("utf-8"))  # bytes, no parameters: one simple query
        rows = conn.execute(
            "SELECT action, kind, name, task, spec, owned, jobid, details, hint, current_user "
            "FROM cronspec_action ORDER BY seq"
        ).fetchall()
        explained = explain_statements(conn, explain) if plan else ()
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            raise _error(exc, f"connection lost, {done}") from None
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        privilege = isinstance(exc, psycopg.errors.InsufficientPrivilege)
        raise _error(exc, f"missing privilege, {done}" if privilege else failed) from None
    try:
        conn.execute("ROLLBACK" if plan else "COMMIT")
        # the session may be reused: it must not stay in plan or adopt mode
        conn.execute("RESET cronspec.mode; RESET cronspec.adopt")
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            raise _error(
                exc,
                "connection lost while committing: the outcome is unknown (run `cronspec plan` "
                "to see)",
            ) from None
        raise _error(exc, failed) from None
    role = str(rows[0][9]) if rows else str(conn.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]
    actions = tuple(
        Action(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            bool(r[5]),
            None if r[6] is None else int(r[6]),
            tuple(r[7]),
            r[8],
        )
        for r in rows
    )
    return Report(role, actions, explained)


# --- plan --explain ----------------------------------------------------------------------------

_SIZES = """
SELECT n.nspname, c.relname, CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples END,
       (pg_relation_size(c.oid) / current_setting('block_size')::int)::int,
       COALESCE((SELECT json_agg(ARRAY(
                  SELECT COALESCE(a.attname::text, '(expression)')
                  FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE k.ord <= i.indnkeyatts ORDER BY k.ord))
                 FROM pg_index i
                 WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""


def explain_statements(
    conn: psycopg.Connection[Any], requests: Sequence[Request]
) -> tuple[Explained, ...]:
    """EXPLAIN (FORMAT JSON, VERBOSE), without ANALYZE (nothing runs), each statement in the
    open transaction, each in a savepoint so that one the server cannot plan does not end it;
    then the planner's size of every relation the plans name (pg_class)."""
    import psycopg

    plans: list[tuple[Any, str | None]] = []
    for request in requests:
        conn.execute("SAVEPOINT cronspec_explain")
        try:
            # parameters (none) select the extended protocol: one statement, never two; `%`
            # is then the placeholder sign, so the statement's own are doubled
            query = "EXPLAIN (FORMAT JSON, VERBOSE) " + request.sql.replace("%", "%%")
            row = conn.execute(query.encode("utf-8"), ()).fetchone()
            conn.execute("RELEASE SAVEPOINT cronspec_explain")
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                raise
            conn.execute("ROLLBACK TO SAVEPOINT cronspec_explain")
            conn.execute("RELEASE SAVEPOINT cronspec_explain")
            diag = getattr(exc, "diag", None)
            plans.append((None, _one_line(getattr(diag, "message_primary", None) or str(exc))))
            continue
        value = row[0] if row else None
        plans.append((json.loads(value) if isinstance(value, str) else value, None))
    names = sorted({name for plan, _ in plans for name in relations(plan)})
    sizes: dict[tuple[str, str], RelationSize] = {}
    if names:
        for schema, name, rows, pages, indexes in conn.execute(
            _SIZES, ([s for s, _ in names], [n for _, n in names])
        ).fetchall():
            columns = tuple(tuple(str(c) for c in index) for index in indexes)
            sizes[(schema, name)] = RelationSize(
                schema, name, None if rows is None else float(rows), int(pages), columns
            )
    return tuple(
        Explained(plan, error, tuple(sizes[r] for r in sorted(relations(plan)) if r in sizes))
        for plan, error in plans
    )


def explain_in_database(dsn: str, database: str, requests: Sequence[Request]) -> list[Explained]:
    """The same for statements of jobs placed in another database (`database:`): a connection
    there with the same DSN, a READ ONLY transaction, rolled back. When that database cannot be
    reached, each request says so (`unreached`) instead."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    try:
        conn = connect(make_conninfo(dsn, dbname=database))
    except (DbError, psycopg.Error) as exc:
        why = f"cannot connect to database {database}: {exc}"
        return [Explained(unreached=_one_line(why)) for _ in requests]
    with conn:
        try:
            conn.execute("BEGIN READ ONLY")
            return list(explain_statements(conn, requests))
        except psycopg.Error as exc:
            raise _error(exc, f"explaining in database {database} failed") from None
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("ROLLBACK")
