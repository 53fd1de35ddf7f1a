"""The pg_cron migration and its rollback on real PostgreSQL 15 servers: pg_cron 1.4.2 and 1.6.7.

What is proved here: applying the example creates exactly the declared jobs and procedures and
runs the @startup tasks; a second application changes no row; unmanaged jobs and procedures are
never touched; a name clash or any failure changes nothing and names the task and its spec file;
the rollback removes exactly what cronspec manages; the run-history purge job works; a plain role
can apply the migration; psql and psycopg (autocommit on or off) both apply the file as is.
Every test runs on both servers (`pg_server`), with the project compiled for the server's own
`[pg_cron] version`. The server checks the migration makes are run for real: a file written for
a newer pg_cron is refused, and on 1.6 `cron.timezone` must be the project's zone (a third and a
fourth server run with `cron.timezone = 'Asia/Kathmandu'`, where a job also fires, to show
which zone each pg_cron runs in).

The shared helpers are in tests/support/dbtools.py.
"""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.common import ROOT
from support.dbtools import (
    Compiled,
    Rows,
    apply,
    apply_fails,
    as_role,
    compiled,
    execute,
    jobs,
    message,
    migration,
    procedures,
    query,
    rollback_sql,
    snapshot,
    write_project,
)
from support.pgcluster import PgCluster
from support.servers import KINDS, Server
from support.targeting import start_server, target_root, with_version

from cronspec.plan import HISTORY_JOB, HISTORY_SCHEDULE

pytestmark = pytest.mark.db

EXAMPLE_SCHEMA = (ROOT / "example" / "schema.sql").read_text(encoding="utf-8")
Psql = Callable[..., subprocess.CompletedProcess[str]]


def expected_jobs(result: Compiled, user: str = "postgres") -> dict[str, tuple[object, ...]]:
    assert result.plan is not None
    return {
        j.jobname: (j.schedule, j.command, "cronspec_test", user, j.active)
        for j in result.plan.jobs
    }


def expected_procedures(result: Compiled) -> dict[str, str]:
    assert result.plan is not None
    return {p.name: p.body for p in result.plan.procedures}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def example(example: Path, pg_server: Server) -> Path:
    """The example, compiled for the server's pg_cron."""
    return target_root(example, pg_server.target)


@pytest.fixture
def project(project: Callable[..., Path], pg_server: Server) -> Callable[..., Path]:
    """Scratch projects compiled for the server's pg_cron (unless the toml names a version)."""

    def make(specs: dict[str, str], toml: str | None = None) -> Path:
        return project(specs, with_version(toml, pg_server.target))

    return make


@pytest.fixture
def example_db(pg_db: str) -> str:
    """The cron database with the example's tables."""
    execute(pg_db, EXAMPLE_SCHEMA)
    return pg_db


UNMANAGED = """
SELECT cron.schedule('handmade', '7 7 * * *', 'SELECT 1');
CREATE SCHEMA IF NOT EXISTS cronspec;
CREATE PROCEDURE cronspec."daily-pagerank-old"() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION cronspec.helper() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE PROCEDURE public."daily-pagerank"() LANGUAGE sql AS $$ SELECT 2 $$;
CREATE PROCEDURE public."pattern-learning"() LANGUAGE sql AS $$ SELECT 3 $$;
"""


def unmanaged(dsn: str) -> Rows:
    """What UNMANAGED made, with xmin: it must never change."""
    return query(
        dsn,
        "SELECT j.xmin::text, j::text FROM cron.job j WHERE jobname = 'handmade' "
        "UNION ALL SELECT p.xmin::text, p::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE (n.nspname, p.proname) IN (('cronspec', 'daily-pagerank-old'), "
        "('cronspec', 'helper'), ('public', 'daily-pagerank'), ('public', 'pattern-learning')) "
        "ORDER BY 2",
    )


# --- the example: declared state, @startup, procedures' results ------------------------------


