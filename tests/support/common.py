"""What test modules share besides fixtures: the repository's root, skipping (or failing in CI)
when a real component is missing, two spec templates and the SQL that empties a cron database.

Test modules import these from here, never from conftest."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PSQL = Callable[..., subprocess.CompletedProcess[str]]

MISSING: set[str] = set()  # the skip messages of need(): folded into one summary line each


def need(reason: str | None, what: str) -> None:
    """Skip locally, fail in CI, when a real component is missing."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    message = f"{what} unavailable: {reason}"
    MISSING.add(message)
    pytest.skip(message)


def elixir_reason() -> str | None:
    return None if shutil.which("elixir") else "the `elixir` command is not installed"


RESET_SQL = """
SELECT cron.unschedule(jobid) FROM cron.job;
DELETE FROM cron.job_run_details;
DROP EXTENSION IF EXISTS pg_net CASCADE;  -- its schema net is its own: DROP SCHEMA cannot
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace n
           WHERE nspname NOT IN ('public', 'cron', 'information_schema')
             AND nspname NOT LIKE 'pg\\_%'
             -- an extension's own schema (pg_net's `net`) cannot be dropped; it stays
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                             AND d.objid = n.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  -- pg_cron's extension lives in public: drop what is in public one by one, not the schema
  -- (by name, IF EXISTS: a CASCADE may already have dropped a later one; partitions go with
  -- their parent)
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
             AND NOT c.relispartition
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
                   CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  ELSE 'TABLE' END, r.relname);
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
