"""Issue 11 on the real servers: what the migration now guarantees, with pg_cron really running
the jobs (pg_cron 1.6.7's `N seconds` schedules fire while the test waits).

- the COPY payload, on a database set to standard_conforming_strings = off: no program runs, and
  the job does what it does with the setting on (every procedure fixes the setting);
- pg_partman's committing `CALL partman.run_maintenance_proc()`, the job's own command: the job
  succeeds and makes the partition;
- pg_net: a job posts to an HTTP server of this test; without pg_net the migration fails with
  one line naming the task;
- the live checks: a relation a body names is missing, or partitioned where it must not be, and
  the whole migration rolls back naming task, spec and relation; `plan` says the same;
- the upgrade path of procedures: a fingerprint computed otherwise rewrites only the bookkeeping.

Each test but the last failed on main (the payload ran its program; the wrapper made pg_partman
fail at every run; pg_net tasks did not compile; a missing view applied as "no changes").
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.dbtools import execute, login_role, plan_actions, snapshot
from support.httpd import Seen, recording_server
from support.pgcluster import PgCluster
from support.servers import Server

from cronspec import api
from cronspec import db as live_db
from cronspec.api import compile_specs

pytestmark = pytest.mark.db

Project = Callable[..., Path]
WAIT = 30.0  # seconds; a job of `1 seconds` fires within about one


def rows(dsn: str, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql.encode() if params is None else sql, params)
        return cur.fetchall() if cur.description is not None else []


def spec(name: str, body: str, schedule: str = '"1 seconds"', extra: str = "") -> str:
    lines = [f"name: {name}", "description: d", "kind: sql", f"schedule: {schedule}", extra]
    indented = "".join(f"  {line}\n" for line in body.strip().split("\n"))
    return "".join(line + "\n" for line in lines if line) + "sql: |\n" + indented


def project_of(project: Project, specs: dict[str, str], version: str = "1.6") -> Path:
    return project(
        {f"{n}.yaml": text for n, text in specs.items()}, f'[pg_cron]\nversion = "{version}"\n'
    )


def migration(root: Path) -> str:
    compiled = compile_specs(root)
    assert compiled.ok, [str(d) for d in compiled.diagnostics]
    return compiled.files["pg_cron.sql"]


def apply(dsn: str, root: Path) -> live_db.Report:
    with live_db.connect(dsn) as conn:
        return live_db.run_migration(conn, migration(root), plan=False)


def runs(dsn: str, job: str, count: int = 1) -> list[tuple[str, str]]:
    """The first `count` finished runs of `job` (status, return message), waiting for them."""
    sql = (
        "SELECT d.status, d.return_message FROM cron.job_run_details d JOIN cron.job j "
        "USING (jobid) WHERE j.jobname = %s AND d.status IN ('succeeded', 'failed') "
        "ORDER BY d.runid LIMIT %s"
    )
    deadline = time.monotonic() + WAIT
    while True:
        got = [(str(s), str(m)) for s, m in rows(dsn, sql, (job, count))]
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def unschedule_all(dsn: str) -> None:
    rows(dsn, "SELECT cron.unschedule(jobid) FROM cron.job")


@pytest.fixture
def scratch(cluster16: PgCluster) -> Iterator[Path]:
    """A folder the server (its programs run as postgres) may write to."""
    folder = Path(cluster16.host) / f"scratch-{time.monotonic_ns()}"
    folder.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# -- standard_conforming_strings ------------------------------------------------------------

PAYLOAD = (
    "INSERT INTO landed SELECT 'x\\' AS a, $$ ' ; COPY (SELECT 1) TO PROGRAM 'touch @MARK@' ; "
    "-- $$ AS b;"
)


def test_the_copy_payload_runs_no_program_on_a_database_with_scs_off(
    db16: str, cluster16: PgCluster, project: Project, scratch: Path
) -> None:
    mark = scratch / "ran"
    body = PAYLOAD.replace("@MARK@", str(mark))
    rows(db16, "CREATE TABLE landed (a text, b text)")
    root = project_of(project, {"payload": spec("payload", body)})
    rows(db16, "ALTER DATABASE cronspec_test SET standard_conforming_strings = off")
    try:
        # a fresh session, as pg_cron's job gets: the database's setting is off
        assert rows(db16, "SHOW standard_conforming_strings") == [("off",)]
        apply(db16, root)  # the migration itself means the same under either setting
        assert runs(db16, "payload") == [("succeeded", "CALL")]
    finally:
        unschedule_all(db16)
        rows(db16, "ALTER DATABASE cronspec_test RESET standard_conforming_strings")
    assert not mark.exists(), "the job ran a program"
    landed = rows(db16, "SELECT a, b FROM landed LIMIT 1")
    assert landed == [("x\\", f" ' ; COPY (SELECT 1) TO PROGRAM 'touch {mark}' ; -- ")]
    assert rows(
        db16, "SELECT p.proconfig FROM pg_proc p WHERE p.oid = 'cronspec.payload()'::regprocedure"
    ) == [(["standard_conforming_strings=on"],)]


# -- statements that run at top level -------------------------------------------------------


def partitions(dsn: str) -> int:
    sql = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.events'::regclass"
    return int(rows(dsn, sql)[0][0])


def test_pg_partman_maintenance_runs_as_the_jobs_own_command(db16: str, project: Project) -> None:
    rows(
        db16,
        "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman; "
        "CREATE TABLE public.events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at)",
    )
    rows(db16, "SELECT partman.create_parent('public.events', 'at', 'native', 'daily')")
    # without data, pg_partman 4 makes no new time partitions unless told to
    rows(db16, "UPDATE partman.part_config SET infinite_time_partitions = true")
    made = partitions(db16)
    (newest,) = rows(
        db16,
        "SELECT max(c.oid::regclass::text) FROM pg_inherits i JOIN pg_class c ON c.oid = "
        "i.inhrelid WHERE i.inhparent = 'public.events'::regclass AND c.relname <> "
        "'events_default'",
    )[0]
    rows(db16, f"DROP TABLE {newest}")  # maintenance must make it again
    root = project_of(
        project, {"partman": spec("partman", "CALL partman.run_maintenance_proc();", '"2 seconds"')}
    )
    try:
        apply(db16, root)
        assert runs(db16, "partman") == [("succeeded", "CALL")]
        assert rows(db16, "SELECT command FROM cron.job WHERE jobname = 'partman'") == [
            ("CALL partman.run_maintenance_proc()",)
        ]
    finally:
        unschedule_all(db16)
    # the dropped partition is back (how many more pg_partman premakes depends on the hour)
    assert rows(db16, f"SELECT to_regclass('{newest}') IS NOT NULL") == [(True,)]
    assert partitions(db16) >= made


def test_bodies_postgresql_runs_only_at_top_level_really_run(db16: str, project: Project) -> None:
    rows(
        db16,
        "CREATE TABLE events (kind text); INSERT INTO events VALUES ('a'), ('a'), ('b');"
        "CREATE TABLE daily_totals (kind text, n bigint);"
        "CREATE TABLE pt (id int) PARTITION BY RANGE (id);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
        "CREATE INDEX ON pt (id);"
        "CREATE PROCEDURE commits() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;",
    )
    specs = {
        # a LANGUAGE sql procedure cannot use a table its own body creates
        "totals": spec(
            "totals",
            "CREATE TEMP TABLE t AS SELECT kind, count(*) AS n FROM events GROUP BY kind;\n"
            "INSERT INTO daily_totals SELECT kind, n FROM t;",
        ),
        "reindex": spec("reindex", "REINDEX TABLE pt;"),  # partitioned: refused in a block
        "commits": spec("commits", "CALL commits();"),
    }
    try:
        apply(db16, project_of(project, specs))
        assert rows(
            db16, "SELECT count(*) FROM pg_proc WHERE pronamespace = 'cronspec'::regnamespace"
        ) == [(0,)]
        assert runs(db16, "totals") == [("succeeded", "INSERT 0 2")]
        assert runs(db16, "reindex") == [("succeeded", "REINDEX")]
        assert runs(db16, "commits") == [("succeeded", "CALL")]
    finally:
        unschedule_all(db16)


def test_a_partitioned_table_among_other_statements_is_refused_live(
    pg_server: Server, pg_db: str, project: Project
) -> None:
    rows(pg_db, "CREATE TABLE pt (id int) PARTITION BY RANGE (id); CREATE TABLE t (id int)")
    specs = {"both": spec("both", "REINDEX TABLE pt;\nANALYZE t;", "'@daily'")}
    root = project_of(project, specs, pg_server.target)
    before = snapshot(pg_db, catalog=False)
    with pytest.raises(live_db.DbError) as info:
        apply(pg_db, root)
    assert info.value.message == (
        "migration failed, nothing was changed: cronspec: task both (specs/both.yaml): pt is "
        "partitioned, and REINDEX TABLE of a partitioned table cannot run inside a transaction "
        "block (line 1 of its SQL); give it a task of its own"
    )
    assert snapshot(pg_db, catalog=False) == before


# -- pg_net ---------------------------------------------------------------------------------


@pytest.fixture
def http_server() -> Iterator[tuple[str, Seen]]:
    with recording_server() as server:
        yield server


def webhook(url: str, schedule: str = '"1 seconds"') -> str:
    body = (
        f"SELECT net.http_post(url := '{url}/hook',\n"
        "  body := jsonb_build_object('rows', (SELECT count(*) FROM items)));"
    )
    return spec("webhook", body, schedule)


def test_a_job_posts_through_pg_net_to_this_tests_server(
    db16: str, project: Project, http_server: tuple[str, Seen]
) -> None:
    url, seen = http_server
    rows(db16, "CREATE EXTENSION IF NOT EXISTS pg_net; CREATE TABLE items (id int)")
    rows(db16, "INSERT INTO items VALUES (1), (2), (3)")
    root = project_of(project, {"webhook": webhook(url)})
    report = api.explain(root)[0][0]
    assert "pg_net's background worker sends it asynchronously" in report["reasons"][1]
    try:
        apply(db16, root)
        assert runs(db16, "webhook")[0][0] == "succeeded"
        deadline = time.monotonic() + WAIT
        while not seen and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        unschedule_all(db16)
    method, path, body = seen[0]
    assert (method, path, json.loads(body)) == ("POST", "/hook", {"rows": 3})


def test_without_pg_net_the_migration_fails_in_one_line_naming_the_task(
    db: str, project: Project, cli: Any
) -> None:
    rows(db, "CREATE TABLE items (id int)")
    root = project_of(project, {"webhook": webhook("http://127.0.0.1:9", "'@daily'")}, "1.4")
    api.compile_project(root)
    before = snapshot(db, catalog=False)
    for command, fails in (("plan", "the migration fails"), ("apply", "migration failed")):
        code, out, err = cli(root, command, "--dsn", db)
        assert code == 1, (out, err)
        assert err.strip().splitlines() == [
            f"cronspec: error: {fails}, "
            "nothing was changed: cronspec: task webhook (specs/webhook.yaml): it calls "
            "net.http_post(), but pg_net is not installed in database cronspec_test (CREATE "
            "EXTENSION pg_net, with pg_net in shared_preload_libraries)"
        ]
    assert snapshot(db, catalog=False) == before


# -- relations that must exist --------------------------------------------------------------


def test_a_missing_relation_rolls_everything_back_and_plan_says_so_first(
    pg_server: Server, pg_db: str, project: Project
) -> None:
    rows(pg_db, "CREATE TABLE kept (id int); CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a")
    specs = {
        "fine": spec("fine", "UPDATE kept SET id = id;", "'@daily'"),
        "refresh": spec("refresh", "REFRESH MATERIALIZED VIEW mv;", "'@daily'"),
    }
    root = project_of(project, specs, pg_server.target)
    apply(pg_db, root)  # everything there: it applies
    rows(pg_db, "DROP MATERIALIZED VIEW mv")  # PostgreSQL does not check REFRESH's target
    specs["truncate"] = spec("truncate", "TRUNCATE gone_table;", "'@daily'")
    root = project_of(project, specs, pg_server.target)
    api.compile_project(root)
    before = snapshot(pg_db, catalog=False)
    # plan, the migration rolled back, already says what apply would
    planned = api.live(root, "plan", pg_db)
    assert planned.error is not None
    first = (
        "cronspec: task refresh (specs/refresh.yaml): relation mv does not exist "
        '(REFRESH MATERIALIZED VIEW, line 1 of its SQL; search_path "$user", public)'
    )
    assert planned.error.message == f"the migration fails, nothing was changed: {first}"
    assert planned.error.detail == (
        "1 more: cronspec: task truncate (specs/truncate.yaml): relation gone_table does not "
        'exist (TRUNCATE TABLE, line 1 of its SQL; search_path "$user", public)'
    )
    applied = api.live(root, "apply", pg_db)
    assert applied.error is not None
    assert applied.error.message == f"migration failed, nothing was changed: {first}"
    assert snapshot(pg_db, catalog=False) == before


def test_relations_are_found_in_the_jobs_search_path(pg_db: str, project: Project) -> None:
    rows(pg_db, "CREATE SCHEMA app; CREATE TABLE app.queue (id int)")
    role = login_role(pg_db, "cronspec_sp")
    rows(pg_db, "GRANT USAGE, CREATE ON SCHEMA app TO cronspec_sp")
    rows(pg_db, "ALTER TABLE app.queue OWNER TO cronspec_sp")
    rows(pg_db, "ALTER ROLE cronspec_sp IN DATABASE cronspec_test SET search_path = app, public")
    try:
        root = project_of(project, {"drain": spec("drain", "TRUNCATE queue;", "'@daily'")}, "1.4")
        # the session that applies reads another path; the job's is the role's: found
        session = psycopg.conninfo.make_conninfo(role, options="-c search_path=public")
        apply(session, root)
        assert rows(pg_db, "SELECT command FROM cron.job WHERE jobname = 'drain'") == [
            ('CALL "cronspec"."drain"()',)
        ]
        rows(pg_db, "ALTER ROLE cronspec_sp IN DATABASE cronspec_test RESET search_path")
        with pytest.raises(live_db.DbError) as info:
            apply(role, root)
        assert "relation queue does not exist (TRUNCATE TABLE" in info.value.message
    finally:
        rows(pg_db, "ALTER ROLE cronspec_sp IN DATABASE cronspec_test RESET search_path")
        rows(pg_db, "SELECT cron.unschedule(jobid) FROM cron.job WHERE username = 'cronspec_sp'")


# -- upgrades -------------------------------------------------------------------------------


PROCS = (
    "SELECT xmin::text, prosrc FROM pg_proc WHERE pronamespace = 'cronspec'::regnamespace "
    "ORDER BY oid"
)


def test_a_body_fingerprinted_otherwise_is_unchanged(db: str, example: Path) -> None:
    """Another release's fingerprint of the same body: nothing is re-created, only the
    bookkeeping learns the new fingerprint, once."""
    execute(db, (Path(__file__).parents[1] / "example" / "schema.sql").read_text())
    sql = migration(example)
    with live_db.connect(db) as conn:
        live_db.run_migration(conn, sql, plan=False)
    rows(db, "UPDATE cronspec.owned_procedure SET fingerprint = 'from-another-release'")
    procs = rows(db, PROCS)
    assert {a[0] for a in plan_actions(db, sql) if a[1] == "procedure"} == {"unchanged"}
    with live_db.connect(db) as conn:
        report = live_db.run_migration(conn, sql, plan=False)
    assert {a.action for a in report.actions if a.kind == "procedure"} == {"unchanged"}
    assert rows(db, PROCS) == procs
    assert rows(
        db, "SELECT DISTINCT fingerprint = 'from-another-release' FROM cronspec.owned_procedure"
    ) == [(False,)]
    again = snapshot(db, catalog=False)
    with live_db.connect(db) as conn:
        live_db.run_migration(conn, sql, plan=False)
    assert snapshot(db, catalog=False) == again  # nothing written the second time


def test_a_hand_made_procedure_is_adopted_with_the_setting_fixed(db: str, project: Project) -> None:
    body = "UPDATE counters SET n = n + 1;\n"
    execute(
        db,
        "CREATE TABLE counters (n int); CREATE SCHEMA cronspec; "
        f"CREATE PROCEDURE cronspec.bump() LANGUAGE sql AS $b${body}$b$",
    )
    root = project_of(project, {"bump": spec("bump", body, "'@daily'")}, "1.4")
    actions = plan_actions(db, migration(root), adopt=True)
    (adopted,) = [a for a in actions if a[1] == "procedure"]
    assert adopted[:3] == ("adopt", "procedure", "cronspec.bump")
    assert adopted[5] == ("re-created with SET standard_conforming_strings = on",)
    with live_db.connect(db) as conn:
        live_db.run_migration(conn, migration(root), plan=False, adopt=True)
    assert rows(db, "SELECT proconfig, prosrc FROM pg_proc WHERE proname = 'bump'") == [
        (["standard_conforming_strings=on"], body)
    ]
    assert {a[0] for a in plan_actions(db, migration(root)) if a[1] == "procedure"} == {"unchanged"}