def test_example_creates_the_declared_jobs_and_procedures(
    example_db: str, example: Path, pg_psql: Psql, tmp_path: Path
) -> None:
    result = compiled(example)
    sql_file = tmp_path / "pg_cron.sql"
    sql_file.write_text(result.files["pg_cron.sql"], encoding="utf-8")
    pg_psql(file=sql_file)  # psql -v ON_ERROR_STOP=1 -f, as the header says

    assert jobs(example_db) == expected_jobs(result)
    assert set(jobs(example_db)) == {
        "daily-pagerank",
        "daily-vacuum-analyze",
        "once-seed-work-plan",
        "pattern-learning",
        "weekly-populate-graph-deps",
    }
    assert procedures(example_db) == expected_procedures(result)
    assert len(procedures(example_db)) == 4
    # @startup ran inside the migration: the seed rows exist right after apply.
    assert query(example_db, "SELECT name FROM work_plan_themes") == [("Self-Improvement",)]
    assert query(
        example_db,
        "SELECT t.name, e.name FROM work_plan_epics e JOIN work_plan_themes t ON t.id = e.theme_id",
    ) == [("Self-Improvement", "Self-Improving Agents")]
    assert result.plan is not None
    assert [c.task for c in result.plan.startup_calls] == [
        "once-seed-work-plan",
        "weekly-populate-graph-deps",
    ]


EDGES = [(1, 2), (1, 3), (1, 2), (2, 3), (2, 2), (3, 1), (4, 3), (5, 1)]
NODES = 6  # node 6 has no edge at all; 3 only has incoming ones from 1, 2 and 4


def pagerank(nodes: int, edges: list[tuple[int, int]]) -> list[float]:
    """The spec's definition: distinct links without self-loops, dangling rank spread evenly."""
    links = sorted({(s, t) for s, t in edges if s != t})
    out = {s: sum(1 for a, _ in links if a == s) for s in range(1, nodes + 1)}
    rank = [1.0 / nodes] * nodes
    for _ in range(100):
        dangling = sum(rank[i - 1] for i in range(1, nodes + 1) if out[i] == 0)
        new = [0.15 / nodes + 0.85 * dangling / nodes] * nodes
        for s, t in links:
            new[t - 1] += 0.85 * rank[s - 1] / out[s]
        delta = sum(abs(a - b) for a, b in zip(new, rank, strict=True))
        rank = new
        if delta <= 1e-9:
            break
    return rank


def test_example_procedures_write_the_expected_rows(example_db: str, example: Path) -> None:
    apply(example_db, migration(example))
    execute(
        example_db,
        f"INSERT INTO graph_nodes (id, name) SELECT g, 'n' || g FROM generate_series(1, {NODES}) g;"
        "INSERT INTO graph_edges (source_id, target_id) VALUES "
        + ", ".join(f"({s}, {t})" for s, t in EDGES),
    )
    execute(example_db, 'CALL cronspec."weekly-populate-graph-deps"()')
    rows = query(
        example_db,
        "SELECT id, dependency_node_ids, dependent_node_ids FROM graph_nodes ORDER BY id",
    )
    for node, deps, dependents in rows:
        assert deps == sorted({t for s, t in EDGES if s == node})
        assert dependents == sorted({s for s, t in EDGES if t == node})
    xmins = query(example_db, "SELECT xmin::text FROM graph_nodes ORDER BY id")
    execute(example_db, 'CALL cronspec."weekly-populate-graph-deps"()')
    assert query(example_db, "SELECT xmin::text FROM graph_nodes ORDER BY id") == xmins

    execute(example_db, 'CALL cronspec."daily-pagerank"()')
    ranks = [r for (r,) in query(example_db, "SELECT pagerank FROM graph_nodes ORDER BY id")]
    assert math.isclose(sum(ranks), 1.0, abs_tol=1e-9)
    for got, want in zip(ranks, pagerank(NODES, EDGES), strict=True):
        assert math.isclose(got, want, abs_tol=1e-9)

    execute(
        example_db,
        "INSERT INTO pattern_events (pattern_type, pattern_key, succeeded, duration_ms) VALUES "
        "('sql', 'q1', true, 10), ('sql', 'q1', false, NULL), ('sql', 'q2', true, 30)",
    )
    learned = (
        "SELECT pattern_key, occurrences, successes, timed_runs, total_duration_ms, "
        "success_rate, avg_duration_ms FROM learned_patterns ORDER BY pattern_key"
    )
    execute(example_db, 'CALL cronspec."pattern-learning"()')
    first = [("q1", 2, 1, 1, 10, 0.5, 10.0), ("q2", 1, 1, 1, 30, 1.0, 30.0)]
    assert query(example_db, learned) == first
    execute(example_db, 'CALL cronspec."pattern-learning"()')  # each event counts once
    assert query(example_db, learned) == first
    execute(
        example_db,
        "INSERT INTO pattern_events (pattern_type, pattern_key, succeeded, duration_ms) "
        "VALUES ('sql', 'q1', true, 20)",
    )
    execute(example_db, 'CALL cronspec."pattern-learning"()')
    assert query(example_db, learned)[0] == ("q1", 3, 2, 2, 30, 2 / 3, 15.0)
    assert query(example_db, "SELECT count(*) FROM pattern_events WHERE learned_at IS NULL") == [
        (0,)
    ]
    # The VACUUM job is a bare command: it runs as pg_cron runs it, outside a transaction.
    (command,) = query(
        example_db, "SELECT command FROM cron.job WHERE jobname = 'daily-vacuum-analyze'"
    )[0]
    execute(example_db, command)


