"""`cronspec status`: what the executors recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..model import JsonObject
from ..schedule import pg_cron
from ..status import SKIP_TABLE, ObanRow, ObanState, PgCronJob, PgCronState, RunRecord, Skip
from .connection import DbError, _error

if TYPE_CHECKING:
    import psycopg

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
    skip_table, skip_pids, skips = _skips(conn, project, runs, [j.jobid for j in jobs])
    return PgCronState(
        version, zone, database, role, bool(superuser), bool(bookkeeping), tuple(jobs),
        skip_table, skips, skip_pids,
    )  # fmt: skip


def _skips(
    conn: psycopg.Connection[Any], project: str, runs: int, jobids: list[int]
) -> tuple[bool, bool, tuple[Skip, ...]]:
    """(the table exists, it has `pid`, the skips) from cronspec.skipped_run (project, task,
    skipped_at, role, pid), which `overlap: skip` writes: each skip with the job whose run it
    was (cron.job_run_details.job_pid = pid; of the runs a reused pid had, the one that started
    nearest the skip: pg_cron stamps start_time once it has handed the command over, and on a
    loaded server that can be seconds after the run began), the newest `runs` per job, and per task
    those of no job's run. While that table does not exist there are none; without `pid` (as
    this round's earlier build made it) no skip has a job."""
    row = conn.execute(
        "SELECT c.oid IS NOT NULL AND has_table_privilege(c.oid, 'SELECT') AND (SELECT count(*) "
        "FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped AND a.attname IN "
        "('project', 'task', 'skipped_at')) = 3, EXISTS (SELECT 1 FROM pg_attribute a WHERE "
        "a.attrelid = c.oid AND NOT a.attisdropped AND a.attname = 'pid') "
        "FROM (SELECT to_regclass(%s) AS oid) c",
        (SKIP_TABLE,),
    ).fetchone()
    if row is None or not row[0]:
        return False, False, ()
    pids = bool(row[1])
    job = (
        "(SELECT d.jobid FROM cron.job_run_details d WHERE d.job_pid = s.pid "
        "AND d.jobid = ANY(%s) ORDER BY abs(extract(epoch FROM s.skipped_at - "
        "coalesce(d.start_time, s.skipped_at))) LIMIT 1)"
        if pids
        else "NULL::bigint"
    )
    rows = conn.execute(
        f"SELECT task, skipped_at, jobid FROM (SELECT task, skipped_at, jobid, row_number() "
        f"OVER (PARTITION BY task, jobid ORDER BY skipped_at DESC) AS n FROM (SELECT s.task, "
        f"s.skipped_at, {job} AS jobid FROM {SKIP_TABLE} s WHERE s.project = %s) a) x "
        f"WHERE n <= %s ORDER BY skipped_at DESC",
        ((jobids,) if pids else ()) + (project, runs),
    ).fetchall()
    return True, pids, tuple(Skip(task, at, jobid) for task, at, jobid in rows)


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
