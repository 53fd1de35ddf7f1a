"""Run-time policies on the real pg_cron 1.6.7, with jobs that really run while the test waits
(`N seconds` jobs), and on the real Oban 2.18.3.

- overlap: a task's two jobs run at the same time (pg_cron's own behaviour, `overlap: queue`);
  with `overlap: skip` they never do, each skip is recorded and `cronspec status` counts it,
  and of two CALLs at once one runs the body and the other returns at once;
- timeout: the job's command stops a pg_sleep body (and a retry does not outlive it);
- retry: a body that fails on its first try succeeds on the second, in the same run; one that
  always fails is a failed run;
- settings: visible inside the body, whether a job or a manual CALL runs it; a name the server
  does not know fails the migration in one line naming the task;
- under `cron.use_background_workers = on`, where a timeout has no effect, the migration
  refuses one.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.common import need
from support.dbtools import (
    apply_fails,
    execute,
    message,
    plan_actions,
    query,
    snapshot,
    wait_until,
    write_project,
)
from support.oban import OBAN_DB, Oban, check_crontab, write_crontab
from support.pgcluster import PgCluster
from support.servers import KINDS

from cronspec import db as live_db
from cronspec.api import compile_specs

pytestmark = pytest.mark.db

CLI = Callable[..., tuple[int, str, str]]
WAIT = 20.0  # seconds; each wait below ends as soon as what it waits for has happened
V16 = '[pg_cron]\nversion = "1.6"\n'


def spec(name: str, schedule: str, body: str, *extra: str) -> str:
    lines = [f"name: {name}", "description: d", "kind: sql", f"schedule: {schedule}", *extra]
    indented = "".join(f"  {line}\n" for line in body.strip().split("\n"))
    return "".join(line + "\n" for line in lines) + "sql: |\n" + indented


def project(root: Path, specs: dict[str, str], toml: str = V16) -> Path:
    return write_project(root, specs, toml)


def migrate(dsn: str, root: Path) -> live_db.Report:
    compiled = compile_specs(root)
    assert compiled.ok, [str(d) for d in compiled.diagnostics]
    with live_db.connect(dsn) as conn:
        return live_db.run_migration(conn, compiled.files["pg_cron.sql"], plan=False)


def finished(dsn: str, job: str) -> list[tuple[str, str, float]]:
    """The job's finished runs, oldest first: (status, return message, seconds)."""
    rows = query(
        dsn,
        "SELECT d.status, d.return_message, extract(epoch FROM d.end_time - d.start_time) "
        "FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = %s "
        "AND d.status IN ('succeeded', 'failed') ORDER BY d.runid",
        (job,),
    )
    return [(str(s), str(m), float(t)) for s, m, t in rows]


def stop_jobs(dsn: str) -> None:
    """Make every job inactive (their runs stay readable by job name) and wait for the runs
    under way to end."""
    execute(dsn, "UPDATE cron.job SET active = false")
    wait_until(
        lambda: not query(dsn, "SELECT 1 FROM cron.job_run_details WHERE status = 'running'"), WAIT
    )


def overlapping(runs: list[tuple[datetime, datetime]]) -> int:
    """How many pairs of (start, end) intervals overlap."""
    ordered = sorted(runs)
    return sum(1 for (_, end), (start, _) in itertools.pairwise(ordered) if start < end)


SLOW = (
    "SELECT pg_sleep(0.8);\n"
    "INSERT INTO body_runs (started, finished) VALUES (now(), clock_timestamp());"
)


