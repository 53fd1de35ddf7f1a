"""A robust apply, on the real cluster: concurrent applies under every default isolation, a
connection terminated mid-apply, the server's message, DETAIL and HINT, a role that owns its
schema, @startup under plan, and what psql users see."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo
from support.dbtools import (
    apply,
    assert_plan_is_apply,
    compiled,
    execute,
    jobids,
    jobs,
    login_role,
    plan_actions,
    query,
    snapshot,
    write_project,
)
from support.servers import Server
from support.targeting import with_version

from cronspec import api, db
from cronspec.render.pg_cron import LOCK_KEY

pytestmark = pytest.mark.db

Cli = Callable[..., tuple[int, str, str]]
TASK = (
    "name: {name}\ndescription: A tiny task.\nkind: sql\nschedule: '{schedule}'\n"
    "sql: UPDATE tiny SET n = n + 1;\n"
)


def tiny_project(root: Path, toml: str = "", **schedules: str) -> Path:
    specs = {n: TASK.format(name=n, schedule=s) for n, s in schedules.items()}
    write_project(root, specs, with_version(toml, VERSION["pg_cron"]))
    outcome = api.compile_project(root)
    assert outcome.compiled.ok, outcome.diagnostics
    return root


VERSION = {"pg_cron": "1.4"}  # the server's, set by `tiny`: what the projects are compiled for


@pytest.fixture
def tiny(pg_server: Server, pg_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The cron database with a table `tiny`; the projects of the test target its server."""
    monkeypatch.setitem(VERSION, "pg_cron", pg_server.target)
    execute(pg_db, "CREATE TABLE tiny (n int NOT NULL DEFAULT 0); GRANT ALL ON tiny TO PUBLIC")
    return pg_db


def wait_for(holder: psycopg.Connection[Any], sql: str, count: int = 1) -> list[Any]:
    """Poll until `sql` returns `count` rows (backends waiting on the lock, say)."""
    for _ in range(600):
        rows = holder.execute(sql).fetchall()
        if len(rows) >= count:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {sql}")


WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND wait_event = 'advisory' AND pid <> pg_backend_pid()"
)


