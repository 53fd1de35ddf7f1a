"""The bookkeeping of the release before projects upgrades in place, on the real servers.

tests/fixtures/main-6e13c9a holds what that release generated; it set up
`cronspec.managed_job (username, jobname, task)` and `cronspec.managed_procedure`. Today's
migration takes those rows over (as the project that applies first as that role), keeps every
jobid and procedure as it is, and drops the old tables once no role's rows are left.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.common import ROOT
from support.dbtools import (
    apply,
    assert_plan_is_apply,
    compiled,
    execute,
    jobids,
    login_role,
    owned,
    query,
    snapshot,
    write_project,
)

pytestmark = pytest.mark.db

FIXTURES = Path(__file__).parent / "fixtures" / "main-6e13c9a"
EXAMPLE_SCHEMA = (ROOT / "example" / "schema.sql").read_text(encoding="utf-8")


def old(name: str, file: str = "pg_cron.sql") -> str:
    return (FIXTURES / name / "generated" / file).read_text(encoding="utf-8")


def rows(dsn: str) -> dict[str, list[tuple[str, ...]]]:
    """cron.job and cronspec's procedures, with xmin: what an upgrade must not rewrite."""
    state = snapshot(dsn, catalog=False)
    return {"cron.job": state["cron.job"], "pg_proc": state["pg_proc"]}


def bodies(dsn: str) -> dict[str, str]:
    return dict(
        query(
            dsn,
            "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p "
            "WHERE p.pronamespace = 'cronspec'::regnamespace",
        )
    )