def test_skip_runs_a_task_once_at_a_time(db16: str, tmp_path: Path, cli: CLI) -> None:
    """The same task twice at once: its two `N seconds` jobs, then two CALLs."""
    execute(db16, "CREATE TABLE body_runs (started timestamptz NOT NULL, finished timestamptz)")
    schedules = '["1 seconds", "2 seconds"]'
    root = project(tmp_path / "p", {"slow": spec("slow", schedules, SLOW)})
    try:
        # overlap: queue, pg_cron's own behaviour: a job never overlaps itself, but a task's two
        # jobs are two jobs, and run at the same time
        migrate(db16, root)
        wait_until(
            lambda: overlapping(query(db16, "SELECT started, finished FROM body_runs")) > 0, WAIT
        )

        project(root, {"slow": spec("slow", schedules, SLOW, "overlap: skip")})
        report = migrate(db16, root)
        changed = {(a.action, a.kind, a.name) for a in report.actions if a.action != "unchanged"}
        assert changed == {
            ("change", "procedure", "cronspec.slow"),  # LANGUAGE sql -> the plpgsql wrapper
            ("add", "procedure", "cronspec.slow:body"),
            ("add", "bookkeeping", "cronspec.skipped_run"),
        }  # the jobs stay as they were: they CALL the same procedure
        ((since,),) = query(db16, "SELECT now()")
        stop_at = time.monotonic() + 4.0

        def skipped_enough() -> bool:
            runs = query(db16, "SELECT count(*) FROM body_runs WHERE started > %s", (since,))
            skips = query(db16, "SELECT count(*) FROM cronspec.skipped_run")
            return runs[0][0] >= 3 and skips[0][0] >= 2 and time.monotonic() > stop_at

        wait_until(skipped_enough)
        runs = query(db16, "SELECT started, finished FROM body_runs WHERE started > %s", (since,))
        assert overlapping(runs) == 0, sorted(runs)
        skips = query(db16, "SELECT project, task, role::text FROM cronspec.skipped_run")
        assert set(skips) == {("default", "slow", "postgres")}
        # pg_cron says a skipped run succeeded: only the table tells them apart
        assert {s for job in ("slow", "slow:2") for s, _, _ in finished(db16, job)} == {"succeeded"}
        _, out, _ = cli(root, "status", "--dsn", db16, "--format", "json")
        jobs = {j["job"]: j for j in json.loads(out)["jobs"]}
        assert jobs["slow"]["skipped"] + jobs["slow:2"]["skipped"] >= 2
        assert any("skipped" in jobs[name]["flags"] for name in ("slow", "slow:2"))

        # Two CALLs at once, from two sessions: the second finds the first under way.
        stop_jobs(db16)
        execute(db16, "TRUNCATE body_runs, cronspec.skipped_run")
        took: dict[str, float] = {}

        def call(who: str) -> None:
            start = time.monotonic()
            with psycopg.connect(db16, autocommit=True) as conn:
                conn.execute('CALL cronspec."slow"()')
            took[who] = time.monotonic() - start

        first = threading.Thread(target=call, args=("first",))
        first.start()
        wait_until(
            lambda: bool(query(db16, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory'")), WAIT
        )
        call("second")
        first.join()
        assert query(db16, "SELECT count(*) FROM body_runs") == [(1,)]
        assert query(db16, "SELECT task FROM cronspec.skipped_run") == [("slow",)]
        assert took["second"] < 0.5 <= took["first"], took
    finally:
        stop_jobs(db16)


GATE = 51_000_017  # an advisory lock the test holds: the body waits for it


def skips_per_job(dsn: str, root: Path, cli: CLI) -> dict[str, dict[str, Any]]:
    code, out, err = cli(root, "status", "--dsn", dsn, "--format", "json", "--runs", "1000")
    assert code in (0, 1), (code, err)
    return {j["job"]: j for j in json.loads(out)["jobs"]}


def skip_attribution(dsn: str, tmp_path: Path, cli: CLI) -> None:
    """Task `sk`'s two jobs with `overlap: skip`, whose body waits for a lock the test holds:
    the first job to start holds the task's lock while every run of the other is skipped.
    Status counts the skips against the job that was skipped only (by the pid of the run, which
    pg_cron records as job_pid); a manual CALL's skip goes to job `sk`, said to be no scheduled
    run; a skipped_run without the pid column (this round's earlier build) counts the task's
    skips once, against `sk`, and the migration adds the column."""
    body = f"SELECT pg_advisory_xact_lock({GATE});"
    root = project(tmp_path / "p", {"sk": spec("sk", '["1 seconds", "2 seconds"]', body,
                                                "overlap: skip")})  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
        migrate(dsn, root)

        def under_way() -> list[tuple[str]]:
            return query(
                dsn,
                "SELECT j.jobname FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
                "WHERE d.status = 'running'",
            )

        wait_until(lambda: len(under_way()) == 1 and skip_count(dsn) >= 3, WAIT)
        ((runner,),) = under_way()
        other = ({"sk", "sk:2"} - {runner}).pop()
        query(dsn, "UPDATE cron.job SET active = false WHERE jobname = %s", (other,))
        unfinished = (
            "SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
            "WHERE j.jobname = %s AND d.status NOT IN ('succeeded', 'failed')"
        )
        wait_until(lambda: not query(dsn, unfinished, (other,)), WAIT)
        # its runs that were skipped (each succeeds at once; a failed run would be no skip)
        runs = finished(dsn, other)
        count = sum(1 for status, _, _ in runs if status == "succeeded")
        jobs = skips_per_job(dsn, root, cli)
        seen = (runs, skipped(dsn), jobs)
        assert jobs[other]["skipped"] == count and "skipped" in jobs[other]["flags"], seen
        assert any(d.startswith(f"{count} runs skipped") for d in jobs[other]["details"])
        assert jobs[runner]["skipped"] == 0 and "skipped" not in jobs[runner]["flags"], jobs
        # every run of the other job was skipped, and pg_cron recorded each one's pid
        pids = query(
            dsn,
            "SELECT d.job_pid FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
            "WHERE j.jobname = %s AND d.status = 'succeeded'",
            (other,),
        )
        assert sorted(pids) == sorted((pid,) for (pid,) in skipped(dsn)), (pids, skipped(dsn))

        # a manual CALL while the runner holds the lock: a skip of no scheduled run, for `sk`
        execute(dsn, 'CALL cronspec."sk"()')
        assert skip_count(dsn) == count + 1
        jobs = skips_per_job(dsn, root, cli)
        assert jobs["sk"]["skipped"] == (count + 1 if other == "sk" else 1)
        assert jobs["sk:2"]["skipped"] == (count if other == "sk:2" else 0)
        assert any("1 skip not of a scheduled run" in d for d in jobs["sk"]["details"]), jobs

        # cronspec.skipped_run as this round's earlier build made it: the task's skips once
        execute(dsn, "ALTER TABLE cronspec.skipped_run DROP COLUMN pid")
        jobs = skips_per_job(dsn, root, cli)
        assert (jobs["sk"]["skipped"], jobs["sk:2"]["skipped"]) == (count + 1, 0), jobs
        assert any("not which job's" in d for d in jobs["sk"]["details"]), jobs["sk"]
        report = migrate(dsn, root)
        assert ("change", "bookkeeping", "cronspec.skipped_run") in {
            (a.action, a.kind, a.name) for a in report.actions}  # fmt: skip
        assert query(dsn, "SELECT count(*) FROM cronspec.skipped_run WHERE pid IS NULL") == [
            (count + 1,)]  # fmt: skip
        gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))


