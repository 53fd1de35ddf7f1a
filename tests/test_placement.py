"""Tasks placed in another database: scheduled there with cron.schedule_in_database, moved
back and forth, refused where they cannot work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from support.common import SQL_TASK
from support.servers import Server
from support.targeting import with_version

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def project(project: Project, pg_server: Server) -> Project:
    """Scratch projects compiled for the server's pg_cron (unless the toml names a version)."""

    def make(specs: dict[str, str], toml: str | None = None) -> Path:
        return project(specs, with_version(toml, pg_server.target))

    return make


@pytest.fixture
def other(pg_server: Server, pg_db: str) -> Iterator[str]:
    pg_server.cluster.new_database("analytics")
    with psycopg.connect(pg_server.cluster.dsn("analytics")) as conn:
        conn.execute("CREATE TABLE t (a int)")
    with psycopg.connect(pg_db) as conn:
        conn.execute("CREATE TABLE t (a int)")
    yield pg_db
    with psycopg.connect(pg_db) as conn:  # the job must go before its database can
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
    pg_server.cluster.drop_database("analytics")


def _job(dsn: str) -> tuple[str, str, str]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT jobname, command, database FROM cron.job").fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_a_task_moves_to_another_database_and_back(project: Project, cli: Cli, other: str) -> None:
    spec = SQL_TASK.format(name="rollup", schedule="0 1 * * *")
    root = project({"rollup.yaml": spec + "database: analytics\n"})
    assert cli(root, "compile")[0] == 0
    code, out, err = cli(root, "apply", "--dsn", other)
    assert code == 0, err
    assert _job(other) == ("rollup", "UPDATE t SET a = a + 1;", "analytics")
    assert cli(root, "drift", "--dsn", other)[0] == 0
    code, out, _ = cli(root, "plan", "--dsn", other)
    assert (code, out.splitlines()[0]) == (
        0,
        "cronspec plan: no changes; 1 unchanged (project default, role postgres)",
    )
    (root / "specs" / "rollup.yaml").write_text(spec)
    assert cli(root, "compile")[0] == 0
    code, out, _ = cli(root, "plan", "--dsn", other)
    assert code == 2 and "database analytics -> cronspec_test" in out
    assert cli(root, "apply", "--dsn", other)[0] == 0
    assert _job(other) == ("rollup", 'CALL "cronspec"."rollup"()', "cronspec_test")


def test_a_missing_database_fails_the_migration(project: Project, cli: Cli, other: str) -> None:
    root = project(
        {
            "rollup.yaml": SQL_TASK.format(name="rollup", schedule="0 1 * * *")
            + "database: nowhere\n"
        }
    )
    assert cli(root, "compile")[0] == 0
    code, _, err = cli(root, "apply", "--dsn", other)
    assert code == 1
    assert ("cronspec: task rollup (specs/rollup.yaml): database nowhere does not exist") in err
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT count(*) FROM cron.job").fetchone() == (0,)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "schedule: ['0 1 * * *', '@startup']\n",
            "error[X504]: @startup runs in the migration's database, not in `analytics`",
        ),
        (
            "needs: [ml]\nworker: A.Worker\n",
            "error[X504]: `database:` places a pg_cron job, but this task runs on Oban",
        ),
    ],
)
def test_refused_placements(project: Project, cli: Cli, extra: str, message: str) -> None:
    text = SQL_TASK.format(name="x", schedule="0 1 * * *") + "database: analytics\n"
    if extra.startswith("schedule:"):
        text = text.replace('schedule: "0 1 * * *"\n', extra)
    else:
        text += extra
    code, _, err = cli(project({"x.yaml": text}), "compile")
    assert code == 1 and message in err, err
