"""plan / apply / drift against the live cluster, through main([...]): output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from support.common import ROOT, SQL_TASK
from support.servers import Server
from support.targeting import with_version

from cronspec import api
from cronspec import cli as cli_module

pytestmark = pytest.mark.db

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def project(project: Project, pg_server: Server) -> Project:
    """Scratch projects compiled for the server's pg_cron (unless the toml names a version)."""

    def make(specs: dict[str, str], toml: str | None = None) -> Path:
        return project(specs, with_version(toml, pg_server.target))

    return make


def _jobs(dsn: str) -> dict[str, tuple[str, str, bool]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT jobname, schedule, command, active FROM cron.job").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _tiny(project: Project, cli: Cli, toml: str | None = None, **schedules: str) -> Path:
    specs = {f"{n}.yaml": SQL_TASK.format(name=n, schedule=s) for n, s in schedules.items()}
    root = project(specs, toml)
    assert cli(root, "compile")[0] == 0
    return root


@pytest.fixture
def table(pg_db: str) -> str:
    with psycopg.connect(pg_db) as conn:
        conn.execute("CREATE TABLE t (a int)")
    return pg_db


def test_plan_apply_drift_cycle(project: Project, cli: Cli, table: str) -> None:
    dsn = table
    root = _tiny(project, cli, alpha="0 1 * * *", beta="@hourly")
    code, out, _ = cli(root, "plan", "--dsn", dsn)
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "cronspec plan: 6 to add (project default, role postgres)"
    assert "  + job alpha" in lines and "  + procedure cronspec.beta" in lines
    assert "  + bookkeeping cronspec.owned_job, cronspec.owned_procedure" in lines
    assert _jobs(dsn) == {}  # a plan is rolled back
    code, out, _ = cli(root, "apply", "--dsn", dsn)
    assert code == 0 and out.startswith("cronspec apply: 6 added (project default, role postgres)")
    assert _jobs(dsn) == {
        "alpha": ("0 1 * * *", 'CALL "cronspec"."alpha"()', True),
        "beta": ("0 * * * *", 'CALL "cronspec"."beta"()', True),
    }
    nothing = "cronspec plan: no changes; 4 unchanged (project default, role postgres)\n"
    assert cli(root, "plan", "--dsn", dsn)[:2] == (0, nothing)
    assert cli(root, "drift", "--dsn", dsn)[:2] == (
        0,
        "cronspec drift: no drift (project default, role postgres)\n",
    )
    # Hand edits are drift: a schedule changed, a job unscheduled.
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE cron.job SET schedule = '5 5 * * *' WHERE jobname = 'alpha'")
        (beta,) = conn.execute("SELECT jobid FROM cron.job WHERE jobname = 'beta'").fetchone()
        conn.execute("SELECT cron.unschedule('beta')")
    code, out, _ = cli(root, "drift", "--dsn", dsn)
    assert code == 1
    assert "  ~ job alpha\n      schedule 5 5 * * * -> 0 1 * * *\n" in out
    assert f"  + job beta\n      unscheduled outside cronspec (it was jobid {beta})\n" in out
    assert cli(root, "apply", "--dsn", dsn)[0] == 0
    assert cli(root, "drift", "--dsn", dsn)[0] == 0
    # A removed task is planned as a removal, then removed.
    (root / "specs" / "beta.yaml").unlink()
    assert cli(root, "compile")[0] == 0
    code, out, _ = cli(root, "plan", "--dsn", dsn, "--format", "json")
    assert code == 2
    document = json.loads(out)
    assert (document["command"], document["project"], document["role"]) == (
        "plan",
        "default",
        "postgres",
    )
    removed = [(a["kind"], a["name"]) for a in document["actions"] if a["action"] == "remove"]
    assert removed == [("job", "beta"), ("procedure", "cronspec.beta")]
    code, out, _ = cli(root, "apply", "--dsn", dsn)
    assert code == 0 and out.splitlines()[0].startswith("cronspec apply: 2 removed; 2 unchanged")
    assert set(_jobs(dsn)) == {"alpha"}


def test_apply_prints_what_it_committed_and_a_second_apply_nothing(
    project: Project, cli: Cli, table: str
) -> None:
    root = _tiny(project, cli, alpha="0 1 * * *")
    first = cli(root, "apply", "--dsn", table)
    second = cli(root, "apply", "--dsn", table)
    assert first[0] == second[0] == 0
    assert first[1].startswith("cronspec apply: 4 added")
    assert second[1] == "cronspec apply: no changes; 2 unchanged (project default, role postgres)\n"


def test_apply_refuses_stale_generated(project: Project, cli: Cli, table: str) -> None:
    root = _tiny(project, cli, alpha="0 1 * * *")
    (root / "specs" / "alpha.yaml").write_text(SQL_TASK.format(name="alpha", schedule="0 2 * * *"))
    code, _, err = cli(root, "apply", "--dsn", table)
    assert code == 1
    assert "generated/ is stale against specs/" in err
    assert _jobs(table) == {}
    code, _, err = cli(root, "plan", "--dsn", table)  # plan warns, and plans the specs
    assert code == 2 and "cronspec: warning: generated/ is stale" in err


def test_clash_with_an_unmanaged_job(project: Project, cli: Cli, table: str) -> None:
    root = _tiny(project, cli, alpha="0 1 * * *")
    with psycopg.connect(table) as conn:
        (jobid,) = conn.execute("SELECT cron.schedule('alpha', '0 9 * * *', 'SELECT 1')").fetchone()
    code, out, _ = cli(root, "plan", "--dsn", table)
    assert code == 1
    assert (
        f"  ! job alpha\n      pg_cron job 'alpha' (jobid {jobid}) exists, and cronspec's " in out
    )
    assert "      schedule 0 9 * * * -> 0 1 * * *\n" in out
    code, _, err = cli(root, "apply", "--dsn", table)
    assert code == 1
    first, hint = err.splitlines()
    assert first.startswith(
        "cronspec: error: migration failed, nothing was changed: cronspec: "
        f"task alpha (specs/alpha.yaml): pg_cron job 'alpha' (jobid {jobid}) exists, and "
        "cronspec's bookkeeping does not record it"
    )
    assert "it differs from the spec; schedule 0 9 * * * -> 0 1 * * *" in first
    assert hint == (
        "cronspec: hint: rename the task, or unschedule that job, or make it match the spec "
        "and take it over with --adopt"
    )
    assert _jobs(table) == {"alpha": ("0 9 * * *", "SELECT 1", True)}


def test_drift_reports_clashes(project: Project, cli: Cli, table: str) -> None:
    root = _tiny(project, cli, alpha="0 1 * * *")
    with psycopg.connect(table) as conn:
        conn.execute("SELECT cron.schedule('alpha', '0 9 * * *', 'SELECT 1')")
    code, out, _ = cli(root, "drift", "--dsn", table)
    assert code == 1 and "  ! job alpha\n" in out and "  + " not in out


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("host=/nonexistent port=1 dbname=x connect_timeout=2", "cronspec: error: cannot connect:"),
        ("not a dsn", "cronspec: error: cannot connect:"),
    ],
)
def test_connection_failures_are_short(cli: Cli, dsn: str, message: str) -> None:
    code, out, err = cli(ROOT, "plan", "--dsn", dsn)
    assert (code, out) == (1, "")
    assert err.startswith(message) and "Traceback" not in err
    assert all(line.startswith("cronspec: ") for line in err.splitlines())


