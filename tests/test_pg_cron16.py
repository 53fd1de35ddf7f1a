"""The pg_cron 1.6.7 server (with pg_net 0.20.5) for real, and pg_partman on both servers.

What cronspec allows only for pg_cron 1.5+/1.6 is run here on a real 1.6.7: an `N seconds` job
fires while the test waits, `$` is accepted, job names over 63 bytes are kept whole. pg_net
sends a real HTTP request (to a server in this test) from SQL and from a pg_cron job. Debian's
pg_partman, copied into the 1.6 prefix, creates partitions on both servers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support import servers
from support.common import PSQL
from support.dbtools import poll
from support.httpd import Seen, recording_server
from support.pgcluster import PgCluster
from support.servers import Server

from cronspec.api import compile_specs

pytestmark = pytest.mark.db

Project = Callable[..., Path]
WAIT = 20.0  # seconds: pg_cron's launcher starts ~1 s after the server; a job takes ms


def rows(dsn: str, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql.encode() if params is None else sql, params)
        return cur.fetchall() if cur.description is not None else []


def migration(project: Project, specs: dict[str, str], version: str = "1.6") -> str:
    root = project(specs, f'[pg_cron]\nversion = "{version}"\n')
    compiled = compile_specs(root)
    assert compiled.ok, [str(d) for d in compiled.diagnostics]
    return compiled.files["pg_cron.sql"]


def sql_task(name: str, schedule: str, body: str) -> str:
    lines = [f"name: {name}", "description: d", "kind: sql", f"schedule: {schedule}", "sql: |"]
    return "".join(line + "\n" for line in lines) + f"  {body}\n"


def test_a_seconds_job_fires(
    cluster16: PgCluster, db16: str, psql16: PSQL, project: Project
) -> None:
    rows(db16, "CREATE TABLE ticks (at timestamptz NOT NULL DEFAULT clock_timestamp())")
    psql16(
        sql=migration(
            project,
            {"tick.yaml": sql_task("tick", '"1 second"', "INSERT INTO ticks DEFAULT VALUES;")},
        )
    )
    assert rows(db16, "SELECT jobname, schedule, active FROM cron.job") == [
        ("tick", "1 seconds", True)
    ]
    runs = poll(
        db16,
        "SELECT status, return_message FROM cron.job_run_details ORDER BY runid",
        lambda got: len(got) >= 2,
    )
    if len(runs) < 2:  # say what the server was doing, for a failure seen once under load
        activity = rows(db16, "SELECT pid, backend_type, state, query FROM pg_stat_activity")
        log = cluster16.server_log()[-3000:]
        raise AssertionError(f"the job ran {len(runs)} times in {WAIT} s: {activity}\n{log}")
    assert all(status == "succeeded" for status, _ in runs), runs
    ((count, spread),) = rows(db16, "SELECT count(*), max(at) - min(at) FROM ticks")
    assert count >= 2
    assert spread.total_seconds() >= 0.5  # separate runs, a second apart


@pytest.mark.parametrize("text", ["0 12 $ * *", "30 seconds"])
def test_pg_cron_16_syntax(pg_server: Server, pg_db: str, text: str) -> None:
    """`$` and `N seconds`: 1.6.7 takes them, 1.4.2 refuses them (cronspec's version rule)."""
    with psycopg.connect(pg_db, autocommit=True) as conn:
        try:
            conn.execute("SELECT cron.schedule('syntax', %s, 'SELECT 1')", (text,))
        except psycopg.errors.InvalidParameterValue as exc:
            accepted, message = False, str(exc)
        else:
            accepted, message = True, ""
    assert accepted == (pg_server.target == "1.6"), message


def test_last_day_of_month_through_the_migration(db16: str, psql16: PSQL, project: Project) -> None:
    psql16(sql=migration(project, {"eom.yaml": sql_task("eom", '"0 12 $ * *"', "SELECT 1;")}))
    assert rows(db16, "SELECT jobname, schedule FROM cron.job") == [("eom", "0 12 $ * *")]


LONG = "a" * 70  # two names sharing their first 63 bytes


def test_long_job_names(pg_server: Server, pg_db: str) -> None:
    """1.4.2 cuts names to 63 bytes and merges the two jobs; 1.6.7 keeps both, whole."""
    for suffix in ("-one", "-two"):
        rows(pg_db, f"SELECT cron.schedule('{LONG}{suffix}', '0 0 1 1 *', 'SELECT 1')")
    names = [name for (name,) in rows(pg_db, "SELECT jobname FROM cron.job ORDER BY jobname")]
    if pg_server.target == "1.6":
        assert names == [LONG + "-one", LONG + "-two"]
    else:
        assert names == [LONG[:63]]


def test_job_names_over_63_bytes_through_the_migration(
    db16: str, psql16: PSQL, project: Project
) -> None:
    name = "n" * 63
    spec = sql_task(name, '["0 1 * * *", "0 2 * * *"]', "SELECT 1;")
    psql16(sql=migration(project, {f"{name}.yaml": spec}))
    got = rows(db16, "SELECT jobname, schedule FROM cron.job ORDER BY schedule")
    assert got == [(name, "0 1 * * *"), (name + ":2", "0 2 * * *")]
    assert len((name + ":2").encode()) == 65


# -- pg_net ----------------------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[tuple[str, Seen]]:
    with recording_server() as server:
        yield server


def test_pg_net_sends_http_from_sql_and_from_a_job(
    db16: str, http_server: tuple[str, Seen]
) -> None:
    url, seen = http_server
    rows(db16, "CREATE EXTENSION IF NOT EXISTS pg_net")
    assert rows(db16, "SELECT extversion FROM pg_extension WHERE extname = 'pg_net'") == [
        ("0.20.4",)  # pg_net 0.20.5's Makefile still says EXTVERSION = 0.20.4
    ]
    ((request_id,),) = rows(db16, "SELECT net.http_get(%s)", (url + "/from-sql",))
    got = poll(
        db16,
        f"SELECT status_code, content FROM net._http_response WHERE id = {int(request_id)}",
        bool,
    )
    assert got == [(200, '{"path": "/from-sql"}')]
    # The Supabase pattern: a pg_cron job that posts through pg_net.
    command = f"SELECT net.http_post('{url}/from-cron', '{{\"n\": 1}}'::jsonb)"
    rows(db16, "SELECT cron.schedule('post', '1 seconds', %s)", (command,))
    deadline = time.monotonic() + WAIT
    while not any(path == "/from-cron" for _, path, _ in seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    posts = [(method, body) for method, path, body in seen if path == "/from-cron"]
    assert posts and posts[0] == ("POST", b'{"n": 1}')


# -- pg_partman on both servers --------------------------------------------------------------------


def test_pg_partman_creates_partitions(pg_server: Server, pg_db: str, pg_psql: PSQL) -> None:
    pg_psql(
        sql="""
        CREATE SCHEMA partman;
        CREATE EXTENSION pg_partman SCHEMA partman;
        CREATE TABLE public.events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
        SELECT partman.create_parent('public.events', 'at', 'native', 'daily', p_premake := 2);
        """
    )
    pg_psql(sql="CALL partman.run_maintenance_proc()")  # commits inside the procedure
    (version,) = rows(pg_db, "SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'")
    debian = servers.debian_version("postgresql-15-partman")
    assert debian is not None and version == (debian.split("-")[0],)
    children = rows(
        pg_db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.events'::regclass"
    )
    assert children[0][0] >= 5  # premade days either side of today, plus the default partition
    rows(pg_db, "INSERT INTO public.events VALUES (1, now())")
    assert rows(pg_db, "SELECT count(*) FROM ONLY public.events") == [(0,)]