def skipped(dsn: str) -> list[tuple[int]]:
    return query(dsn, "SELECT pid FROM cronspec.skipped_run")


def skip_count(dsn: str) -> int:
    return int(query(dsn, "SELECT count(*) FROM cronspec.skipped_run")[0][0])


def test_a_skip_counts_for_the_job_that_was_skipped(db16: str, tmp_path: Path, cli: CLI) -> None:
    """pg_cron's libpq mode (each run a connection: job_pid is its backend)."""
    try:
        skip_attribution(db16, tmp_path, cli)
    finally:
        stop_jobs(db16)


def test_a_skip_counts_for_the_job_that_was_skipped_in_background_workers(
    tmp_path: Path, cli: CLI
) -> None:
    """pg_cron's background-worker mode (job_pid is the worker's)."""
    kind = KINDS["1.6"]
    bindir = kind.bindir()
    need(bindir if isinstance(bindir, str) else None, f"pg_cron {kind.pg_cron}")
    assert isinstance(bindir, Path)
    pg = PgCluster(
        bindir=bindir,
        preload=kind.preload,
        extra_conf={"cron.use_background_workers": "on", "max_worker_processes": "40"},
    )
    try:
        dsn = pg.start()
        pg.sql("CREATE EXTENSION pg_cron")
        try:
            skip_attribution(dsn, tmp_path, cli)
        finally:
            stop_jobs(dsn)
    finally:
        pg.stop()