def test_database_without_pg_cron(cli: Cli, pg_server: Server) -> None:
    dsn = pg_server.cluster.new_database("no_cron")
    try:
        code, _, err = cli(ROOT, "drift", "--dsn", dsn)
        assert code == 1
        assert err.splitlines() == [
            "cronspec: error: the migration fails, nothing was changed: can only create "
            "extension in database cronspec_test",
            "cronspec: detail: Jobs must be scheduled from the database configured in "
            "cron.database_name, since the pg_cron background worker reads job descriptions "
            "from this database.",
            "cronspec: hint: Add cron.database_name = 'no_cron' in postgresql.conf to use the "
            "current database.",
        ]
    finally:
        pg_server.cluster.drop_database("no_cron")


def test_missing_privilege_prints_message_and_hint(cli: Cli, pg_server: Server, pg_db: str) -> None:
    pg_server.cluster.sql("DROP ROLE IF EXISTS nobody_special; CREATE ROLE nobody_special LOGIN")
    try:
        dsn = pg_server.cluster.dsn().replace("user=postgres", "user=nobody_special")
        code, _, err = cli(ROOT, "plan", "--dsn", dsn)
        assert code == 1
        assert err.splitlines() == [
            "cronspec: error: missing privilege, nothing was changed: cronspec: role "
            "nobody_special may not use schema cron, where pg_cron keeps its jobs",
            "cronspec: hint: as a superuser: GRANT USAGE ON SCHEMA cron TO nobody_special",
        ]
    finally:
        pg_server.cluster.sql("DROP ROLE nobody_special")


# --- exit codes of plan: 0 none, 2 changes, 1 findings, 3 usage errors and crashes -------------


def test_plan_exit_codes_for_usage_errors(cli: Cli) -> None:
    code, _, err = cli(ROOT, "plan", "--format", "yaml")
    assert code == 3 and "invalid choice" in err
    code, _, err = cli(ROOT, "plan", "--dsn", "x", "--no-such-flag")
    assert code == 3 and "unrecognized arguments" in err
    assert cli(ROOT, "apply", "--no-such-flag")[0] == 2  # other commands keep 2
    assert cli(ROOT, "drift", "--adopt")[0] == 2


def test_plan_exit_code_for_a_crash(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one stand-in here: a bug inside cronspec, raised where `plan` calls the API."""

    def crash(*args: object, **kwargs: object) -> api.LiveOutcome:
        raise api.InternalError("boom")

    monkeypatch.setattr(api, "live", crash)
    code, out, err = cli(ROOT, "plan", "--dsn", "x")
    assert (code, out) == (3, "")
    assert err == "cronspec: internal error (a cronspec bug): InternalError: boom\n"
    assert cli(ROOT, "apply", "--dsn", "x")[0] == 2  # other commands keep 2


def test_plan_findings_exit_1_for_spec_errors(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": "name: x\n"})
    code, _, err = cli(root, "plan", "--dsn", "x")
    assert code == 1 and "error[S201]" in err


def test_help_documents_plans_exit_codes() -> None:
    assert (cli_module.EXIT_PLAN_CHANGES, cli_module.EXIT_PLAN_ERROR) == (2, 3)
    help_text = subprocess.run(
        [sys.executable, "-m", "cronspec", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "3 usage error or crash" in help_text
