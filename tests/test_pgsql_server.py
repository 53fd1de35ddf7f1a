"""Where PostgreSQL runs each statement, asked of a real PostgreSQL 15: the truth that
cronspec.pgsql's placement table (and scheduler-facts.md) must match.

Each statement runs four ways, each in a fresh session with the simple query protocol, as
pg_cron sends a job's command:
- procedure: the body of a `LANGUAGE sql` procedure that is then CALLed (cronspec's wrapper);
- block: inside an explicit BEGIN ... ROLLBACK;
- multi: after another statement in one command (pg_cron runs that as one implicit block);
- alone: the whole command, at top level.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import pq
from support.common import need
from support.pgcluster import PgCluster, _pg_dirs, available, find_bindir

from cronspec.classify.pgsql import analyze

pytestmark = pytest.mark.db

SETUP = r"""
CREATE SCHEMA probe;
CREATE TABLE probe.t (id int PRIMARY KEY, v text);
INSERT INTO probe.t SELECT g, g::text FROM generate_series(1, 100) g;
CREATE INDEX t_v ON probe.t (v);
ALTER TABLE probe.t CLUSTER ON t_pkey;
CREATE TABLE probe.t2 (id int);
CREATE MATERIALIZED VIEW probe.mv AS SELECT id, v FROM probe.t;
CREATE UNIQUE INDEX mv_id ON probe.mv (id);
CREATE TABLE probe.pt (id int) PARTITION BY RANGE (id);
CREATE TABLE probe.pt1 PARTITION OF probe.pt FOR VALUES FROM (0) TO (100);
CREATE INDEX pt_id ON probe.pt (id);
CREATE PROCEDURE probe.commits() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;
CREATE PROCEDURE probe.commits_with_set() LANGUAGE plpgsql SET work_mem = '8MB'
  AS $$ BEGIN COMMIT; END $$;
CREATE PROCEDURE probe.commits_as_definer() LANGUAGE plpgsql SECURITY DEFINER
  AS $$ BEGIN COMMIT; END $$;