# --- concurrent applies -------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read", "serializable"])
def test_concurrent_applies_wait_then_see_the_first_ones_result(
    tiny: str, tmp_path: Path, isolation: str
) -> None:
    level = isolation.replace(" ", "\\ ")
    dsn = conninfo.make_conninfo(tiny, options=f"-c default_transaction_isolation={level}")
    assert query(dsn, "SHOW default_transaction_isolation") == [(isolation,)]
    root = tiny_project(tmp_path / "p", alpha="0 1 * * *", beta="0 2 * * *")
    outcomes: list[api.LiveOutcome] = []
    errors: list[BaseException] = []

    def deploy() -> None:
        try:
            outcomes.append(api.live(root, "apply", dsn))
        except BaseException as exc:  # reported below
            errors.append(exc)

    with psycopg.connect(tiny, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        threads = [threading.Thread(target=deploy) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for(holder, WAITING, 2)  # both wait for the lock, neither has read anything
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        for thread in threads:
            thread.join()
    assert errors == []
    assert [o.error for o in outcomes] == [None, None]
    first, second = sorted(outcomes, key=lambda o: not o.changes)
    assert first.changes
    assert {a.action for a in second.actions} == {"unchanged"}  # it saw the first one's result
    assert set(jobs(tiny)) == {"alpha", "beta"}

    # The file applied as is (psql, an Ecto migration), inside a transaction the client opened.
    sql = compiled(tiny_project(root, alpha="0 5 * * *", gamma="0 6 * * *")).files["pg_cron.sql"]
    failures: list[BaseException] = []

    def deploy_file() -> None:
        try:
            apply(dsn, sql, autocommit=False)
        except BaseException as exc:  # reported below
            failures.append(exc)

    with psycopg.connect(tiny, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        threads = [threading.Thread(target=deploy_file) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for(holder, WAITING, 2)
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        for thread in threads:
            thread.join()
    assert failures == []
    assert {k: v[0] for k, v in jobs(tiny).items()} == {"alpha": "0 5 * * *", "gamma": "0 6 * * *"}


# --- errors: the server's words, one line each, exit 1 ------------------------------------------


def test_a_terminated_connection_prints_the_servers_message(
    tiny: str, tmp_path: Path, pg_server: Server
) -> None:
    root = tiny_project(tmp_path / "p", alpha="0 1 * * *")
    with psycopg.connect(tiny, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        process = subprocess.Popen(
            [sys.executable, "-m", "cronspec", "-C", str(root), "apply", "--dsn", tiny],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=pg_server.cluster.env(),
        )
        try:
            ((pid,),) = wait_for(holder, WAITING)  # mid-apply: its migration waits for the lock
            holder.execute("SELECT pg_terminate_backend(%s)", (pid,))
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
    assert (process.returncode, out) == (1, "")
    assert err == (
        "cronspec: error: connection lost, nothing was changed: terminating connection due to "
        "administrator command\n"
    )
    assert jobs(tiny) == {}


def test_a_privilege_error_prints_the_grant_hint(tiny: str, tmp_path: Path, cli: Cli) -> None:
    dsn = login_role(tiny, "cronspec_plain")
    root = tiny_project(tmp_path / "p", alpha="0 1 * * *")
    assert cli(root, "apply", "--dsn", dsn)[0] == 0
    spec = root / "specs" / "alpha.yaml"
    spec.write_text(spec.read_text() + "enabled: false\n")
    assert cli(root, "compile")[0] == 0
    for command in ("plan", "apply"):
        code, out, err = cli(root, command, "--dsn", dsn)
        assert (code, out) == (1, "")
        assert err.splitlines() == [
            "cronspec: error: missing privilege, nothing was changed: "
            "cronspec: task alpha (specs/alpha.yaml): setting its job to active = false needs "
            "cron.alter_job, which role cronspec_plain may not execute",
            "cronspec: hint: apply as a superuser, or first run as one: GRANT EXECUTE ON "
            "FUNCTION cron.alter_job(bigint, text, text, text, text, boolean) TO cronspec_plain",
        ]
    assert jobs(tiny)["alpha"][4] is True


# --- schemas: owning them is enough --------------------------------------------------------------


def test_a_role_that_owns_its_schema_needs_no_create_on_the_database(
    tiny: str, tmp_path: Path
) -> None:
    dsn = login_role(tiny, "cronspec_owner", create_schemas=False)
    execute(tiny, "CREATE SCHEMA cronspec AUTHORIZATION cronspec_owner")
    sql = compiled(tiny_project(tmp_path / "p", alpha="0 1 * * *")).files["pg_cron.sql"]
    assert_plan_is_apply(dsn, sql)
    assert jobs(tiny)["alpha"][3] == "cronspec_owner"
    # A schema it neither owns nor may create: one clear error, and the way out.
    moved = tiny_project(tmp_path / "p", '[pg_cron]\nschema = "elsewhere"\n', alpha="0 1 * * *")
    with pytest.raises(db.DbError) as info:
        plan_actions(dsn, compiled(moved).files["pg_cron.sql"])
    assert info.value.message == (
        "missing privilege, nothing was changed: "
        "cronspec: role cronspec_owner may not create schema elsewhere for the procedures"
    )
    assert info.value.hint == (
        "as a superuser: CREATE SCHEMA elsewhere AUTHORIZATION cronspec_owner, or GRANT CREATE "
        "ON DATABASE cronspec_test TO cronspec_owner"
    )


def test_a_second_role_without_create_on_the_shared_schema_is_told_how(
    tiny: str, tmp_path: Path
) -> None:
    first = login_role(tiny, "cronspec_one")
    second = login_role(tiny, "cronspec_two")
    apply(first, compiled(tiny_project(tmp_path / "a", alpha="0 1 * * *")).files["pg_cron.sql"])
    sql = compiled(tiny_project(tmp_path / "b", 'project = "b"\n', beta="0 1 * * *")).files[
        "pg_cron.sql"
    ]
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
        apply(second, sql)
    assert info.value.diag.message_primary == (
        "cronspec: role cronspec_two may not create procedures in schema cronspec"
    )
    assert info.value.diag.message_hint == (
        "as the owner of schema cronspec: GRANT CREATE ON SCHEMA cronspec TO cronspec_two; or "
        "set another [pg_cron] schema in cronspec.toml"
    )


# --- @startup under plan, and psql ---------------------------------------------------------------


def test_plan_lists_startup_tasks_without_running_them(tiny: str, tmp_path: Path) -> None:
    execute(tiny, "CREATE SEQUENCE ticks")
    root = write_project(
        tmp_path / "p",
        {
            "tick": "name: tick\ndescription: d\nkind: sql\nschedule: ['@startup', '0 1 * * *']\n"
            "sql: SELECT nextval('ticks');\n"
        },
    )
    sql = compiled(root).files["pg_cron.sql"]
    try:
        planned = plan_actions(tiny, sql)
        assert ("run", "startup", "tick") in [a[:3] for a in planned]
        ticks = "SELECT is_called FROM ticks"
        assert query(tiny, ticks) == [(False,)]  # a sequence is not rolled back: it did not run
        assert_plan_is_apply(tiny, sql)
        assert query(tiny, ticks) == [(True,)]
    finally:  # the cron database's reset between tests leaves sequences: another test has one
        execute(tiny, "DROP SEQUENCE ticks")


def test_psql_prints_a_short_summary_and_no_result_sets(
    tiny: str, tmp_path: Path, pg_server: Server
) -> None:
    root = tiny_project(tmp_path / "p", alpha="0 1 * * *", beta="0 2 * * *")
    file = root / "generated" / "pg_cron.sql"
    run = subprocess.run(
        [*pg_server.cluster.psql(), "-f", str(file)],
        capture_output=True,
        text=True,
        env=pg_server.cluster.env(),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "row)" not in run.stdout and "rows)" not in run.stdout
    notices = [line.split("NOTICE:  ", 1)[1] for line in run.stderr.splitlines()]
    assert notices[0] == "cronspec apply: project default, role postgres: 6 add"
    assert 'cronspec: add job alpha: schedule 0 1 * * *; command CALL "cronspec"."alpha"()' in (
        notices
    )
    assert len(notices) == 7  # the summary, then one line per action


def test_a_plan_run_never_commits_even_from_psql(
    tiny: str, tmp_path: Path, pg_server: Server
) -> None:
    root = tiny_project(tmp_path / "p", alpha="0 1 * * *")
    before = snapshot(tiny)
    run = subprocess.run(
        [*pg_server.cluster.psql(), "-q", "-f", str(root / "generated" / "pg_cron.sql")],
        capture_output=True,
        text=True,
        env={**pg_server.cluster.env(), "PGOPTIONS": "-c cronspec.mode=plan"},
        check=False,
    )
    assert run.returncode != 0
    assert "NOTICE:  cronspec plan (rolled back): project default, role postgres" in run.stderr
    assert "this was a plan run (cronspec.mode = plan), which is never committed" in run.stderr
    assert snapshot(tiny) == before
    assert jobids(tiny) == {}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("cronspec.mode=dry", "cronspec: cronspec.mode is 'dry'; it must be plan or apply"),
        ("cronspec.adopt=maybe", "cronspec: cronspec.adopt is 'maybe'; it must be on or off"),
    ],
)
def test_an_unknown_mode_is_refused(
    tiny: str, tmp_path: Path, pg_server: Server, setting: str, message: str
) -> None:
    root = tiny_project(tmp_path / "p", alpha="0 1 * * *")
    run = subprocess.run(
        [*pg_server.cluster.psql(), "-q", "-f", str(root / "generated" / "pg_cron.sql")],
        capture_output=True,
        text=True,
        env={**pg_server.cluster.env(), "PGOPTIONS": f"-c {setting}"},
        check=False,
    )
    assert run.returncode != 0 and f"ERROR:  {message}" in run.stderr
    assert jobids(tiny) == {}