# --- idempotence, psql and psycopg ------------------------------------------------------------


def test_second_application_changes_no_row(
    example_db: str, example: Path, pg_psql: Psql, tmp_path: Path
) -> None:
    sql = migration(example)
    sql_file = tmp_path / "pg_cron.sql"
    sql_file.write_text(sql, encoding="utf-8")
    pg_psql(file=sql_file)
    before = snapshot(example_db)
    seeds = query(example_db, "SELECT xmin::text, t::text FROM work_plan_themes t")
    assert set(before) >= {"owned_job", "owned_procedure"}
    assert len(before["owned_job"]) == 5 and len(before["owned_procedure"]) == 4
    pg_psql(file=sql_file)
    assert snapshot(example_db) == before
    apply(example_db, sql, autocommit=False)  # psycopg's own BEGIN, then the file's
    assert snapshot(example_db) == before
    apply(example_db, sql, autocommit=True)
    assert snapshot(example_db) == before
    assert query(example_db, "SELECT xmin::text, t::text FROM work_plan_themes t") == seeds


@pytest.mark.parametrize("autocommit", [True, False])
def test_psycopg_applies_the_file_in_either_mode(
    example_db: str, example: Path, autocommit: bool
) -> None:
    result = compiled(example)
    apply(example_db, result.files["pg_cron.sql"], autocommit=autocommit)
    assert jobs(example_db) == expected_jobs(result)
    execute(example_db, "DROP TABLE pattern_events CASCADE")
    before = snapshot(example_db)
    error = apply_fails(example_db, result.files["pg_cron.sql"], autocommit=autocommit)
    # the live check names every task that needs the table: the first, then the others
    assert "relation pattern_events does not exist" in message(error)
    assert "pattern-learning" in message(error) + (error.diag.message_detail or "")
    assert snapshot(example_db) == before
    apply(example_db, result.files["pg_cron_rollback.sql"], autocommit=autocommit)
    assert jobs(example_db) == {}


def test_a_job_moved_to_another_database_comes_back(example_db: str, example: Path) -> None:
    """pg_cron 1.4's upsert keeps a job's database: the migration reschedules it."""
    result = compiled(example)
    apply(example_db, result.files["pg_cron.sql"])
    execute(
        example_db, "UPDATE cron.job SET database = 'postgres' WHERE jobname = 'daily-pagerank'"
    )
    apply(example_db, result.files["pg_cron.sql"])
    assert jobs(example_db) == expected_jobs(result)


# --- ownership: never touch what cronspec did not create --------------------------------------


def test_unmanaged_jobs_and_procedures_survive_apply_and_rollback(
    example_db: str, example: Path, pg_psql: Psql, tmp_path: Path
) -> None:
    execute(example_db, UNMANAGED)
    kept = unmanaged(example_db)
    assert len(kept) == 5
    result = compiled(example)
    apply(example_db, result.files["pg_cron.sql"])
    assert unmanaged(example_db) == kept
    assert {k: v for k, v in jobs(example_db).items() if k != "handmade"} == expected_jobs(result)
    assert procedures(example_db) == {
        **expected_procedures(result),
        "daily-pagerank-old": " SELECT 1 ",
    }
    apply(example_db, result.files["pg_cron.sql"])
    assert unmanaged(example_db) == kept

    rollback_file = tmp_path / "rollback.sql"
    rollback_file.write_text(result.files["pg_cron_rollback.sql"], encoding="utf-8")
    pg_psql(file=rollback_file)
    assert unmanaged(example_db) == kept
    assert set(jobs(example_db)) == {"handmade"}
    assert procedures(example_db) == {"daily-pagerank-old": " SELECT 1 "}
    assert "owned_job" not in snapshot(example_db)
    after_rollback = snapshot(example_db)
    pg_psql(file=rollback_file)  # the rollback is idempotent
    apply(example_db, result.files["pg_cron_rollback.sql"])
    assert snapshot(example_db) == after_rollback

    apply(example_db, result.files["pg_cron.sql"])  # and the migration applies again
    assert unmanaged(example_db) == kept
    assert procedures(example_db) == {
        **expected_procedures(result),
        "daily-pagerank-old": " SELECT 1 ",
    }