CREATE PROCEDURE probe.no_commit() LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; END $$;
CREATE PUBLICATION probe_pub FOR TABLE probe.t;
"""

OK = "ok"
NO_FUNCTION = "cannot be executed from a function"
NO_BLOCK = "cannot run inside a transaction block"
TERMINATION = "invalid transaction termination"
NEEDS_BLOCK = "can only be used in transaction blocks"
CONTEXTS = ("procedure", "block", "multi", "alone")

# What the server does with a statement of each placement (see cronspec.pgsql.Placement).
BEHAVIOUR = {
    "anywhere": {"procedure": OK, "block": OK, "multi": OK, "alone": OK},
    "alone": {"procedure": NO_FUNCTION, "block": NO_BLOCK, "multi": NO_BLOCK, "alone": OK},
    "top_level": {
        "procedure": TERMINATION,
        "block": TERMINATION,
        "multi": TERMINATION,
        "alone": OK,
    },
    "in_block": {"procedure": OK, "block": OK, "multi": OK, "alone": NEEDS_BLOCK},
}


@dataclass(frozen=True)
class Case:
    sql: str
    behaves: str = ""  # how the server behaves, when the placement alone cannot say
    setup: str = ""  # run before each way, at top level
    cleanup: str = ""  # run after each way, at top level
    differs: dict[str, str] = field(default_factory=dict)  # outcomes other than BEHAVIOUR's

    def __str__(self) -> str:
        return self.sql


CASES = [
    Case("SELECT 1"),
    Case("VACUUM probe.t"),
    Case("VACUUM (ANALYZE) probe.t"),
    Case("VACUUM FULL probe.t2"),
    Case("VACUUM"),
    Case("ANALYZE probe.t"),
    Case("ANALYZE probe.pt"),
    Case("CLUSTER"),
    Case("CLUSTER probe.t USING t_pkey", behaves="anywhere"),
    Case("CLUSTER probe.t", behaves="anywhere"),
    Case("CLUSTER probe.pt USING pt_id", behaves="alone"),  # partitioned: refused
    Case("REINDEX TABLE probe.t", behaves="anywhere"),
    Case("REINDEX INDEX probe.t_v", behaves="anywhere"),
    Case("REINDEX TABLE probe.pt", behaves="alone"),  # partitioned: refused
    Case("REINDEX INDEX probe.pt_id", behaves="alone"),
    Case("REINDEX TABLE CONCURRENTLY probe.t"),
    Case("REINDEX INDEX CONCURRENTLY probe.t_v"),
    Case("REINDEX SCHEMA probe"),
    Case("REINDEX DATABASE probe"),
    Case("REINDEX SYSTEM probe"),
    Case("REFRESH MATERIALIZED VIEW probe.mv"),
    Case("REFRESH MATERIALIZED VIEW CONCURRENTLY probe.mv"),
    Case("CREATE INDEX probe_i ON probe.t (v, id)", cleanup="DROP INDEX IF EXISTS probe.probe_i"),
    Case(
        "CREATE INDEX CONCURRENTLY probe_i ON probe.t (v, id)",
        cleanup="DROP INDEX IF EXISTS probe.probe_i",
    ),
    Case(
        "DROP INDEX CONCURRENTLY probe.probe_d",
        setup="CREATE INDEX IF NOT EXISTS probe_d ON probe.t (id, v)",
    ),
    Case(
        "ALTER TABLE probe.pt DETACH PARTITION probe.pt1 CONCURRENTLY",
        cleanup="ALTER TABLE probe.pt ATTACH PARTITION probe.pt1 FOR VALUES FROM (0) TO (100)",
    ),
    Case("CREATE DATABASE probe_new", cleanup="DROP DATABASE IF EXISTS probe_new"),
    Case(
        "DROP DATABASE probe_old",
        setup="CREATE DATABASE probe_old",
        cleanup="DROP DATABASE IF EXISTS probe_old",
    ),
    Case(
        "CREATE TABLESPACE probe_ts LOCATION '@TS@'", cleanup="DROP TABLESPACE IF EXISTS probe_ts"
    ),
    Case(
        "DROP TABLESPACE probe_ts",
        setup="CREATE TABLESPACE probe_ts LOCATION '@TS@'",
        cleanup="DROP TABLESPACE IF EXISTS probe_ts",
    ),
    Case(
        "ALTER DATABASE probe_tsdb SET TABLESPACE probe_ts",
        setup="CREATE DATABASE probe_tsdb; CREATE TABLESPACE probe_ts LOCATION '@TS@'",
        cleanup="DROP DATABASE IF EXISTS probe_tsdb; DROP TABLESPACE IF EXISTS probe_ts",
    ),
    Case("ALTER SYSTEM SET work_mem = '8MB'", cleanup="ALTER SYSTEM RESET work_mem"),
    Case(
        "ALTER DATABASE probe SET work_mem = '8MB'", cleanup="ALTER DATABASE probe RESET work_mem"
    ),
    Case("DISCARD ALL"),
    Case("DISCARD PLANS"),
    Case("DISCARD TEMP"),
    Case("CHECKPOINT"),
    Case("LOCK probe.t"),
    Case("LOCK TABLE probe.t IN SHARE MODE"),
    Case("DECLARE probe_c CURSOR FOR SELECT 1"),
    Case("DECLARE probe_c CURSOR WITH HOLD FOR SELECT 1"),
    Case("TRUNCATE probe.t2"),
    Case("SET work_mem = '8MB'"),
    Case("RESET work_mem"),
    Case("LISTEN probe_ch"),
    Case("NOTIFY probe_ch, 'x'"),
    Case("PREPARE probe_q AS SELECT 1"),
    Case("CALL probe.commits()", behaves="top_level"),
    Case("CALL probe.no_commit()", behaves="anywhere"),
    # scheduler-facts.md: a committing callee with a SET clause or SECURITY DEFINER fails even
    # alone at top level
    Case("CALL probe.commits_with_set()", behaves="top_level", differs={"alone": TERMINATION}),
    Case("CALL probe.commits_as_definer()", behaves="top_level", differs={"alone": TERMINATION}),
    Case(
        "CREATE SUBSCRIPTION probe_sub CONNECTION 'host=/nonexistent dbname=x' "
        "PUBLICATION probe_pub WITH (connect = false)",
        cleanup="ALTER SUBSCRIPTION probe_sub DISABLE; "
        "ALTER SUBSCRIPTION probe_sub SET (slot_name = NONE); "
        "DROP SUBSCRIPTION IF EXISTS probe_sub",
    ),
    Case(  # alone, it gets past the placement check and fails to connect, as it should here
        "CREATE SUBSCRIPTION probe_sub CONNECTION 'host=/nonexistent dbname=x' "
        "PUBLICATION probe_pub",
        differs={"alone": "could not connect to the publisher"},
    ),
    Case("COPY probe.t TO '/dev/null'"),
    Case("CREATE EXTENSION IF NOT EXISTS pg_trgm", cleanup="DROP EXTENSION IF EXISTS pg_trgm"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[PgCluster]:
    need(available(), "PostgreSQL 15")
    with PgCluster("cronspec_pgsql") as pg:
        scratch = Path(pg.host) / "scratch"
        scratch.mkdir()
        (scratch / "ts").mkdir()
        if os.geteuid() == 0:  # the server runs as postgres
            for path in (scratch, scratch / "ts"):
                shutil.chown(path, "postgres", "postgres")
        pg.new_database("probe")
        pg.sql(SETUP, dbname="probe")
        yield pg


def run(conn: psycopg.Connection[tuple[object, ...]], sql: str) -> str:
    """One simple-protocol query, as pg_cron sends it: "ok" or the error's first line."""
    result = conn.pgconn.exec_(sql.encode())
    if result.status == pq.ExecStatus.FATAL_ERROR:
        return (result.error_message or b"").decode().strip().splitlines()[0]
    return OK


