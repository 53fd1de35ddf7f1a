"""plan / apply / drift against the live cluster, through main([...])."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT, SQL_TASK

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]


def _jobs(dsn: str) -> dict[str, tuple[str, str, bool]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT jobname, schedule, command, active FROM cron.job").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _tiny(project: Project, cli: Cli, **schedules: str) -> Path:
    root = project({f"{n}.yaml": SQL_TASK.format(name=n, schedule=s) for n, s in schedules.items()})
    assert cli(root, "compile")[0] == 0
    return root


@pytest.fixture
def table(db: str) -> str:
    with psycopg.connect(db) as conn:
        conn.execute("CREATE TABLE t (a int)")
    return db


def test_plan_apply_drift_cycle(project: Project, cli: Cli, table: str) -> None:
    dsn = table
    root = _tiny(project, cli, alpha="0 1 * * *", beta="@hourly")
    code, out, _ = cli(root, "plan", "--dsn", dsn)
    assert code == 2
    assert out.splitlines()[0] == "cronspec plan: 4 to add"
    assert "  + job alpha" in out and "  + procedure cronspec.beta" in out
    code, out, _ = cli(root, "apply", "--dsn", dsn)
    assert code == 0 and out.startswith("cronspec apply: 4 to add")
    assert _jobs(dsn) == {
        "alpha": ("0 1 * * *", 'CALL "cronspec"."alpha"()', True),
        "beta": ("0 * * * *", 'CALL "cronspec"."beta"()', True),
    }
    assert cli(root, "plan", "--dsn", dsn)[:2] == (0, "cronspec plan: no changes\n")
    assert cli(root, "drift", "--dsn", dsn)[0] == 0
    # Hand edits are drift: a schedule changed, a job unscheduled.
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE cron.job SET schedule = '5 5 * * *' WHERE jobname = 'alpha'")
        conn.execute("SELECT cron.unschedule('beta')")
    code, out, _ = cli(root, "drift", "--dsn", dsn)
    assert code == 1
    assert "  ~ job alpha\n      schedule 5 5 * * * -> 0 1 * * *" in out
    assert "  + job beta\n      unscheduled outside cronspec" in out
    assert cli(root, "apply", "--dsn", dsn)[0] == 0
    assert cli(root, "drift", "--dsn", dsn)[0] == 0
    # A removed task is planned as a removal, then removed.
    (root / "specs" / "beta.yaml").unlink()
    assert cli(root, "compile")[0] == 0
    code, out, _ = cli(root, "plan", "--dsn", dsn, "--format", "json")
    assert code == 2 and '"action": "remove"' in out
    assert cli(root, "apply", "--dsn", dsn)[0] == 0
    assert set(_jobs(dsn)) == {"alpha"}


def test_apply_refuses_stale_generated(project: Project, cli: Cli, table: str) -> None:
    root = _tiny(project, cli, alpha="0 1 * * *")
    (root / "specs" / "alpha.yaml").write_text(SQL_TASK.format(name="alpha", schedule="0 2 * * *"))
    code, _, err = cli(root, "apply", "--dsn", table)
    assert code == 1
    assert "generated/ is stale against specs/" in err
    assert _jobs(table) == {}


def test_clash_with_an_unmanaged_job(project: Project, cli: Cli, table: str) -> None:
    root = _tiny(project, cli, alpha="0 1 * * *")
    with psycopg.connect(table) as conn:
        conn.execute("SELECT cron.schedule('alpha', '0 9 * * *', 'SELECT 1')")
    code, out, _ = cli(root, "plan", "--dsn", table)
    assert code == 1 and "  ! job alpha" in out
    code, _, err = cli(root, "apply", "--dsn", table)
    assert code == 1
    assert err.startswith(
        "cronspec: error: migration failed, nothing was changed: cronspec: "
        "task alpha (specs/alpha.yaml): a pg_cron job named 'alpha' exists"
    )
    assert _jobs(table) == {"alpha": ("0 9 * * *", "SELECT 1", True)}


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("host=/nonexistent port=1 dbname=x connect_timeout=2", "cronspec: error: cannot connect:"),
        ("not a dsn", "cronspec: error: cannot connect:"),
    ],
)
def test_connection_failures_are_one_line(cli: Cli, dsn: str, message: str) -> None:
    code, _, err = cli(ROOT, "plan", "--dsn", dsn)
    assert code == 1
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_database_without_pg_cron(cli: Cli, cluster: object) -> None:
    from pgcluster import PgCluster

    assert isinstance(cluster, PgCluster)
    dsn = cluster.new_database("no_cron")
    try:
        code, _, err = cli(ROOT, "drift", "--dsn", dsn)
        assert code == 1
        assert err == (
            "cronspec: error: pg_cron is not installed in this database; run the "
            "migration in the database named by cron.database_name, where CREATE "
            "EXTENSION pg_cron works\n"
        )
    finally:
        cluster.drop_database("no_cron")


def test_missing_privilege_is_one_line(cli: Cli, cluster: object, db: str) -> None:
    from pgcluster import PgCluster

    assert isinstance(cluster, PgCluster)
    cluster.sql("DROP ROLE IF EXISTS nobody_special; CREATE ROLE nobody_special LOGIN")
    try:
        dsn = cluster.dsn().replace("user=postgres", "user=nobody_special")
        code, _, err = cli(ROOT, "plan", "--dsn", dsn)
        assert code == 1
        assert err.startswith(
            "cronspec: error: missing privilege: permission denied for schema cron"
        )
        assert err.count("\n") == 1
    finally:
        cluster.sql("DROP ROLE nobody_special")
