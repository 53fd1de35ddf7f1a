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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .model import JsonObject
from .queryplan import Explained, RelationSize, Request, relations
from .render.pg_cron import END
from .schedule import pg_cron
from .status import SKIP_TABLE, ObanRow, ObanState, PgCronJob, PgCronState, RunRecord, Skip

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


# --- cronspec status: what the executors recorded --------------------------------------------

# cron.job_run_details.status: starting, connecting, sending, running while a run is under way
# (pg_cron's job_metadata.c), then succeeded or failed. oban_jobs.state: see status/model.py.
_PG_DONE = {"succeeded": "succeeded", "failed": "failed"}
_OBAN = {"completed": "succeeded", "discarded": "failed", "retryable": "retrying",
         "cancelled": "cancelled", "executing": "running"}  # fmt: skip


@dataclass(frozen=True)
class Observed:
    """What a status read: the database's clock and role, pg_cron's side and Oban's side (None
    where that executor is not in the database)."""

    now: datetime
    role: str
    database: str
    pg_cron: PgCronState | None
    oban: ObanState | None


def read_status(
    conn: psycopg.Connection[Any],
    project: str,
    runs: int,
    oban: tuple[psycopg.Connection[Any], str, list[str], list[str]] | None,
) -> Observed:
    """Everything `cronspec status` judges, each side in one read-only snapshot: this
    project's pg_cron jobs with their last `runs` runs and recorded skips, and, with `oban` =
    (connection, prefix, tasks, workers), the newest `runs` Oban jobs per task and entry."""
    import psycopg

    what = "pg_cron's jobs"
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        clock = conn.execute("SELECT now(), current_user::text, current_database()::text")
        now, role, database = clock.fetchone() or (datetime.now(UTC), "", "")
        pg = _read_pg_cron(conn, project, runs)
        conn.execute("ROLLBACK")
        oban_state = None
        if oban is not None:
            oban_conn, prefix, tasks, workers = oban
            what = f"{prefix}.oban_jobs"
            oban_conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            oban_state = _read_oban(oban_conn, prefix, tasks, workers, runs)
            oban_conn.execute("ROLLBACK")
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            raise _error(exc, f"missing privilege to read {what}") from None
        raise _error(exc, f"cannot read {what}") from None
    return Observed(now, role, database, pg, oban_state)