def session(pg: PgCluster, dbname: str = "probe") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(pg.dsn(dbname), autocommit=True)


def each(pg: PgCluster, sql: str) -> None:
    for part in sql.split(";"):
        if part.strip():
            with session(pg) as conn:
                run(conn, part)


def outcome(pg: PgCluster, body: str, way: str) -> str:
    conn = session(pg)
    try:
        if way == "procedure":
            created = run(
                conn, f"CREATE OR REPLACE PROCEDURE probe.job() LANGUAGE sql AS $job$ {body} $job$"
            )
            return run(conn, "CALL probe.job()") if created == OK else f"create: {created}"
        if way == "block":
            run(conn, "BEGIN")
            return run(conn, body)
        if way == "multi":
            return run(conn, f"SELECT 1; {body}")
        return run(conn, body)
    finally:
        conn.close()  # never COMMIT: a block is rolled back with the session


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_server_runs_each_statement_where_the_analysis_says(
    server: PgCluster, case: Case
) -> None:
    tablespace = str(Path(server.host) / "scratch" / "ts")
    sql = case.sql.replace("@TS@", tablespace)
    (statement,) = analyze(sql).statements
    behaves = case.behaves or statement.placement
    # what only the live database knows: is the relation partitioned, does the callee COMMIT
    allowed = {
        "alone_if_partitioned": {"anywhere", "alone"},
        "top_level": {"top_level", "anywhere"},
    }.get(statement.placement, {statement.placement})
    assert behaves in allowed, (statement.placement, behaves)
    expected = {**BEHAVIOUR[behaves], **case.differs}
    observed = {}
    for way in CONTEXTS:
        each(server, case.setup.replace("@TS@", tablespace))
        observed[way] = outcome(server, sql, way)
        each(server, case.cleanup)
    for way in CONTEXTS:
        assert expected[way] in observed[way], (way, observed)
        if expected[way] == NO_FUNCTION or expected[way] == NO_BLOCK:
            assert statement.why in observed[way]  # the analysis names it as PostgreSQL does


def test_set_transaction_cannot_run_in_a_wrapper(server: PgCluster) -> None:
    body = "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"
    assert [f.kind for f in analyze(body).findings] == ["transaction_control"]
    assert "must be called before any query" in outcome(server, body, "procedure")
    assert "must be called before any query" in outcome(server, body, "multi")


def test_a_procedure_cannot_use_a_table_its_body_creates(server: PgCluster) -> None:
    body = "CREATE TABLE probe.made (a int); INSERT INTO probe.made VALUES (1)"
    assert [f.kind for f in analyze(body).findings] == ["own_relation"]
    try:
        got = outcome(server, body, "procedure")
        assert got == 'create: ERROR:  relation "probe.made" does not exist'
        with session(server) as conn:
            run(conn, "SET check_function_bodies = off")
            run(conn, f"CREATE OR REPLACE PROCEDURE probe.job() LANGUAGE sql AS $j$ {body} $j$")
            # created unchecked, it still fails when called: every statement is analysed first
            assert run(conn, "CALL probe.job()") == 'ERROR:  relation "probe.made" does not exist'
        assert outcome(server, body, "multi") == OK  # a multi-statement command runs it
    finally:
        each(server, "DROP TABLE IF EXISTS probe.made")


def partman_reason() -> str | None:
    control = _pg_dirs(find_bindir())[1] / "extension" / "pg_partman.control"
    return None if control.exists() else f"{control} not found (install postgresql-15-partman)"


