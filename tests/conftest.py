"""Shared fixtures: the project's example, a scratch project factory, the real database.

The database fixtures start one throwaway PostgreSQL 15 + pg_cron cluster for the session.
Where it cannot start, database tests skip on a developer's machine and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgcluster import PgCluster, available

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CRON_DB = "cronspec_test"


def need(reason: str | None, what: str) -> None:
    """Skip locally, fail in CI, when a real component is missing."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


@pytest.fixture(scope="session")
def cluster() -> Iterator[PgCluster]:
    need(available(), "PostgreSQL 15 with pg_cron")
    with PgCluster(CRON_DB) as pg:
        pg.sql("CREATE EXTENSION IF NOT EXISTS pg_cron")
        yield pg


RESET_SQL = """
SELECT cron.unschedule(jobid) FROM cron.job;
DELETE FROM cron.job_run_details;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('public', 'cron', 'information_schema')
             AND nspname NOT LIKE 'pg\\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  -- pg_cron's extension lives in public: drop what is in public one by one, not the schema
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE',
                   CASE WHEN (SELECT relkind FROM pg_class WHERE oid = r.name) = 'v' THEN 'VIEW'
                        WHEN (SELECT relkind FROM pg_class WHERE oid = r.name) = 'm'
                        THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name, p.prokind FROM pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP %s %s CASCADE',
                   CASE r.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'ROUTINE' END, r.name);
  END LOOP;
END $$;
"""


@pytest.fixture
def db(cluster: PgCluster) -> str:
    """The cron database, emptied of jobs, schemas and tables; returns its DSN."""
    cluster.sql(RESET_SQL)
    return cluster.dsn()


@pytest.fixture
def psql(cluster: PgCluster) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run psql on the cron database: psql(file=...) or psql(sql=...)."""

    def run(
        *, file: Path | None = None, sql: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [*cluster.psql(), "-q"]
        argv += ["-f", str(file)] if file is not None else ["-c", sql or ""]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=cluster.env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"psql failed ({result.returncode}): {result.stderr}")
        return result

    return run


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """A scratch project: project({"name.yaml": text, ...}, toml=...) -> its root."""

    def make(specs: dict[str, str], toml: str | None = None) -> Path:
        root = tmp_path / "proj"
        if root.exists():
            shutil.rmtree(root)
        (root / "specs").mkdir(parents=True)
        for name, text in specs.items():
            (root / "specs" / name).write_text(text, encoding="utf-8")
        if toml is not None:
            (root / "cronspec.toml").write_text(toml, encoding="utf-8")
        return root

    return make


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the repository's example project (specs/, cronspec.toml, generated/)."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copytree(ROOT / "specs", root / "specs")
    if (ROOT / "generated").is_dir():
        shutil.copytree(ROOT / "generated", root / "generated")
    if (ROOT / "cronspec.toml").is_file():
        shutil.copy(ROOT / "cronspec.toml", root / "cronspec.toml")
    return root


def elixir_reason() -> str | None:
    return None if shutil.which("elixir") else "the `elixir` command is not installed"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """cli(root, "compile", "--check") -> (exit code, stdout, stderr), in-process."""
    from cronspec.cli import main

    def run(root: Path, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--root", str(root), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


SQL_TASK = """\
name: {name}
description: A SQL task.
kind: sql
schedule: "{schedule}"
sql: |
  UPDATE t SET a = a + 1;
"""

APP_TASK = """\
name: {name}
description: An app task.
kind: app
schedule: "{schedule}"
worker: My.Worker
needs: [ml]
"""