def test_rollback_on_a_database_never_migrated(pg_db: str, example: Path) -> None:
    execute(pg_db, "SELECT cron.schedule('handmade', '7 7 * * *', 'SELECT 1')")
    before = snapshot(pg_db)
    apply(pg_db, rollback_sql(example))
    apply(pg_db, rollback_sql(example))
    assert snapshot(pg_db) == before


CLASHES = {
    "job": (
        "SELECT cron.schedule('pattern-learning', '1 1 * * *', 'SELECT 1')",
        "pattern-learning",
    ),
    "procedure": (
        'CREATE SCHEMA IF NOT EXISTS cronspec; CREATE PROCEDURE cronspec."daily-pagerank"() '
        "LANGUAGE sql AS $$ SELECT 1 $$",
        "daily-pagerank",
    ),
    "function": (
        "CREATE SCHEMA IF NOT EXISTS cronspec; "
        'CREATE FUNCTION cronspec."weekly-populate-graph-deps"() '
        "RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
        "weekly-populate-graph-deps",
    ),
}


@pytest.mark.parametrize("kind", sorted(CLASHES))
@pytest.mark.parametrize("first_apply", [False, True], ids=["fresh", "after-apply"])
def test_a_name_clash_fails_and_changes_nothing(
    example_db: str, example: Path, pg_psql: Psql, tmp_path: Path, kind: str, first_apply: bool
) -> None:
    setup, task = CLASHES[kind]
    if first_apply:
        # cronspec ran before without this task; then someone made the clashing object.
        (example / "specs" / f"{task}.yaml").rename(tmp_path / f"{task}.yaml")
        apply(example_db, migration(example))
        (tmp_path / f"{task}.yaml").rename(example / "specs" / f"{task}.yaml")
    execute(example_db, setup)
    before = snapshot(example_db)
    sql_file = tmp_path / "pg_cron.sql"
    sql_file.write_text(migration(example), encoding="utf-8")
    failed = pg_psql(file=sql_file, check=False)
    assert failed.returncode != 0
    assert f"task {task} (specs/{task}.yaml)" in failed.stderr
    assert "exists, and cronspec's bookkeeping does not record it" in failed.stderr
    assert "differ" in failed.stderr or "not a procedure" in failed.stderr
    assert "HINT:  rename the task" in failed.stderr
    assert snapshot(example_db) == before
    error = apply_fails(example_db, migration(example))
    assert f"task {task} (specs/{task}.yaml)" in message(error)
    assert snapshot(example_db) == before


# --- all or nothing ---------------------------------------------------------------------------


def test_a_body_that_no_longer_applies_fails_and_changes_nothing(
    example_db: str, example: Path
) -> None:
    """A column of pattern_events is dropped after a first apply: the unchanged body no longer
    applies (the tables exist, so the live check passes; PostgreSQL's check of the body fails)."""
    sql = migration(example)
    apply(example_db, sql)
    execute(example_db, "ALTER TABLE pattern_events DROP COLUMN learned_at CASCADE")
    before = snapshot(example_db)
    error = apply_fails(example_db, sql)
    assert "task pattern-learning (specs/pattern-learning.yaml)" in message(error)
    assert "learned_at" in message(error)
    assert snapshot(example_db) == before


def test_a_late_failure_undoes_every_earlier_change(
    example_db: str, example: Path, project: Callable[..., Path]
) -> None:
    apply(example_db, migration(example))
    execute(example_db, UNMANAGED.replace("CREATE SCHEMA IF NOT EXISTS cronspec;", ""))
    before = snapshot(example_db)
    specs = example / "specs"
    (specs / "daily-pagerank.yaml").unlink()  # removed: its job and procedure would go
    pattern = specs / "pattern-learning.yaml"
    pattern.write_text(pattern.read_text().replace("*/5 * * * *", "*/10 * * * *"))
    (specs / "zz-broken.yaml").write_text(
        "name: zz-broken\ndescription: d\nkind: sql\nschedule: '0 1 * * *'\n"
        "sql: UPDATE no_such_table SET x = 1;\n"
    )
    error = apply_fails(example_db, migration(example))
    assert "task zz-broken (specs/zz-broken.yaml)" in message(error)
    assert "no_such_table" in message(error)
    assert snapshot(example_db) == before