def test_pg_partman_maintenance_commits_so_it_runs_only_unwrapped(server: PgCluster) -> None:
    need(partman_reason(), "pg_partman")
    body = "CALL partman.run_maintenance_proc()"
    bare = analyze(body).bare
    assert bare is not None and bare.text == body
    each(
        server,
        "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman; "
        "CREATE TABLE probe.events (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at)",
    )
    with session(server) as conn:
        made = conn.execute(
            "SELECT partman.create_parent('probe.events', 'at', 'native', 'daily')"
        ).fetchone()
        assert made == (True,)
        # without data, pg_partman 4 makes no new time partitions unless told to
        conn.execute(
            "UPDATE partman.part_config SET infinite_time_partitions = true "
            "WHERE parent_table = 'probe.events'"
        )
        count = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'probe.events'::regclass"
        (children,) = conn.execute(count).fetchone() or (0,)
        (newest,) = conn.execute(
            "SELECT max(c.oid::regclass::text) FROM pg_inherits i JOIN pg_class c "
            "ON c.oid = i.inhrelid WHERE i.inhparent = 'probe.events'::regclass"
            " AND c.relname <> 'events_default'"
        ).fetchone() or ("",)
        conn.execute(f"DROP TABLE {newest}")  # maintenance must make it again
        assert conn.execute(count).fetchone() == (children - 1,)
    # cronspec's wrapper: the callee's COMMIT fails at every run, and undoes its work
    assert outcome(server, body, "procedure") == "ERROR:  invalid transaction termination"
    with session(server) as conn:
        assert conn.execute(count).fetchone() == (children - 1,)
    # the job's own command, at top level in a fresh session as pg_cron runs it: it works
    assert outcome(server, body, "alone") == OK
    with session(server) as conn:
        # the dropped partition is back (how many more pg_partman premakes depends on the hour)
        assert conn.execute(f"SELECT to_regclass('{newest}') IS NOT NULL").fetchone() == (True,)
        (after,) = conn.execute(count).fetchone() or (0,)
        assert after >= children


BROKEN_PIPE = "ERROR:  could not close pipe to external command: Broken pipe"
PAYLOAD = (
    "INSERT INTO probe.out SELECT 'x\\' AS a, $$ ' ; COPY (SELECT 1) TO PROGRAM "
    "'touch @MARK@' ; -- $$ AS b;"
)


def test_a_wrapper_that_sets_standard_conforming_strings_keeps_the_payloads_meaning(
    server: PgCluster,
) -> None:
    scratch = Path(server.host) / "scratch"
    server.sql("CREATE DATABASE scs_off TEMPLATE probe", dbname="postgres")
    server.sql("ALTER DATABASE scs_off SET standard_conforming_strings = off", dbname="postgres")
    server.sql("CREATE TABLE probe.out (a text, b text)", dbname="scs_off")

    def body(mark: str) -> str:
        return PAYLOAD.replace("@MARK@", str(scratch / mark))

    def create(name: str, clause: str, mark: str) -> None:
        # as cronspec's migration does: its session has the setting on
        with session(server, "scs_off") as conn:
            assert run(conn, "SET standard_conforming_strings = on") == OK
            quoted = "'" + body(mark).replace("'", "''") + "'"
            sql = f"CREATE PROCEDURE probe.{name}() LANGUAGE sql {clause} AS {quoted}"
            assert run(conn, sql) == OK

    def job(command: str) -> str:  # a fresh session of the database, as pg_cron runs a job
        with session(server, "scs_off") as conn:
            assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
            return run(conn, command)

    analysis = analyze(body("x"))
    assert [f.kind for f in analysis.findings] == ["scs_dependent"]
    # the body as a bare command: read with the setting off, it runs the program (which may
    # exit before COPY has written its row to it: "could not close pipe ...: Broken pipe")
    assert job(body("bare")) in (OK, BROKEN_PIPE)
    assert (scratch / "bare").exists()
    # cronspec's wrapper before issue 11: checked with the setting on, re-read at run time off
    create("unfixed", "", "unfixed")
    assert job("CALL probe.unfixed()") in (OK, BROKEN_PIPE)
    assert (scratch / "unfixed").exists()
    # the wrapper with the setting fixed: no program, and the row the setting-on reading gives
    create("fixed", "SET standard_conforming_strings = on", "fixed")
    with session(server, "scs_off") as conn:
        run(conn, "TRUNCATE probe.out")
    assert job("CALL probe.fixed()") == OK
    assert not (scratch / "fixed").exists()
    with session(server, "scs_off") as conn:
        rows = conn.execute("SELECT a, b FROM probe.out").fetchall()
    mark = scratch / "fixed"
    assert rows == [("x\\", f" ' ; COPY (SELECT 1) TO PROGRAM 'touch {mark}' ; -- ")]


def test_the_parser_reads_postgresql_18_and_the_server_is_15(server: PgCluster) -> None:
    # A known gap: libpg_query's grammar is newer than the server's. A wrapped body is checked
    # by the server when the migration creates its procedure; a bare command only when it runs.
    body = "CALL probe.no_commit(1_000)"
    assert analyze(body).error is None  # numeric underscores: PostgreSQL 16+
    assert "trailing junk after numeric literal" in outcome(server, body, "alone")


def test_prepare_and_execute_in_one_body_run_everywhere(server: PgCluster) -> None:
    body = "PREPARE probe_q2 AS SELECT 1; EXECUTE probe_q2"
    assert [s.placement for s in analyze(body).statements] == ["anywhere", "anywhere"]
    for way in ("procedure", "block", "multi"):
        assert outcome(server, body, way) == OK, way
    # alone, in a fresh session as each pg_cron job has, there is nothing to execute
    assert "does not exist" in outcome(server, "EXECUTE probe_q2", "alone")