def test_a_timeout_stops_a_pg_sleep_body(db16: str, tmp_path: Path) -> None:
    """statement_timeout in the job's command ends the run; the retries inside it do not
    outlive it (a cancel is not an error the wrapper retries)."""
    body = "SELECT pg_sleep(5);"
    extra = ('timeout: "1 second"', "retry: {attempts: 3}")
    root = project(tmp_path / "p", {"hang": spec("hang", '"2 seconds"', body, *extra)})
    try:
        migrate(db16, root)
        wait_until(lambda: bool(finished(db16, "hang")))
    finally:
        stop_jobs(db16)
    status, text, seconds = finished(db16, "hang")[0]
    assert status == "failed"
    assert text.startswith("ERROR:  canceling statement due to statement timeout"), text
    assert 0.9 <= seconds < 2.0, seconds  # one try, stopped at 1 s: not 3 tries, not 5 s
    ((command,),) = query(db16, "SELECT command FROM cron.job_run_details LIMIT 1")
    assert command == 'SET LOCAL statement_timeout = \'1s\'; CALL "cronspec"."hang"()'


def test_a_retry_succeeds_on_the_second_try(db16: str, tmp_path: Path) -> None:
    """The body fails while a sequence (which no rollback resets) is at its first value: its
    first try fails, its second succeeds, in the same run, after the backoff. A body that
    always fails fails the run, with its own message, after every try."""
    execute(
        db16,
        "CREATE SEQUENCE tries; CREATE SEQUENCE always_tries; "
        "CREATE TABLE retried (try bigint NOT NULL, at timestamptz DEFAULT clock_timestamp())",
    )
    once = (
        "SELECT 1 / (nextval('tries') - 1)::int;\n"
        "INSERT INTO retried (try) VALUES (currval('tries'));"
    )
    # (a constant 1 / 0 would fail when PostgreSQL plans the body, before anything ran)
    always = "SELECT 1 / (nextval('always_tries') * 0)::int;"
    retry = 'retry: {attempts: 3, backoff: "300 ms"}'
    root = project(
        tmp_path / "p",
        {
            "flaky": spec("flaky", '"2 seconds"', once, retry),
            "broken": spec("broken", '"2 seconds"', always, "retry: {attempts: 2}"),
        },
    )
    try:
        migrate(db16, root)
        wait_until(lambda: bool(finished(db16, "flaky")) and bool(finished(db16, "broken")))
    finally:
        stop_jobs(db16)
    status, text, seconds = finished(db16, "flaky")[0]
    assert (status, text) == ("succeeded", "CALL")
    assert seconds >= 0.3  # it waited the backoff before its second try
    tries = [t for (t,) in query(db16, "SELECT try FROM retried ORDER BY at")]
    assert tries[0] == 2 and 1 not in tries  # the first try's writes were undone
    status, text, _ = finished(db16, "broken")[0]
    assert status == "failed" and text.startswith("ERROR:  division by zero"), text
    # a manual CALL goes through the same wrapper: two tries, then the failure
    execute(db16, "SELECT setval('always_tries', 1, false)")
    with (
        psycopg.connect(db16, autocommit=True) as conn,
        pytest.raises(psycopg.errors.DivisionByZero),
    ):
        conn.execute('CALL cronspec."broken"()')
    assert query(db16, "SELECT last_value FROM always_tries") == [(2,)]


def test_settings_are_visible_inside_the_body(db16: str, tmp_path: Path) -> None:
    execute(db16, "CREATE TABLE seen (work_mem text, jit text, who text)")
    body = (
        "INSERT INTO seen VALUES (current_setting('work_mem'), current_setting('jit'), "
        "current_setting('application_name'));"
    )
    settings = 'settings: {work_mem: "77MB", jit: "off"}'
    root = project(tmp_path / "p", {"seen": spec("seen", '"2 seconds"', body, settings)})
    try:
        migrate(db16, root)
        wait_until(lambda: bool(query(db16, "SELECT 1 FROM seen")))
    finally:
        stop_jobs(db16)
    assert query(db16, "SELECT work_mem, jit FROM seen LIMIT 1") == [("77MB", "off")]
    execute(db16, "TRUNCATE seen")
    with psycopg.connect(db16, autocommit=True) as conn:
        conn.execute("SET work_mem = '4MB'; SET application_name = 'by hand'")
        conn.execute('CALL cronspec."seen"()')
        row = conn.execute("SELECT current_setting('work_mem')").fetchone()
        assert row == ("4MB",)  # the caller's own settings are back after the CALL
    assert query(db16, "SELECT * FROM seen") == [("77MB", "off", "by hand")]