def test_a_failing_startup_task_is_named_and_changes_nothing(
    pg_db: str, project: Callable[..., Path]
) -> None:
    root = project(
        {
            "boom.yaml": "name: boom\ndescription: d\nkind: sql\n"
            "schedule: ['@startup', '0 1 * * *']\nsql: INSERT INTO t VALUES (1 / 0);\n",
        }
    )
    execute(pg_db, "CREATE TABLE t (x int)")
    before = snapshot(pg_db)
    error = apply_fails(pg_db, migration(root))
    assert "task boom (specs/boom.yaml)" in message(error)
    assert "division by zero" in message(error)
    assert snapshot(pg_db) == before


# --- run history ------------------------------------------------------------------------------

TRIVIAL = (
    "name: {name}\ndescription: d\nkind: sql\nschedule: '{schedule}'\n"
    "sql: UPDATE tiny SET n = n + 1;\n"
)


def test_keep_history_purges_old_run_details(pg_db: str, project: Callable[..., Path]) -> None:
    specs = {"bump.yaml": TRIVIAL.format(name="bump", schedule="0 1 * * *")}
    root = project(specs, toml='[pg_cron]\nkeep_history = "7 days"\n')
    execute(pg_db, "CREATE TABLE tiny (n int NOT NULL DEFAULT 0)")
    apply(pg_db, migration(root))
    found = jobs(pg_db)
    assert set(found) == {"bump", HISTORY_JOB}
    schedule, command, database, _, active = found[HISTORY_JOB]
    assert (schedule, database, active) == (HISTORY_SCHEDULE, "cronspec_test", True)
    assert "cron.job_run_details" in command and "7 days" in command

    execute(
        pg_db,
        "INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, "
        "start_time, end_time) VALUES "
        "(1, 900001, 'cronspec_test', 'postgres', 'SELECT 1', 'succeeded', "
        " now() - interval '9 days', now() - interval '9 days'), "
        "(1, 900002, 'cronspec_test', 'postgres', 'SELECT 1', 'succeeded', "
        " now() - interval '1 day', now() - interval '1 day')",
    )
    execute(pg_db, command)
    assert query(pg_db, "SELECT runid FROM cron.job_run_details WHERE runid > 900000") == [
        (900002,)
    ]

    apply(pg_db, migration(project(specs)))  # keep_history removed: its job goes
    assert set(jobs(pg_db)) == {"bump"}


# --- a role that is not superuser -------------------------------------------------------------

ROLE = "cronspec_deployer"


