"""Run the migration, for real or rolled back, and read what it did from `cronspec_action`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..queryplan import Explained, Request
from ..render.pg_cron import END
from .connection import _error
from .explain import explain_statements

if TYPE_CHECKING:
    import psycopg

# What the migration records; `unchanged` and `run` (@startup calls) change nothing it owns.
ACTIONS = ("add", "change", "remove", "adopt", "clash", "unchanged", "run")
CHANGES = frozenset({"add", "change", "remove", "adopt"})


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
