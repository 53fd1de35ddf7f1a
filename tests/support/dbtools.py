"""Database helpers shared by the tests that apply migrations to the real cluster.

A target is a DSN (a new autocommit session per call) or an open autocommit connection to reuse.
`plan_actions` and `apply_actions` run a migration the way `cronspec plan` and `apply` do, and
return the migration's own record of its actions.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo
from psycopg.pq import TransactionStatus

from cronspec import db
from cronspec.api import Compiled, compile_specs

Rows = list[tuple[Any, ...]]
Target = str | psycopg.Connection[Any]
BOOKKEEPING = ("owned_job", "owned_procedure")
LEGACY = ("managed_job", "managed_procedure")


def compiled(root: Path) -> Compiled:
    result = compile_specs(root)
    assert result.ok, [str(d) for d in result.diagnostics]
    return result


def migration(root: Path) -> str:
    return compiled(root).files["pg_cron.sql"]


def rollback_sql(root: Path) -> str:
    return compiled(root).files["pg_cron_rollback.sql"]


@contextlib.contextmanager
def connection(target: Target) -> Iterator[psycopg.Connection[Any]]:
    if isinstance(target, str):
        with psycopg.connect(target, autocommit=True) as conn:
            yield conn
    else:
        yield target


def query(target: Target, sql: str, params: tuple[Any, ...] | None = None) -> Rows:
    with connection(target) as conn:
        cur = conn.execute(sql.encode() if params is None else sql, params)
        return cur.fetchall() if cur.description is not None else []


def wait_until(check: Callable[[], bool], seconds: float = 20.0, step: float = 0.1) -> None:
    """Poll `check` until it holds (a job ran, a row appeared); fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not reached in {seconds} s"
        time.sleep(step)


def poll(dsn: str, sql: str, done: Callable[[Rows], bool], seconds: float = 20.0) -> Rows:
    """Run `sql` until `done` holds for its rows or `seconds` pass: the last rows either way,
    for the test to assert on (and show)."""
    deadline = time.monotonic() + seconds
    while True:
        got = query(dsn, sql)
        if done(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def execute(target: Target, sql: str) -> None:
    with connection(target) as conn:
        conn.execute(sql.encode())


def apply(target: Target, sql: str, *, autocommit: bool = True) -> None:
    """The whole file as one `execute`, as psql or an Ecto migration would: its own BEGIN/COMMIT.

    A DSN gets a new session (autocommit on or off); a connection is reused as it is.
    """
    with (
        psycopg.connect(target, autocommit=autocommit)
        if isinstance(target, str)
        else contextlib.nullcontext(target)
    ) as conn:
        conn.execute(sql.encode())  # bytes: no placeholder processing of `%`
        assert conn.info.transaction_status == TransactionStatus.IDLE  # the file committed


def apply_fails(dsn: str, sql: str, *, autocommit: bool = True) -> psycopg.Error:
    with psycopg.connect(dsn, autocommit=autocommit) as conn:
        with pytest.raises(psycopg.Error) as info:
            conn.execute(sql.encode())
        # The file's BEGIN is open and aborted: the caller must roll back.
        assert conn.info.transaction_status == TransactionStatus.INERROR
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)
    return info.value


def _run(target: Target, sql: str, *, plan: bool, adopt: bool) -> db.Report:
    if isinstance(target, str):
        with db.connect(target) as conn:
            return db.run_migration(conn, sql, plan=plan, adopt=adopt)
    return db.run_migration(target, sql, plan=plan, adopt=adopt)


def plan_actions(target: Target, sql: str, *, adopt: bool = False) -> list[tuple[Any, ...]]:
    """What `cronspec plan` reads: the migration's actions, rolled back."""
    return [_key(a) for a in _run(target, sql, plan=True, adopt=adopt).actions]


def apply_actions(target: Target, sql: str, *, adopt: bool = False) -> list[tuple[Any, ...]]:
    """What `cronspec apply` reads: the migration's actions, committed."""
    return [_key(a) for a in _run(target, sql, plan=False, adopt=adopt).actions]


def _key(a: db.Action) -> tuple[Any, ...]:
    # An added job's jobid comes from a sequence, which a rolled-back plan also advances.
    jobid = None if a.action == "add" else a.jobid
    return (a.action, a.kind, a.name, a.owned, jobid, a.details, a.hint)