@pytest.fixture
def deployer(pg_db: str) -> Iterator[str]:
    """A plain login role owning the app's objects; returns its DSN."""
    execute(
        pg_db,
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
            CREATE ROLE {ROLE} LOGIN;
          END IF;
        END $$;
        GRANT USAGE ON SCHEMA cron TO {ROLE};
        GRANT CREATE ON DATABASE cronspec_test TO {ROLE};
        GRANT CREATE ON SCHEMA public TO {ROLE};
        """,
    )
    try:
        yield as_role(pg_db, ROLE)
    finally:
        execute(
            pg_db,
            f"REVOKE EXECUTE ON FUNCTION cron.alter_job(bigint, text, text, text, text, boolean) "
            f"FROM {ROLE}",
        )


def test_a_plain_role_applies_when_no_job_changes_active(
    deployer: str, pg_db: str, example: Path, project: Callable[..., Path]
) -> None:
    execute(deployer, EXAMPLE_SCHEMA)
    result = compiled(example)
    apply(deployer, result.files["pg_cron.sql"])
    assert jobs(pg_db) == expected_jobs(result, user=ROLE)
    assert procedures(pg_db) == expected_procedures(result)
    before = snapshot(pg_db)
    apply(deployer, result.files["pg_cron.sql"])
    assert snapshot(pg_db) == before

    # `enabled: false` needs cron.alter_job, revoked from PUBLIC: a clear failure, no change.
    spec = example / "specs" / "pattern-learning.yaml"
    spec.write_text(spec.read_text() + "enabled: false\n")
    error = apply_fails(deployer, migration(example))
    text = message(error)
    assert "task pattern-learning (specs/pattern-learning.yaml)" in text
    assert "cron.alter_job" in text and ROLE in text
    assert "GRANT EXECUTE ON FUNCTION cron.alter_job" in (error.diag.message_hint or "")
    assert snapshot(pg_db) == before

    # With EXECUTE granted, the plain role can (de)activate its own jobs.
    execute(
        pg_db,
        "GRANT EXECUTE ON FUNCTION cron.alter_job(bigint, text, text, text, text, boolean) "
        f"TO {ROLE}",
    )
    apply(deployer, migration(example))
    assert jobs(pg_db)["pattern-learning"][4] is False
    apply(deployer, rollback_sql(example))
    assert jobs(pg_db) == {}
    assert procedures(pg_db) == {}


def test_a_plain_role_leaves_other_roles_jobs_alone(
    deployer: str, pg_db: str, project: Callable[..., Path]
) -> None:
    """Jobs are per role; so is the run history the purge job can see and delete."""
    root = project(
        {"bump.yaml": TRIVIAL.format(name="bump", schedule="0 1 * * *")},
        toml='[pg_cron]\nkeep_history = "7 days"\n',
    )
    execute(pg_db, "CREATE TABLE tiny (n int NOT NULL DEFAULT 0); GRANT ALL ON tiny TO PUBLIC")
    execute(pg_db, "SELECT cron.schedule('bump', '5 5 * * *', 'SELECT 1')")  # postgres's own job
    postgres_job = query(pg_db, "SELECT j.xmin::text, j::text FROM cron.job j")
    apply(deployer, migration(root))
    rows = query(pg_db, "SELECT username, schedule FROM cron.job WHERE jobname = 'bump' ORDER BY 1")
    assert rows == [(ROLE, "0 1 * * *"), ("postgres", "5 5 * * *")]
    execute(
        pg_db,
        "INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, "
        "start_time, end_time) SELECT 1, 900000 + i, 'cronspec_test', u, 'SELECT 1', "
        "'succeeded', now() - interval '9 days', now() - interval '9 days' "
        f"FROM unnest(ARRAY['postgres', '{ROLE}']) WITH ORDINALITY AS x(u, i)",
    )
    (command,) = query(deployer, "SELECT command FROM cron.job WHERE jobname LIKE 'cronspec:%'")[0]
    execute(deployer, command)  # as the job runs: as its role, under row-level security
    assert query(pg_db, "SELECT username FROM cron.job_run_details WHERE runid > 900000") == [
        ("postgres",)
    ]
    apply(deployer, rollback_sql(root))
    assert query(pg_db, "SELECT j.xmin::text, j::text FROM cron.job j") == postgres_job


# --- psql -1 and psql without ON_ERROR_STOP ---------------------------------------------------


def test_psql_single_transaction_and_no_error_stop(
    example_db: str, example: Path, pg_server: Server, tmp_path: Path
) -> None:
    cluster = pg_server.cluster
    sql_file = tmp_path / "pg_cron.sql"
    sql_file.write_text(migration(example), encoding="utf-8")
    base = [a for a in cluster.psql() if a != "ON_ERROR_STOP=1"]
    base.remove("-v")
    run = subprocess.run(
        [*base, "-q", "-1", "-f", str(sql_file)],
        capture_output=True,
        text=True,
        env=cluster.env(),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = compiled(example)
    assert jobs(example_db) == expected_jobs(result)
    execute(example_db, "DROP TABLE pattern_events")
    before = snapshot(example_db)
    # Without ON_ERROR_STOP psql goes on after the error; the file's COMMIT then rolls back.
    run = subprocess.run(
        [*base, "-q", "-f", str(sql_file)],
        capture_output=True,
        text=True,
        env=cluster.env(),
        check=False,
    )
    assert "task pattern-learning" in run.stderr
    assert snapshot(example_db) == before


# --- settings and awkward text ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_a_migration_for_a_newer_pg_cron_refuses_to_run(
    db: str, tmp_path: Path, version: str
) -> None:
    """A file written for 1.5 or 1.6 on the 1.4.2 server (1.6.7 is the newest there is)."""
    root = write_project(
        tmp_path,
        {"bump": TRIVIAL.format(name="bump", schedule="0 1 * * *")},
        f'[pg_cron]\nversion = "{version}"\n',
    )
    execute(db, "CREATE TABLE tiny (n int NOT NULL DEFAULT 0)")
    before = snapshot(db)
    error = apply_fails(db, migration(root))
    assert f"generated for pg_cron {version}, but this server has pg_cron 1.4" in message(error)
    assert snapshot(db) == before


def test_changing_the_procedure_schema_moves_the_procedures(
    pg_db: str, project: Callable[..., Path]
) -> None:
    specs = {
        "bump.yaml": TRIVIAL.format(name="bump", schedule="0 1 * * *"),
        "other.yaml": TRIVIAL.format(name="other", schedule="0 2 * * *"),
    }
    execute(pg_db, "CREATE TABLE tiny (n int NOT NULL DEFAULT 0)")
    apply(pg_db, migration(project(specs)))
    jobid = query(pg_db, "SELECT jobid FROM cron.job WHERE jobname = 'bump'")
    moved = project(specs, toml='[pg_cron]\nschema = "jobs"\n')
    apply(pg_db, migration(moved))
    assert procedures(pg_db, "cronspec") == {}
    assert set(procedures(pg_db, "jobs")) == {"bump", "other"}
    assert jobs(pg_db)["bump"][1] == 'CALL "jobs"."bump"()'
    assert query(pg_db, "SELECT jobid FROM cron.job WHERE jobname = 'bump'") == jobid
    execute(pg_db, 'CALL jobs."bump"()')
    apply(pg_db, rollback_sql(moved))
    assert procedures(pg_db, "jobs") == {} and jobs(pg_db) == {}


AWKWARD_BODY = (
    "UPDATE odd SET s = 'it''s \\ $body$ é ' || $x$ $body_1$ $x$ || E'\\t' || %s\n"
    'WHERE "Weird ""col""" IS NULL OR s LIKE \'%%\\_%%\';'
)


