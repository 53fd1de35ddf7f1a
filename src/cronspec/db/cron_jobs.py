"""`cronspec import --dsn`: the pg_cron jobs a role can see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .connection import DbError, _error

if TYPE_CHECKING:
    import psycopg

    from ..importer import CronJob, PgCronServer


def read_cron_jobs(conn: psycopg.Connection[Any], role: str | None = None) -> ImportSource:
    """Every job in `cron.job` the connection may see (one role's with `role`), marked with its
    owner where cronspec's bookkeeping records it, and what the import must know of the server.

    Read in one REPEATABLE READ transaction, so jobs and bookkeeping are of one instant.
    """
    import psycopg

    from ..importer import CronJob, PgCronServer

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