def changes(actions: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [a[:3] for a in actions if a[0] not in ("unchanged", "run")]


def test_the_example_upgrades_in_place(pg_db: str, example: Path) -> None:
    execute(pg_db, EXAMPLE_SCHEMA)
    apply(pg_db, old("example"))
    assert {"managed_job", "managed_procedure"} <= set(snapshot(pg_db))
    before = rows(pg_db)
    bodies_before = bodies(pg_db)
    ids = jobids(pg_db)
    actions = assert_plan_is_apply(pg_db, compiled(example).files["pg_cron.sql"])
    # procedures of that release lack `SET standard_conforming_strings = on`: each gets it once,
    # its body kept (the same text, though its fingerprint is computed otherwise now)
    fixed = [a for a in actions if a[:2] == ("change", "procedure")]
    assert len(fixed) == 4
    # (and the example's PageRank its own `settings: {jit: "off"}`)
    assert {a[2]: a[5] for a in fixed if a[2] != "cronspec.daily-pagerank"} == dict.fromkeys(
        {a[2] for a in fixed} - {"cronspec.daily-pagerank"},
        ("settings none -> standard_conforming_strings=on",),
    )
    assert {a[2]: a[5] for a in fixed}["cronspec.daily-pagerank"] == (
        "settings none -> standard_conforming_strings=on, jit=off",
    )
    assert changes(actions) == [
        ("add", "bookkeeping", "cronspec.owned_job, cronspec.owned_procedure"),
        ("change", "bookkeeping", "cronspec.managed_job, cronspec.managed_procedure"),
        *(a[:3] for a in fixed),
    ]
    upgrade = next(a for a in actions if a[0] == "change")
    assert upgrade[5] == (
        "5 jobs and 4 procedures of role postgres, recorded by an earlier cronspec, now belong "
        "to project default",
        "cronspec.managed_job and cronspec.managed_procedure dropped",
    )
    assert sum(a[0] == "unchanged" for a in actions) == 5
    assert jobids(pg_db) == ids
    after = rows(pg_db)
    assert after["cron.job"] == before["cron.job"]  # not one job rewritten
    assert bodies(pg_db) == bodies_before
    state = snapshot(pg_db)
    assert "managed_job" not in state and len(state["owned_job"]) == 5
    assert len(state["owned_procedure"]) == 4
    again = snapshot(pg_db)
    assert changes(assert_plan_is_apply(pg_db, compiled(example).files["pg_cron.sql"])) == []
    assert snapshot(pg_db) == again


def test_an_upgrade_with_changes_and_a_project_name(pg_db: str, tmp_path: Path) -> None:
    """The first apply of a named project takes over that role's old rows, then converges:
    a task removed since goes, the others keep their jobids."""
    execute(pg_db, "CREATE TABLE tiny (id int, n int NOT NULL DEFAULT 0)")
    apply(pg_db, old("tiny"))
    ids = jobids(pg_db)
    root = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny" / "specs", root / "specs")
    (root / "specs" / "gamma.yaml").unlink()
    (root / "cronspec.toml").write_text('project = "billing"\n')
    actions = assert_plan_is_apply(pg_db, compiled(root).files["pg_cron.sql"])
    assert changes(actions)[2:] == [
        ("change", "procedure", "cronspec.alpha"),  # SET standard_conforming_strings = on
        ("change", "procedure", "cronspec.beta"),
        ("remove", "job", "gamma"),
        ("remove", "procedure", "cronspec.gamma"),
    ]
    assert jobids(pg_db) == {k: v for k, v in ids.items() if k[1] != "gamma"}
    assert owned(pg_db) == {
        ("job", "billing", "postgres", "alpha"),
        ("job", "billing", "postgres", "bare"),
        ("job", "billing", "postgres", "beta"),
        ("procedure", "billing", "postgres", "cronspec.alpha"),
        ("procedure", "billing", "postgres", "cronspec.beta"),
    }


def test_an_old_job_gone_is_scheduled_again(pg_db: str, tmp_path: Path) -> None:
    execute(pg_db, "CREATE TABLE tiny (id int, n int NOT NULL DEFAULT 0)")
    apply(pg_db, old("tiny"))
    execute(pg_db, "SELECT cron.unschedule('beta'); DROP PROCEDURE cronspec.alpha()")
    actions = assert_plan_is_apply(pg_db, compiled(FIXTURES / "tiny").files["pg_cron.sql"])
    upgrade = next(a for a in actions if a[0] == "change")
    assert upgrade[5][1] == "2 rows named objects that no longer exist"
    assert ("add", "job", "beta") in changes(actions)
    assert ("add", "procedure", "cronspec.alpha") in changes(actions)


def test_old_rows_of_another_role_wait_for_that_role(pg_db: str, tmp_path: Path) -> None:
    """One release's tables, two roles: each role's first apply takes its own rows only."""
    execute(
        pg_db, "CREATE TABLE tiny (id int, n int NOT NULL DEFAULT 0); GRANT ALL ON tiny TO PUBLIC"
    )
    other = login_role(pg_db, "cronspec_old")
    apply(pg_db, old("tiny"))
    # the old release let a second role apply only with privileges on its tables
    execute(
        pg_db,
        "GRANT ALL ON cronspec.managed_job, cronspec.managed_procedure TO cronspec_old;"
        "GRANT USAGE, CREATE ON SCHEMA cronspec TO cronspec_old;",
    )
    execute(other, "SELECT cron.schedule('alpha', '0 3 * * *', 'SELECT 1')")
    execute(
        other,
        "INSERT INTO cronspec.managed_job VALUES ('cronspec_old', 'alpha', 'alpha');"
        "CREATE SCHEMA theirs; CREATE PROCEDURE theirs.p() LANGUAGE sql AS 'SELECT 1';"
        "INSERT INTO cronspec.managed_procedure VALUES ('theirs', 'p', 'p', 'f', 'm');",
    )
    sql = compiled(FIXTURES / "tiny").files["pg_cron.sql"]
    assert_plan_is_apply(pg_db, sql)
    assert query(pg_db, "SELECT username FROM cronspec.managed_job") == [("cronspec_old",)]
    assert query(pg_db, "SELECT schema_name FROM cronspec.managed_procedure") == [("theirs",)]
    assert {o[2] for o in owned(pg_db)} == {"postgres"}
    assert changes(assert_plan_is_apply(pg_db, sql)) == []  # waiting rows are not a change
    # That role's first apply takes its rows; the emptied old tables go with the owner's next.
    root = write_project(
        tmp_path / "other",
        {"alpha": (FIXTURES / "tiny" / "specs" / "alpha.yaml").read_text()},
        'project = "other"\n[pg_cron]\nschema = "theirs"\n',
    )
    actions = assert_plan_is_apply(other, compiled(root).files["pg_cron.sql"])
    assert changes(actions)[1:] == [
        ("change", "job", "alpha"),  # its command becomes the CALL of its procedure
        ("add", "procedure", "theirs.alpha"),
        ("remove", "procedure", "theirs.p"),
    ]
    assert query(pg_db, "SELECT count(*) FROM cronspec.managed_job") == [(0,)]
    assert changes(assert_plan_is_apply(pg_db, sql)) == [
        ("change", "bookkeeping", "cronspec.managed_job, cronspec.managed_procedure")
    ]
    assert "managed_job" not in snapshot(pg_db)
