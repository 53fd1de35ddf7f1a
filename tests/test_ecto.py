"""generated/pg_cron.exs through the real Ecto migrator, on pg_cron 1.4.2 and 1.6.7.

The README's Ecto migration (read from the README, tests/support/ecto.py) goes into a
migrations folder; the session's Elixir VM runs what `mix ecto.migrate` and `mix ecto.rollback`
run (Ecto.Migrator with a real Ecto.Repo over Postgrex, tests/elixir/server.exs) on the cron
database of each server. Up makes the migration's jobs and procedures and runs the @startup SQL
tasks, with the version row; down removes them; a body that no longer applies, or a migration
without Ecto's transaction, leaves nothing behind. The statements of pg_cron.exs are cronspec's
own boundaries: libpg_query finds one statement in each, and together they are pg_cron.sql's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cases import CASES_DIR, case_names, must_fail
from support.common import ROOT
from support.dbtools import Rows, execute, jobids, jobs, procedures, query
from support.ecto import migrate, write_migration
from support.oban import Oban
from support.servers import Server
from support.targeting import target_root

from cronspec.api import compile_project, compile_specs
from cronspec.classify.pgsql import analyze
from cronspec.render.ecto import GUARD, render_ecto, split_own, statements
from cronspec.render.pg_cron import migration_parts, rollback_parts

pytestmark = [pytest.mark.db, pytest.mark.elixir]

EXAMPLE_SCHEMA = (ROOT / "example" / "schema.sql").read_text(encoding="utf-8")
VERSION = 20260101000000


@pytest.fixture
def app(example: Path, pg_server: Server, pg_db: str) -> Path:
    """The example, compiled for the server, with its tables in the cron database."""
    root = target_root(example, pg_server.target)
    outcome = compile_project(root)
    assert outcome.compiled.ok and outcome.comparison is not None, outcome.diagnostics
    execute(pg_db, EXAMPLE_SCHEMA)
    return root


def versions(dsn: str) -> Rows:
    if query(dsn, "SELECT to_regclass('public.schema_migrations')")[0][0] is None:
        return []
    return query(dsn, "SELECT version FROM schema_migrations ORDER BY 1")


def cronspec_schema(dsn: str) -> Rows:
    return query(dsn, "SELECT nspname FROM pg_namespace WHERE nspname = 'cronspec'")


def test_migrate_and_rollback(
    app: Path, oban: Oban, pg_server: Server, pg_db: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    write_migration(folder, VERSION)
    plan = compile_project(app, check=True).compiled.plan
    assert plan is not None
    answer = migrate(oban.server, pg_server.cluster, app, folder, "up")
    assert answer["ok"], answer.get("error")
    assert answer["versions"] == [VERSION]
    assert {name: row[0] for name, row in jobs(pg_db).items()} == {
        j.jobname: j.schedule for j in plan.jobs
    }
    assert set(procedures(pg_db)) == {p.name for p in plan.procedures}
    assert query(pg_db, "SELECT name FROM work_plan_themes") == [("Self-Improvement",)]
    assert versions(pg_db) == [(VERSION,)]

    answer = migrate(oban.server, pg_server.cluster, app, folder, "down")
    assert answer["ok"], answer.get("error")
    assert answer["versions"] == [VERSION]
    assert jobs(pg_db) == {} and procedures(pg_db) == {}
    assert versions(pg_db) == []
    assert query(pg_db, "SELECT to_regclass('cronspec.owned_job')") == [(None,)]


def test_a_spec_change_is_a_new_migration_that_converges(
    app: Path, oban: Oban, pg_server: Server, pg_db: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    write_migration(folder, VERSION)
    assert migrate(oban.server, pg_server.cluster, app, folder, "up")["ok"]
    before = jobids(pg_db)
    spec = app / "specs" / "daily-pagerank.yaml"
    spec.write_text(spec.read_text().replace('"0 3 * * *"', '"0 4 * * *"'))
    assert compile_project(app).wrote
    write_migration(folder, VERSION + 1, name="Again")
    answer = migrate(oban.server, pg_server.cluster, app, folder, "up")
    assert answer["ok"] and answer["versions"] == [VERSION + 1], answer.get("error")
    assert jobs(pg_db)["daily-pagerank"][0] == "0 4 * * *"
    assert jobids(pg_db) == before


def test_a_body_that_does_not_apply_leaves_nothing(
    app: Path, oban: Oban, pg_server: Server, pg_db: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    write_migration(folder, VERSION)
    execute(pg_db, "DROP TABLE pattern_events CASCADE")
    answer = migrate(oban.server, pg_server.cluster, app, folder, "up")
    assert not answer["ok"]
    assert "cronspec: task pattern-learning (specs/pattern-learning.yaml)" in answer["error"]
    assert jobs(pg_db) == {} and versions(pg_db) == [] and cronspec_schema(pg_db) == []


def test_without_ectos_transaction_it_refuses_at_once(
    app: Path, oban: Oban, pg_server: Server, pg_db: str, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    write_migration(folder, VERSION, no_transaction=True)
    answer = migrate(oban.server, pg_server.cluster, app, folder, "up")
    assert not answer["ok"]
    assert "cronspec: these statements must run in one transaction" in answer["error"]
    assert jobs(pg_db) == {} and versions(pg_db) == [] and cronspec_schema(pg_db) == []


def test_the_old_advice_fails(
    app: Path, oban: Oban, pg_server: Server, pg_db: str, tmp_path: Path
) -> None:
    """`execute File.read!("generated/pg_cron.sql")`, the advice this replaces."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / f"{VERSION}_old.exs").write_text(
        "defmodule MyApp.Repo.Migrations.Old do\n  use Ecto.Migration\n"
        '  def up, do: execute(File.read!("generated/pg_cron.sql"))\nend\n',
        encoding="utf-8",
    )
    answer = migrate(oban.server, pg_server.cluster, app, folder, "up")
    assert not answer["ok"]
    assert "cannot insert multiple commands into a prepared statement" in answer["error"]
    assert jobs(pg_db) == {} and versions(pg_db) == []