def _read_pg_cron(conn: psycopg.Connection[Any], project: str, runs: int) -> PgCronState | None:
    """None when pg_cron is not installed here. A role that is neither a superuser nor exempt
    from row-level security sees only its own jobs and runs in pg_cron's tables: the project's
    jobs of other roles come back with `visible` false."""
    row = conn.execute(
        "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'), "
        "current_user::text, current_database()::text, r.rolsuper OR r.rolbypassrls, "
        "to_regclass('cronspec.owned_job') IS NOT NULL, "
        # cron.timezone is readable by superusers and pg_read_all_settings only
        "CASE WHEN r.rolsuper OR pg_has_role('pg_read_all_settings', 'USAGE') "
        "THEN current_setting('cron.timezone', true) END "
        "FROM pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    assert row is not None
    version, role, database, superuser, bookkeeping, timezone = row
    if version is None:
        return None
    # pg_cron 1.4 accepts cron.timezone and ignores it: it runs every schedule in GMT
    zone = "GMT" if pg_cron(version).version < (1, 5) else (timezone or "")
    jobs: list[PgCronJob] = []
    if bookkeeping:
        found = conn.execute(
            "SELECT o.jobid, o.role::text, o.jobname, o.task, j.jobid IS NOT NULL, j.schedule, "
            "j.active FROM cronspec.owned_job o LEFT JOIN cron.job j ON j.jobid = o.jobid "
            "WHERE o.project = %s ORDER BY o.jobname, o.role",
            (project,),
        ).fetchall()
        history: dict[int, list[RunRecord]] = {}
        # job_run_details has no index on jobid: newest first per job, LIMIT runs each
        for jobid, status, message, start, end in conn.execute(
            "SELECT j.jobid, r.status, r.return_message, r.start_time, r.end_time "
            "FROM unnest(%s::bigint[]) AS j(jobid) CROSS JOIN LATERAL (SELECT d.status, "
            "d.return_message, d.start_time, d.end_time FROM cron.job_run_details d "
            "WHERE d.jobid = j.jobid ORDER BY d.runid DESC LIMIT %s) r",
            ([r[0] for r in found], runs),
        ).fetchall():
            done = _PG_DONE.get(status)
            run = RunRecord(done or "running", start, end if done else None, message or "")  # type: ignore[arg-type]
            history.setdefault(jobid, []).append(run)
        for jobid, owner, jobname, task, seen, schedule, active in found:
            visible = bool(superuser) or owner == role
            runs_of = tuple(history.get(jobid, ()))
            jobs.append(
                PgCronJob(jobid, owner, jobname, task, seen, visible, schedule, active, runs_of)
            )
    skip_table, skips = _skips(conn, project, runs)
    return PgCronState(
        version, zone, database, role, bool(superuser), bool(bookkeeping), tuple(jobs),
        skip_table, skips,
    )  # fmt: skip


def _skips(conn: psycopg.Connection[Any], project: str, runs: int) -> tuple[bool, tuple[Skip, ...]]:
    """The newest `runs` skips per task from cronspec.skipped_run (project, task, skipped_at),
    which `overlap: skip` writes; while that table does not exist there are none."""
    row = conn.execute(
        "SELECT c.oid IS NOT NULL AND has_table_privilege(c.oid, 'SELECT') AND (SELECT count(*) "
        "FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped AND a.attname IN "
        "('project', 'task', 'skipped_at')) = 3 FROM (SELECT to_regclass(%s) AS oid) c",
        (SKIP_TABLE,),
    ).fetchone()
    if row is None or not row[0]:
        return False, ()
    rows = conn.execute(
        f"SELECT task, skipped_at FROM (SELECT s.task, s.skipped_at, row_number() OVER "
        f"(PARTITION BY s.task ORDER BY s.skipped_at DESC) AS n FROM {SKIP_TABLE} s "
        f"WHERE s.project = %s) x WHERE n <= %s ORDER BY skipped_at DESC",
        (project, runs),
    ).fetchall()
    return True, tuple(Skip(task, at) for task, at in rows)


def _read_oban(
    conn: psycopg.Connection[Any], prefix: str, tasks: list[str], workers: list[str], runs: int
) -> ObanState | None:
    """Jobs whose meta names a cronspec task, and jobs Oban's Cron plugin inserted for one of
    `workers` (crontabs written before cronspec set meta cronspec_task); None without
    PREFIX.oban_jobs in this database."""
    from psycopg import sql

    table = f"{prefix}.oban_jobs"
    exists, readable, database = conn.execute(
        "SELECT c.oid IS NOT NULL, c.oid IS NOT NULL AND has_table_privilege(c.oid, 'SELECT'), "
        "current_database()::text "
        "FROM (SELECT to_regclass(format('%%I.oban_jobs', %s::text)) AS oid) c",
        (prefix,),
    ).fetchone() or (False, False, "")
    if not exists:
        return None
    if not readable:
        raise DbError(f"missing privilege to read {table}", hint=f"GRANT SELECT ON {table} TO it")
    query = sql.SQL(
        "SELECT id, state::text, worker, args::text, meta->>'cronspec_task', "
        "meta @> '{{\"cron\": true}}', meta->>'cron_expr', attempt, max_attempts, inserted_at, "
        "attempted_at, completed_at, discarded_at, cancelled_at, errors[array_length(errors, 1)] "
        "FROM (SELECT j.*, row_number() OVER (PARTITION BY meta->>'cronspec_task', worker, "
        "meta->>'cron_expr', CASE WHEN meta ? 'cronspec_task' THEN NULL ELSE args END "
        "ORDER BY id DESC) AS n FROM {table} j WHERE meta->>'cronspec_task' = ANY(%s) "
        "OR (meta @> '{{\"cron\": true}}' AND worker = ANY(%s))) x WHERE n <= %s ORDER BY id DESC"
    ).format(table=sql.Identifier(prefix, "oban_jobs"))
    rows = conn.execute(query, (tasks, workers, runs)).fetchall()
    return ObanState(table, database, tuple(_oban_row(r) for r in rows))


def _oban_row(r: tuple[Any, ...]) -> ObanRow:
    """One oban_jobs row; Oban keeps UTC in `timestamp without time zone`."""
    (job_id, state, worker, args, task, cron, expr, attempt, max_attempts, inserted, attempted,
     completed, discarded, cancelled, error) = r  # fmt: skip
    status = _OBAN.get(state, "waiting")  # available, scheduled
    ends = {"succeeded": completed, "failed": discarded, "cancelled": cancelled}
    end, message = ends.get(status), ""
    if isinstance(error, dict):
        message = str(error.get("error", ""))
        if status == "retrying" and isinstance(error.get("at"), str):
            end = datetime.fromisoformat(error["at"]).replace(tzinfo=None)
    utc = {k: v if v is None else v.replace(tzinfo=UTC) for k, v in
           (("start", attempted), ("end", end), ("due", inserted))}  # fmt: skip
    run = RunRecord(status, utc["start"], utc["end"], message, utc["due"])  # type: ignore[arg-type]
    canonical = JsonObject.of(json.loads(args)).text
    return ObanRow(job_id, worker, canonical, task, bool(cron), expr, attempt, max_attempts, run)


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