def test_bodies_and_commands_with_quotes_dollars_and_backslashes(
    pg_db: str, project: Callable[..., Path]
) -> None:
    body = AWKWARD_BODY % "'%I'"
    spec = "name: odd\ndescription: d\nkind: sql\nschedule: '0 1 * * *'\nsql: |\n" + "".join(
        f"  {line}\n" for line in body.split("\n")
    )
    bare = (
        "name: bare\ndescription: d\nkind: sql\nschedule: '0 2 * * *'\n"
        "sql: 'VACUUM \"Odd ''Table\"'\n"
    )
    root = project({"odd.yaml": spec, "bare.yaml": bare})
    execute(pg_db, 'CREATE TABLE odd (s text, "Weird ""col""" int); CREATE TABLE "Odd \'Table" ()')
    result = compiled(root)
    apply(pg_db, result.files["pg_cron.sql"])
    assert procedures(pg_db) == {"odd": body + "\n"}
    assert jobs(pg_db)["bare"][1] == 'VACUUM "Odd \'Table"'
    execute(pg_db, "INSERT INTO odd VALUES ('a', NULL)")
    execute(pg_db, 'CALL cronspec."odd"()')
    assert query(pg_db, "SELECT s FROM odd") == [("it's \\ $body$ é  $body_1$ \t%I",)]
    before = snapshot(pg_db)
    apply(pg_db, result.files["pg_cron.sql"])
    assert snapshot(pg_db) == before


def test_concurrent_deploys_wait_for_each_other(example_db: str, example: Path) -> None:
    """Two deploys at once: without a lock, CREATE SCHEMA or CREATE OR REPLACE collide."""

    def deploy_all(sql: str) -> list[BaseException]:
        errors: list[BaseException] = []

        def deploy() -> None:
            try:
                apply(example_db, sql)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=deploy) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    result = compiled(example)
    assert deploy_all(result.files["pg_cron.sql"]) == []
    assert jobs(example_db) == expected_jobs(result)
    for spec in (example / "specs").glob("*.yaml"):  # bodies and schedules change
        text = spec.read_text().replace('schedule: "0 ', 'schedule: "1 ').replace('- "0 ', '- "1 ')
        if "kind: sql" in text and "VACUUM" not in text:
            text += "  SELECT 1;\n"
        spec.write_text(text)
    changed = compiled(example)
    assert changed.files["pg_cron.sql"] != result.files["pg_cron.sql"]
    assert deploy_all(changed.files["pg_cron.sql"]) == []
    assert jobs(example_db) == expected_jobs(changed)
    assert procedures(example_db) == expected_procedures(changed)


# --- cron.timezone: which zone each pg_cron runs jobs in, and the migration's check -------------

ZONE = "Asia/Kathmandu"  # +05:45: a job at the same instant has another minute and hour there