def test_a_setting_the_server_does_not_know_fails_the_migration(db16: str, tmp_path: Path) -> None:
    body = "SELECT 1;"
    root = project(
        tmp_path / "p",
        {
            "fine": spec("fine", '"0 3 * * *"', body),
            "typo": spec("typo", '"0 3 * * *"', body, 'settings: {wrok_mem: "64MB"}'),
        },
    )
    error = apply_fails(db16, compile_specs(root).files["pg_cron.sql"])
    assert message(error) == (
        "cronspec: task typo (specs/typo.yaml): its settings do not apply: unrecognized "
        'configuration parameter "wrok_mem"'
    )
    assert query(db16, "SELECT count(*) FROM cron.job") == [(0,)]  # nothing was changed


def test_a_timeout_is_refused_under_background_workers(tmp_path: Path) -> None:
    """pg_cron's background-worker mode runs a command where no statement starts at top level,
    so no statement_timeout applies: the migration says so, naming the task, before anything
    changes. The same project without the timeout applies there."""
    pg = PgCluster(extra_conf={"cron.use_background_workers": "on", "max_worker_processes": "40"})
    try:
        dsn = pg.start()
        pg.sql("CREATE EXTENSION pg_cron")
        body = "SELECT 1;"
        root = project(
            tmp_path / "p",
            {"t": spec("t", '"0 3 * * *"', body, 'timeout: "10 minutes"')},
            "",
        )
        error = apply_fails(dsn, compile_specs(root).files["pg_cron.sql"])
        assert message(error).startswith(
            "cronspec: task t (specs/t.yaml): its timeout: 10 minutes is set in the job's "
            "command (SET LOCAL statement_timeout), which has no effect when "
            "cron.use_background_workers = on"
        ), message(error)
        assert query(dsn, "SELECT count(*) FROM cron.job") == [(0,)]
        project(root, {"t": spec("t", '"0 3 * * *"', body)}, "")
        migrate(dsn, root)
        assert query(dsn, "SELECT jobname FROM cron.job") == [("t",)]
    finally:
        pg.stop()


def app(name: str, worker: str, *extra: str) -> str:
    lines = [f"name: {name}", "description: d", "kind: app", 'schedule: "* * * * *"']
    return "\n".join([*lines, f"worker: {worker}", "needs: [ml]", *extra]) + "\n"


def test_oban_takes_skip_and_retry_from_the_crontab(
    oban: Oban, cluster: PgCluster, tmp_path: Path
) -> None:
    """The real Oban starts with the crontab entry's `unique` and `max_attempts`; its Cron plugin,
    told to insert twice, inserts no second job for the `overlap: skip` task while the first
    waits for its next attempt, and does for the task without it."""
    root = write_project(
        tmp_path / "app",
        {
            "skipper": app(
                "skipper", "CronspecTest.PolicySkip", "overlap: skip", "retry: {attempts: 3}"
            ),
            "queued": app("queued", "CronspecTest.PolicyQueue", "retry: {attempts: 3}"),
        },
    )
    compiled = compile_specs(root)
    assert compiled.ok and compiled.plan is not None
    write_crontab(root, compiled.files)
    dsn = cluster.dsn(OBAN_DB)
    request: dict[str, Any] = {
        "root": str(root),
        "config": str(oban.snippets[0]),
        "fail": ["CronspecTest.PolicySkip", "CronspecTest.PolicyQueue"],
    }
    try:
        execute(dsn, "DELETE FROM oban_jobs")
        for _ in range(2):
            oban.server.ask("cron_tick", request)
        rows: dict[str, int] = dict(
            query(dsn, "SELECT worker, count(*) FROM oban_jobs GROUP BY worker")
        )
        states = {s for (s,) in query(dsn, "SELECT DISTINCT state FROM oban_jobs")}
        assert states == {"retryable"}, states  # failed once, due for another attempt
        assert rows["CronspecTest.PolicySkip"] == 1, rows
        assert rows["CronspecTest.PolicyQueue"] >= 2, rows
        ((attempts,),) = query(
            dsn,
            "SELECT DISTINCT max_attempts FROM oban_jobs WHERE worker LIKE 'CronspecTest.Policy%'",
        )
        assert attempts == 3
    finally:
        execute(dsn, "DELETE FROM oban_jobs")
    # its workers fail on purpose (above): the whole check of the file comes after
    check_crontab(oban, root, compiled.plan)