def assert_plan_is_apply(target: Target, sql: str, *, adopt: bool = False) -> list[Any]:
    """Plan, then apply: the same actions. Returns them."""
    planned = plan_actions(target, sql, adopt=adopt)
    applied = apply_actions(target, sql, adopt=adopt)
    assert planned == applied
    return applied


def as_role(dsn: str, role: str) -> str:
    return conninfo.make_conninfo(dsn, user=role)


def snapshot(target: Target, *, catalog: bool = True) -> dict[str, Rows]:
    """Full row dumps (with xmin) of cron.job, pg_proc, schemas and cronspec's bookkeeping.

    `catalog=False` leaves out pg_catalog's and information_schema's routines (faster).
    """
    with connection(target) as conn:
        skip = (
            "^pg_(toast_)?temp_"
            if catalog
            else "^(pg_(toast_)?temp_|pg_catalog$|information_schema$)"
        )
        state = {
            "cron.job": query(conn, "SELECT j.xmin::text, j::text FROM cron.job j ORDER BY jobid"),
            "pg_proc": query(
                conn,
                "SELECT p.xmin::text, p::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname !~ %s ORDER BY p.oid",
                (skip,),
            ),
            "pg_namespace": query(
                conn,
                "SELECT n.xmin::text, n::text FROM pg_namespace n "
                "WHERE n.nspname !~ '^pg_(toast_)?temp_' ORDER BY n.oid",
            ),
        }
        for table in (*BOOKKEEPING, *LEGACY):
            if query(conn, f"SELECT to_regclass('cronspec.{table}')")[0][0] is not None:
                state[table] = query(
                    conn, f"SELECT t.xmin::text, t::text FROM cronspec.{table} t ORDER BY 2"
                )
    return state


def jobs(dsn: Target) -> dict[str, tuple[Any, ...]]:
    """jobname -> (schedule, command, database, username, active), for every role's jobs."""
    rows = query(dsn, "SELECT jobname, schedule, command, database, username, active FROM cron.job")
    return {r[0]: r[1:] for r in rows}


def jobids(dsn: Target) -> dict[tuple[str, str], int]:
    """(username, jobname) -> jobid, for every role's jobs."""
    return {(r[0], r[1]): r[2] for r in query(dsn, "SELECT username, jobname, jobid FROM cron.job")}


def procedures(dsn: Target, schema: str = "cronspec") -> dict[str, str]:
    """name -> body of every procedure in `schema`."""
    rows = query(
        dsn,
        "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname = %s AND p.prokind = 'p'",
        (schema,),
    )
    return dict(rows)


def owned(dsn: Target) -> set[tuple[str, ...]]:
    """Who owns what in cronspec's bookkeeping: ('job', project, role, jobname) and
    ('procedure', project, role, schema.name)."""
    rows = query(
        dsn,
        "SELECT 'job', project, role::text, jobname FROM cronspec.owned_job UNION ALL "
        "SELECT 'procedure', project, role::text, schema_name || '.' || procedure_name "
        "FROM cronspec.owned_procedure",
    )
    return {tuple(r) for r in rows}


def message(error: psycopg.Error) -> str:
    return error.diag.message_primary or str(error)


def login_role(db: str, name: str, *, create_schemas: bool = True) -> str:
    """A plain login role with USAGE on schema cron; `create_schemas` grants CREATE on the cron
    database (to create schemas). Returns its DSN. Roles outlive the test: each test says what
    it grants."""
    grant = "GRANT" if create_schemas else "REVOKE"
    to = "TO" if create_schemas else "FROM"
    execute(
        db,
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
            CREATE ROLE {name} LOGIN;
          END IF;
        END $$;
        GRANT USAGE ON SCHEMA cron TO {name};
        GRANT CREATE ON SCHEMA public TO {name};
        {grant} CREATE ON DATABASE cronspec_test {to} {name};
        """,
    )
    return as_role(db, name)


def write_project(root: Path, specs: dict[str, str], toml: str = "") -> Path:
    """A project folder with these specs (name -> text) and cronspec.toml; returns it."""
    folder = root / "specs"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in specs.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    (root / "cronspec.toml").write_text(toml, encoding="utf-8")
    return root
