"""The one module that talks to PostgreSQL: run the migration, for real or rolled back, and read
what it did.

There is no second diff here: the migration decides every action itself and records it in the
temporary table `cronspec_action`. A plan runs the migration without its final COMMIT, reads
that table and rolls back; an apply reads it and commits. Every database failure becomes a
`DbError` carrying the server's message, DETAIL and HINT.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .render.pg_cron import END

if TYPE_CHECKING:
    import psycopg

    from .importer import CronJob, PgCronServer

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
    conn: psycopg.Connection[Any], sql: str, *, plan: bool, adopt: bool = False
) -> Report:
    """Run a migration file as is but for its COMMIT; read its actions; commit or roll back.

    `plan` runs it with `cronspec.mode = plan` (@startup tasks are listed, not run; clashes are
    listed, not raised) and always rolls back. `adopt` sets `cronspec.adopt = on`.
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
    return Report(role, actions)


# --- cronspec import: the pg_cron jobs a role can see --------------------------------------


def read_cron_jobs(conn: psycopg.Connection[Any], role: str | None = None) -> ImportSource:
    """Every job in `cron.job` the connection may see (one role's with `role`), marked with its
    owner where cronspec's bookkeeping records it, and what the import must know of the server.

    Read in one REPEATABLE READ transaction, so jobs and bookkeeping are of one instant.
    """
    import psycopg

    from .importer import CronJob, PgCronServer

    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            head = conn.execute(
                "SELECT current_database(), current_user::text, "
                "(SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'), "
                "(SELECT setting FROM pg_settings WHERE name = 'cron.timezone'), "
                "to_regclass('cronspec.owned_job') IS NOT NULL, "
                "coalesce(has_table_privilege(to_regclass('cronspec.managed_job'), 'SELECT'), "
                "false)"
            ).fetchone()
            assert head is not None
            database, me, version, zone, owned, legacy = head
            if version is None:
                raise DbError(
                    f"pg_cron is not installed in database {database}: connect to the database "
                    "named by cron.database_name"
                )
            owners: dict[int, str] = {}
            if owned:
                for jobid, project, owner in conn.execute(
                    "SELECT jobid, project, role::text FROM cronspec.owned_job"
                ):
                    owners[int(jobid)] = f"cronspec project {project} (role {owner})"
            rows = conn.execute(
                "SELECT j.jobid, j.jobname::text, j.schedule, j.command, j.database, "
                "j.username::text, j.active"
                + (
                    ", EXISTS (SELECT 1 FROM cronspec.managed_job m "
                    "WHERE m.username = j.username AND m.jobname = j.jobname)"
                    if legacy
                    else ", false"
                )
                + " FROM cron.job j WHERE %(role)s::text IS NULL OR j.username = %(role)s "
                "ORDER BY j.jobid",
                {"role": role},
            ).fetchall()
    except psycopg.Error as exc:
        raise _error(exc, "cannot read cron.job") from None
    jobs = tuple(
        CronJob(
            int(r[0]),
            r[1],
            str(r[2]),
            str(r[3]),
            str(r[4]),
            str(r[5]),
            bool(r[6]),
            owners.get(int(r[0])) or ("an earlier cronspec release" if r[7] else None),
        )
        for r in rows
    )
    return ImportSource(jobs, PgCronServer(str(database), str(version), zone, str(me)))


@dataclass(frozen=True)
class ImportSource:
    """What `cronspec import --dsn` read: the jobs, and the server they run on."""

    jobs: tuple[CronJob, ...]
    server: PgCronServer