def test_adding_and_removing_policies_converges(pg_db: str, tmp_path: Path) -> None:
    """Each policy changes exactly what carries it; a second application changes no row
    (same xmin everywhere); removing them all returns to the plain procedure; the rollback
    leaves nothing of cronspec's."""
    execute(
        pg_db, "CREATE TABLE counters (n int NOT NULL DEFAULT 0); INSERT INTO counters VALUES (0)"
    )
    body = "UPDATE counters SET n = n + 1;"
    two = '["0 3 * * *", "30 4 * * 1"]'
    root = tmp_path / "p"
    toml = ""

    def step(*extra: str) -> set[tuple[str, str, str, tuple[str, ...]]]:
        project(root, {"t": spec("t", two, body, *extra)}, toml)
        planned = plan_actions(pg_db, compile_specs(root).files["pg_cron.sql"])
        applied = migrate(pg_db, root)
        assert [(a.action, a.kind, a.name) for a in applied.actions] == [
            (a, k, n) for a, k, n, *_ in planned
        ]
        before = snapshot(pg_db, catalog=False)
        again = migrate(pg_db, root)
        assert {a.action for a in again.actions} == {"unchanged"}
        assert snapshot(pg_db, catalog=False) == before  # not one new row version
        return {
            (a.action, a.kind, a.name, a.details)
            for a in applied.actions
            if a.action != "unchanged"
        }

    first = step()
    assert {(a, k, n) for a, k, n, _ in first} >= {
        ("add", "job", "t"),
        ("add", "job", "t:2"),
        ("add", "procedure", "cronspec.t"),
    }
    settings = 'settings: {work_mem: "64MB"}'
    assert step(settings) == {
        (
            "change",
            "procedure",
            "cronspec.t",
            ("settings standard_conforming_strings=on -> standard_conforming_strings=on, "
             "work_mem=64MB",),
        )
    }  # fmt: skip
    timeout = 'timeout: "2 minutes"'
    changed = step(settings, timeout)
    assert {(a, k, n) for a, k, n, _ in changed} == {
        ("change", "job", "t"),
        ("change", "job", "t:2"),
    }
    skip = "overlap: skip"
    assert {(a, k, n) for a, k, n, _ in step(settings, timeout, skip)} == {
        ("change", "procedure", "cronspec.t"),  # LANGUAGE sql -> plpgsql
        ("add", "procedure", "cronspec.t:body"),  # the body, with its settings
        ("add", "bookkeeping", "cronspec.skipped_run"),
    }
    retry = "retry: {attempts: 2}"
    assert step(settings, timeout, skip, retry) == {
        ("change", "procedure", "cronspec.t", ("body",))  # the wrapper only
    }
    procs = query(
        pg_db,
        "SELECT p.proname, l.lanname, p.proconfig FROM pg_proc p JOIN pg_language l ON "
        "l.oid = p.prolang WHERE p.pronamespace = 'cronspec'::regnamespace ORDER BY 1",
    )
    assert procs == [
        ("t", "plpgsql", ["standard_conforming_strings=on"]),
        ("t:body", "sql", ["standard_conforming_strings=on", "work_mem=64MB"]),
    ]
    assert {(a, k, n) for a, k, n, _ in step()} == {
        ("change", "procedure", "cronspec.t"),  # plpgsql -> LANGUAGE sql, no settings
        ("remove", "procedure", "cronspec.t:body"),
        ("change", "job", "t"),
        ("change", "job", "t:2"),
    }
    rollback = compile_specs(root).files["pg_cron_rollback.sql"]
    with live_db.connect(pg_db) as conn:
        live_db.run_migration(conn, rollback, plan=False)
    assert query(pg_db, "SELECT count(*) FROM cron.job") == [(0,)]
    assert query(
        pg_db,
        "SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace('cronspec')",
    ) == [(0,)]
    assert query(
        pg_db, "SELECT count(*) FROM pg_proc WHERE pronamespace = to_regnamespace('cronspec')"
    ) == [(0,)]