@pytest.fixture(scope="module")
def zoned() -> Iterator[dict[str, PgCluster]]:
    """A 1.4.2 and a 1.6.7 server started with cron.timezone = Asia/Kathmandu (pg_cron reads it
    only at server start)."""
    started: dict[str, PgCluster] = {}
    try:
        for key, kind in KINDS.items():
            started[key] = start_server(kind, "cronspec_test", {"cron.timezone": f"'{ZONE}'"})
        yield started
    finally:
        for pg in started.values():
            pg.stop()


def test_the_cron_timezone_check_passes_on_a_matching_server_and_fails_on_another(
    db16: str, zoned: dict[str, PgCluster], tmp_path: Path
) -> None:
    """pg_cron 1.6 runs jobs in cron.timezone: the migration checks it is the project's zone."""
    specs = {"bump": TRIVIAL.format(name="bump", schedule="0 1 * * *")}
    here = write_project(
        tmp_path / "here", specs, f'timezone = "{ZONE}"\n[pg_cron]\nversion = "1.6"\n'
    )
    utc = write_project(tmp_path / "utc", specs, '[pg_cron]\nversion = "1.6"\n')
    kathmandu = zoned["1.6"].dsn()
    for dsn in (kathmandu, db16, zoned["1.4"].dsn()):
        execute(dsn, "CREATE TABLE IF NOT EXISTS tiny (n int NOT NULL DEFAULT 0)")
    apply(kathmandu, migration(here))
    assert jobs(kathmandu)["bump"][:1] == ("0 1 * * *",)
    before = snapshot(db16)
    error = apply_fails(db16, migration(here))
    assert f"schedules are written for {ZONE}, but cron.timezone is GMT" in message(error)
    assert snapshot(db16) == before
    before = snapshot(kathmandu)
    error = apply_fails(kathmandu, migration(utc))
    assert f"written for UTC (or GMT), but cron.timezone is {ZONE}" in message(error)
    assert snapshot(kathmandu) == before
    apply(db16, migration(utc))  # GMT is UTC
    # pg_cron 1.4 ignores the setting: a 1.4 file in UTC applies on a server that sets another
    apply(zoned["1.4"].dsn(), migration(write_project(tmp_path / "v14", specs)))


def test_cron_timezone_is_one_setting_of_the_server(db16: str) -> None:
    """pg_cron has no zone per job: cron.timezone is read at server start, for every job."""
    assert query(db16, "SELECT context FROM pg_settings WHERE name = 'cron.timezone'") == [
        ("postmaster",)
    ]
    columns = query(
        db16,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'cron' AND table_name = 'job' AND column_name ~ 'zone'",
    )
    assert columns == []


def test_pg_cron_1_4_runs_in_gmt_and_1_6_in_cron_timezone(zoned: dict[str, PgCluster]) -> None:
    """On both servers (cron.timezone = Asia/Kathmandu) one job is due at the next minute in
    GMT, another at the same instant in Kathmandu; 1.4.2 runs the first, 1.6.7 the second."""
    now = datetime.now(UTC)
    due = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (due - now).total_seconds() < 5:  # time to schedule them before the minute starts
        due += timedelta(minutes=1)
    local = due.astimezone(ZoneInfo(ZONE))
    for pg in zoned.values():
        execute(
            pg.dsn(),
            "DROP TABLE IF EXISTS fired; CREATE TABLE fired (zone text);"
            f"SELECT cron.schedule('gmt', '{due.minute} {due.hour} * * *', "
            "$$INSERT INTO fired VALUES ('gmt')$$);"
            f"SELECT cron.schedule('local', '{local.minute} {local.hour} * * *', "
            "$$INSERT INTO fired VALUES ('local')$$);",
        )
    expected = {"1.4": [("gmt",)], "1.6": [("local",)]}
    deadline = due + timedelta(seconds=20)
    got: dict[str, Rows] = {}
    while datetime.now(UTC) < deadline:
        got = {k: query(pg.dsn(), "SELECT zone FROM fired") for k, pg in zoned.items()}
        if all(got.values()):
            break
        time.sleep(0.5)
    time.sleep(1)  # the other job, if pg_cron ran it too, has had its chance
    got = {k: query(pg.dsn(), "SELECT zone FROM fired ORDER BY 1") for k, pg in zoned.items()}
    for pg in zoned.values():
        execute(pg.dsn(), "SELECT cron.unschedule(jobid) FROM cron.job")
    assert got == expected, f"due {due:%H:%M} GMT = {local:%H:%M} in {ZONE}"
