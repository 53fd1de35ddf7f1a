"""The one module that talks to PostgreSQL: read the live state, compare it, apply the migration.

The live state is read into the same values the plan holds (`PgJob`, procedure bodies), so the
comparison is plain Python. Every database failure becomes one `DbError` line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .classify import analyze
from .plan import Plan
from .render.pg_cron import META

if TYPE_CHECKING:
    import psycopg


class DbError(Exception):
    """A connection, privilege or state problem, said in one line."""


@dataclass(frozen=True)
class LiveJob:
    jobid: int
    jobname: str
    schedule: str
    command: str
    database: str
    active: bool


@dataclass
class LiveState:
    version: str
    jobs: dict[str, LiveJob] = field(default_factory=dict)  # current user's jobs by name
    managed_jobs: set[str] = field(default_factory=set)
    procedures: dict[tuple[str, str], str] = field(default_factory=dict)  # (schema, name) -> src
    managed_procedures: set[tuple[str, str]] = field(default_factory=set)
    database: str = ""


@dataclass(frozen=True)
class Change:
    action: Literal["add", "change", "remove", "clash"]
    kind: Literal["job", "procedure"]
    name: str
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "details": list(self.details),
        }


def connect(dsn: str) -> psycopg.Connection[Any]:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise DbError("psycopg is not installed: pip install 'cronspec[db]'") from exc
    try:
        return psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as exc:
        raise DbError(f"cannot connect: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().split("\n")[0]
    return text or type(exc).__name__


def read_state(conn: psycopg.Connection[Any]) -> LiveState:
    import psycopg

    try:
        with conn.cursor() as cur:
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")
            row = cur.fetchone()
            if row is None:
                raise DbError(
                    "pg_cron is not installed in this database; run the migration in "
                    "the database named by cron.database_name, where CREATE EXTENSION "
                    "pg_cron works"
                )
            state = LiveState(version=str(row[0]))
            cur.execute("SELECT current_database()")
            state.database = str(cur.fetchone()[0])  # type: ignore[index]
            cur.execute(
                "SELECT jobid, jobname, schedule, command, database, active FROM cron.job "
                "WHERE username = current_user AND jobname IS NOT NULL"
            )
            for jobid, name, schedule, command, database, active in cur.fetchall():
                state.jobs[name] = LiveJob(jobid, name, schedule, command, database, active)
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{META}.managed_job",))
            if cur.fetchone()[0]:  # type: ignore[index]
                cur.execute(f"SELECT jobname FROM {META}.managed_job WHERE username = current_user")
                state.managed_jobs = {r[0] for r in cur.fetchall()}
                cur.execute(f"SELECT schema_name, procedure_name FROM {META}.managed_procedure")
                state.managed_procedures = {(r[0], r[1]) for r in cur.fetchall()}
            cur.execute(
                "SELECT n.nspname, p.proname, p.prosrc FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE p.prokind = 'p' AND p.pronargs = 0"
            )
            state.procedures = {(r[0], r[1]): r[2] for r in cur.fetchall()}
        conn.rollback()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DbError(
            f"missing privilege: {_one_line(exc)}; the role needs USAGE on schema "
            "cron and read access to cronspec's tables"
        ) from None
    except psycopg.Error as exc:
        raise DbError(_one_line(exc)) from None
    return state


def _same_body(live: str, wanted: str) -> bool:
    if live == wanted:
        return True
    return analyze(live).fingerprint == analyze(wanted).fingerprint


def compare(plan: Plan, state: LiveState) -> list[Change]:
    """What applying the plan's migration would do to this database, in a stable order."""
    changes: list[Change] = []
    wanted_jobs = {job.jobname: job for job in plan.jobs}
    for name, job in sorted(wanted_jobs.items()):
        live = state.jobs.get(name)
        if live is None:
            added: tuple[str, ...] = (f"schedule {job.schedule}", f"command {job.command}")
            if name in state.managed_jobs:
                added = ("unscheduled outside cronspec", *added)
            changes.append(Change("add", "job", name, added))
            continue
        if name not in state.managed_jobs:
            changes.append(
                Change(
                    "clash",
                    "job",
                    name,
                    (
                        "a job of this name exists that cronspec did not create; the migration "
                        "will refuse to take it over",
                    ),
                )
            )
            continue
        details: list[str] = []
        if live.schedule != job.schedule:
            details.append(f"schedule {live.schedule} -> {job.schedule}")
        if live.command != job.command:
            details.append(f"command {live.command} -> {job.command}")
        wanted_database = job.database or state.database
        if live.database != wanted_database:
            details.append(f"database {live.database} -> {wanted_database}")
        if live.active != job.active:
            details.append(f"active {str(live.active).lower()} -> {str(job.active).lower()}")
        if details:
            changes.append(Change("change", "job", name, tuple(details)))
    for name in sorted(state.managed_jobs - set(wanted_jobs)):
        if name in state.jobs:
            changes.append(
                Change("remove", "job", name, (f"schedule {state.jobs[name].schedule}",))
            )
    wanted_procs = {(p.schema, p.name): p for p in plan.procedures}
    for key, proc in sorted(wanted_procs.items()):
        label = f"{key[0]}.{key[1]}"
        live_src = state.procedures.get(key)
        if live_src is None:
            changes.append(Change("add", "procedure", label))
        elif key not in state.managed_procedures:
            changes.append(
                Change(
                    "clash",
                    "procedure",
                    label,
                    ("a procedure of this name exists that cronspec did not create",),
                )
            )
        elif not _same_body(live_src, proc.body):
            changes.append(Change("change", "procedure", label, ("body",)))
    for key in sorted(state.managed_procedures - set(wanted_procs)):
        if key in state.procedures:
            changes.append(Change("remove", "procedure", f"{key[0]}.{key[1]}"))
    return changes


def drift(plan: Plan, state: LiveState) -> list[Change]:
    """Where the live database differs from the generated state (hand edits included)."""
    return [c for c in compare(plan, state) if c.action != "clash"]


def apply_sql(conn: psycopg.Connection[Any], sql: str) -> None:
    """Run the migration file as is: it holds its own BEGIN and COMMIT."""
    import psycopg

    conn.autocommit = True
    try:
        conn.execute(sql.encode("utf-8"))  # no parameters: one simple query, many statements
    except psycopg.Error as exc:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        privilege = isinstance(exc, psycopg.errors.InsufficientPrivilege)
        what = "missing privilege" if privilege else "migration failed"
        raise DbError(f"{what}, nothing was changed: {_one_line(exc)}") from None