# -- the statements: cronspec's own boundaries -----------------------------------------------------


@pytest.mark.parametrize("case", ["example", *(n for n in case_names() if not must_fail(n))])
def test_each_statement_is_one_statement_and_they_are_the_file(case: str) -> None:
    """libpg_query finds exactly one statement in each, and they are pg_cron.sql's own (and
    the rollback's), in order, all of them but BEGIN and COMMIT."""
    compiled = compile_specs(ROOT if case == "example" else CASES_DIR / case)
    plan = compiled.plan
    assert plan is not None
    for parts, name in (
        (migration_parts(plan), "pg_cron.sql"),
        (rollback_parts(plan), "pg_cron_rollback.sql"),
    ):
        sql = compiled.files[name]
        listed = statements(parts)
        assert listed[: len(GUARD)] == list(GUARD)
        assert [len(analyze(s).statements) for s in listed] == [1] * len(listed)
        own = listed[len(GUARD) :]
        at = 0
        for statement in own:
            found = sql.find(statement, at)
            assert found >= at, statement[:80]
            at = found + len(statement)
        assert len(analyze(sql).statements) == len(own) + 2  # and BEGIN, COMMIT
        assert not any(s.startswith(("BEGIN", "COMMIT")) for s in own)
    assert compiled.files["pg_cron.exs"] == render_ecto(plan)


def test_split_own_ends_statements_at_unindented_semicolons() -> None:
    text = "-- a comment\nSELECT 1;\nDO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n\n"
    assert split_own(text) == ["SELECT 1;", "DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;"]
    with pytest.raises(ValueError, match="does not end a statement"):
        split_own("SELECT 1;\nSELECT 2\n")
