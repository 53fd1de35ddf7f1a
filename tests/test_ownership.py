"""Shared databases, on the real cluster: cronspec changes and removes only what its own project
made as the applying role; anything else is a clash that names its owner. Each test here fails
on the release before projects (6e13c9a), where ownership was keyed on names.

Every migration below runs through `plan` and `apply` as cronspec runs them
(`assert_plan_is_apply`): what the plan lists is what the apply does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.dbtools import (
    apply,
    apply_actions,
    assert_plan_is_apply,
    compiled,
    execute,
    jobids,
    jobs,
    login_role,
    owned,
    plan_actions,
    procedures,
    query,
    write_project,
)
from support.servers import Server
from support.targeting import with_version

from cronspec import db
from cronspec.api import compile_project

pytestmark = pytest.mark.db

TASK = (
    "name: {name}\ndescription: A tiny task.\nkind: sql\nschedule: '{schedule}'\n"
    "sql: UPDATE tiny SET n = n + 1;\n"
)


def task(name: str, schedule: str = "0 3 * * *") -> str:
    return TASK.format(name=name, schedule=schedule)


def project(
    root: Path, name: str, *tasks: str, schema: str = "cronspec", pg_cron: str = ""
) -> tuple[str, str]:
    """(migration, rollback) of a project of these tasks (`pg_cron`: more [pg_cron] lines)."""
    toml = with_version(
        f'project = "{name}"\n[pg_cron]\nschema = "{schema}"\n{pg_cron}', VERSION["pg_cron"]
    )
    outcome = compile_project(write_project(root, {t: task(t) for t in tasks}, toml))
    assert outcome.compiled.ok, outcome.diagnostics
    files = outcome.compiled.files
    return files["pg_cron.sql"], files["pg_cron_rollback.sql"]


def rows_of(dsn: str, usernames: tuple[str, ...], schemas: tuple[str, ...]) -> list[Any]:
    """Every row (with xmin) of these roles' jobs and these schemas' procedures."""
    return query(
        dsn,
        "SELECT j.xmin::text, j::text FROM cron.job j WHERE j.username = ANY(%s) "
        "UNION ALL SELECT p.xmin::text, p::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%s) ORDER BY 2",
        (list(usernames), list(schemas)),
    )


VERSION = {"pg_cron": "1.4"}  # the server's, set by `tiny`: what the projects are compiled for


@pytest.fixture
def tiny(pg_server: Server, pg_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The cron database with a table `tiny`; the projects of the test target its server."""
    monkeypatch.setitem(VERSION, "pg_cron", pg_server.target)
    execute(pg_db, "CREATE TABLE tiny (n int NOT NULL DEFAULT 0); GRANT ALL ON tiny TO PUBLIC")
    return pg_db


def kinds(actions: list[Any]) -> set[tuple[str, str, str]]:
    return {(a[0], a[1], a[2]) for a in actions if a[0] not in ("unchanged", "run")}


# --- two projects as one role -------------------------------------------------------------------


@pytest.mark.parametrize("b_schema", ["cronspec", "search"])
def test_two_projects_side_by_side(tiny: str, tmp_path: Path, b_schema: str) -> None:
    a_sql, a_rollback = project(tmp_path / "a", "billing", "invoice", "dunning")
    b_sql, b_rollback = project(tmp_path / "b", "search", "reindex", schema=b_schema)
    schemas = ("cronspec", b_schema)
    assert_plan_is_apply(tiny, a_sql)
    a_rows = rows_of(tiny, ("postgres",), ("cronspec",))
    b_actions = assert_plan_is_apply(tiny, b_sql)
    assert {a for a in kinds(b_actions) if a[0] != "add"} == set()  # B removes nothing of A's
    assert {(a[1], a[2]) for a in kinds(b_actions) if a[1] in ("job", "procedure")} == {
        ("job", "reindex"),
        ("procedure", f"{b_schema}.reindex"),
    }
    assert set(jobs(tiny)) == {"invoice", "dunning", "reindex"}
    # Each project's own apply changes nothing of the other's, and nothing at all a second time.
    assert kinds(assert_plan_is_apply(tiny, a_sql)) == set()
    assert kinds(assert_plan_is_apply(tiny, b_sql)) == set()
    assert owned(tiny) == {
        ("job", "billing", "postgres", "invoice"),
        ("job", "billing", "postgres", "dunning"),
        ("procedure", "billing", "postgres", "cronspec.invoice"),
        ("procedure", "billing", "postgres", "cronspec.dunning"),
        ("job", "search", "postgres", "reindex"),
        ("procedure", "search", "postgres", f"{b_schema}.reindex"),
    }
    # Roll back B: A is intact, row for row.
    apply(tiny, b_rollback)
    assert set(jobs(tiny)) == {"invoice", "dunning"}
    assert [r for r in rows_of(tiny, ("postgres",), schemas) if "reindex" not in r[1]] == a_rows
    assert "reindex" not in procedures(tiny, b_schema)
    # And the reverse: B again, then roll back A; B is intact.
    assert_plan_is_apply(tiny, b_sql)
    b_rows = [r for r in rows_of(tiny, ("postgres",), schemas) if "reindex" in r[1]]
    apply(tiny, a_rollback)
    assert set(jobs(tiny)) == {"reindex"}
    assert rows_of(tiny, ("postgres",), schemas) == b_rows
    assert {o[1] for o in owned(tiny)} == {"search"}


def test_a_name_another_project_owns_is_a_clash_naming_it(tiny: str, tmp_path: Path) -> None:
    a_sql, _ = project(tmp_path / "a", "billing", "alpha")
    b_sql, _ = project(tmp_path / "b", "search", "alpha", "beta")
    apply_actions(tiny, a_sql)
    before = rows_of(tiny, ("postgres",), ("cronspec",))
    planned = plan_actions(tiny, b_sql)
    clashes = {(a[1], a[2]): a for a in planned if a[0] == "clash"}
    assert set(clashes) == {("job", "alpha"), ("procedure", "cronspec.alpha")}
    job = clashes["job", "alpha"]
    assert "belongs to cronspec project billing (role postgres)" in job[5][0]
    assert job[6] == "rename the task, or remove it from project billing first"
    assert (
        "procedure cronspec.alpha() belongs to cronspec project billing (role postgres)"
        in (clashes["procedure", "cronspec.alpha"][5][0])
    )
    with pytest.raises(db.DbError, match="belongs to cronspec project billing") as info:
        apply_actions(tiny, b_sql)
    assert "1 more clashes: task alpha: procedure" in (info.value.detail or "")
    assert rows_of(tiny, ("postgres",), ("cronspec",)) == before


def test_keep_history_is_one_job_per_role(tiny: str, tmp_path: Path) -> None:
    """README: two projects of one role that both set keep_history declare the same job; the
    second one's is a clash naming the first, and nothing changes."""
    history = 'keep_history = "7 days"\n'
    a_sql, _ = project(tmp_path / "a", "billing", "alpha", pg_cron=history)
    b_sql, _ = project(tmp_path / "b", "search", "beta", pg_cron=history)
    apply_actions(tiny, a_sql)
    before = rows_of(tiny, ("postgres",), ("cronspec",))
    clashes = [(a[1], a[2]) for a in plan_actions(tiny, b_sql) if a[0] == "clash"]
    assert clashes == [("job", "cronspec:purge-run-history")]
    with pytest.raises(db.DbError, match="belongs to cronspec project billing"):
        apply_actions(tiny, b_sql)
    assert rows_of(tiny, ("postgres",), ("cronspec",)) == before


# --- two roles ----------------------------------------------------------------------------------


def test_two_roles_keep_to_their_own_objects(tiny: str, tmp_path: Path) -> None:
    one = login_role(tiny, "cronspec_one")
    two = login_role(tiny, "cronspec_two")
    sql_one, rollback_one = project(tmp_path / "one", "app", "alpha", "beta")
    sql_two, rollback_two = project(tmp_path / "two", "app", "alpha", "gamma", schema="two")
    assert_plan_is_apply(one, sql_one)
    one_rows = rows_of(tiny, ("cronspec_one",), ("cronspec",))
    assert_plan_is_apply(two, sql_two)  # the same project name, as another role
    assert rows_of(tiny, ("cronspec_one",), ("cronspec",)) == one_rows
    assert sorted(query(tiny, "SELECT username, jobname FROM cron.job")) == [
        ("cronspec_one", "alpha"),
        ("cronspec_one", "beta"),
        ("cronspec_two", "alpha"),
        ("cronspec_two", "gamma"),
    ]
    assert kinds(assert_plan_is_apply(one, sql_one)) == set()
    # Role two rolls back: role one's jobs and procedures stay, and its job still runs.
    apply(two, rollback_two)
    assert rows_of(tiny, ("cronspec_one",), ("cronspec",)) == one_rows
    assert procedures(tiny, "two") == {}
    (command,) = query(one, "SELECT command FROM cron.job WHERE jobname = 'alpha'")[0]
    execute(one, command)
    assert query(tiny, "SELECT n FROM tiny") == []  # ran: an UPDATE of no row, no error
    # A procedure of role one is a clash for role two, named with its owner.
    sql_same, _ = project(tmp_path / "same", "app", "alpha")
    clash = [a for a in plan_actions(two, sql_same) if a[0] == "clash"]
    assert [(a[1], a[2]) for a in clash] == [("procedure", "cronspec.alpha")]
    assert "belongs to cronspec project app (role cronspec_one)" in clash[0][5][0]
    # And the reverse: role one rolls back, role two's objects stay.
    assert_plan_is_apply(two, sql_two)
    two_rows = rows_of(tiny, ("cronspec_two",), ("two",))
    apply(one, rollback_one)
    assert rows_of(tiny, ("cronspec_two",), ("two",)) == two_rows
    assert {(o[2], o[3]) for o in owned(tiny)} == {
        ("cronspec_two", "alpha"),
        ("cronspec_two", "gamma"),
        ("cronspec_two", "two.alpha"),
        ("cronspec_two", "two.gamma"),
    }


def test_a_role_cannot_record_another_roles_objects(tiny: str, tmp_path: Path) -> None:
    """Row-level security: a role writes only rows of jobs it scheduled, procedures it owns."""
    one = login_role(tiny, "cronspec_one")
    two = login_role(tiny, "cronspec_two")
    sql_one, _ = project(tmp_path / "one", "app", "alpha")
    apply_actions(one, sql_one)
    (jobid,) = query(tiny, "SELECT jobid FROM cron.job WHERE username = 'cronspec_one'")[0]
    for statement in (
        "DELETE FROM cronspec.owned_job",
        "UPDATE cronspec.owned_job SET project = 'x'",
        "DELETE FROM cronspec.owned_procedure",
    ):
        execute(two, statement)  # sees every row, changes none
    assert len(owned(tiny)) == 2
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        execute(
            two,
            f"INSERT INTO cronspec.owned_job VALUES ({jobid}, 'cronspec_two', 'x', 'p', 't') "
            "ON CONFLICT DO NOTHING",
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        execute(
            two,
            "INSERT INTO cronspec.owned_procedure VALUES "
            "('cronspec', 'beta', '', 'cronspec_two', 'p', 't', 'f', 'm')",
        )


# --- a job of ours unscheduled, its name reused by hand -----------------------------------------


def test_a_hand_made_job_that_took_a_managed_name_is_never_taken_over(
    tiny: str, tmp_path: Path
) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha", "beta")
    apply_actions(tiny, sql)
    old = jobids(tiny)["postgres", "alpha"]
    execute(tiny, "SELECT cron.unschedule('alpha')")
    (hand,) = query(tiny, "SELECT cron.schedule('alpha', '0 9 * * *', 'SELECT 1')")[0]
    hand_row = query(tiny, f"SELECT j.xmin::text, j::text FROM cron.job j WHERE jobid = {hand}")
    clash = [a for a in plan_actions(tiny, sql) if a[0] == "clash"]
    assert [(a[1], a[2], a[4]) for a in clash] == [("job", "alpha", hand)]
    assert (
        f"cronspec's own job of that name (jobid {old}) was unscheduled outside cronspec, "
        "and this one took its name" in clash[0][5][0]
    )
    with pytest.raises(db.DbError, match="took its name"):
        apply_actions(tiny, sql)
    # The task goes: cronspec forgets its own vanished job and leaves the hand-made one alone.
    sql, _ = project(tmp_path / "p", "app", "beta")
    removed = [a for a in assert_plan_is_apply(tiny, sql) if a[0] == "remove"]
    assert [(a[1], a[2], a[5]) for a in removed] == [
        ("job", "alpha", ("already unscheduled outside cronspec",)),
        ("procedure", "cronspec.alpha", ()),
    ]
    assert query(tiny, f"SELECT j.xmin::text, j::text FROM cron.job j WHERE jobid = {hand}") == (
        hand_row
    )


def test_a_managed_job_unscheduled_by_hand_is_recreated(tiny: str, tmp_path: Path) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha")
    apply_actions(tiny, sql)
    old = jobids(tiny)["postgres", "alpha"]
    execute(tiny, "SELECT cron.unschedule('alpha')")
    (added,) = [a for a in assert_plan_is_apply(tiny, sql) if a[0] != "unchanged"]
    assert added[:4] == ("add", "job", "alpha", True)  # owned: this is drift
    assert added[5][0] == f"unscheduled outside cronspec (it was jobid {old})"
    new = jobids(tiny)["postgres", "alpha"]
    assert query(tiny, "SELECT jobid FROM cronspec.owned_job") == [(new,)]


# --- lost and damaged bookkeeping ----------------------------------------------------------------


def test_lost_bookkeeping_is_reported_as_such_and_adoption_recovers(
    tiny: str, tmp_path: Path
) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha", "beta")
    apply_actions(tiny, sql)
    before = rows_of(tiny, ("postgres",), ("cronspec",))
    execute(tiny, "DROP TABLE cronspec.owned_job, cronspec.owned_procedure")
    planned = plan_actions(tiny, sql)
    clashes = [a for a in planned if a[0] == "clash"]
    assert len(clashes) == 4
    for a in clashes:
        assert "there was no cronspec bookkeeping here before this run" in a[5][0]
        assert "cronspec did not create" not in a[5][0]
        assert "it is exactly what the spec declares" in " ".join(a[5])
        assert a[6].startswith("take it over with --adopt")
    with pytest.raises(db.DbError, match="no cronspec bookkeeping here") as info:
        apply_actions(tiny, sql)
    assert (info.value.hint or "").startswith("take it over with --adopt")
    # The way out: adopt what is exactly as the specs say. Same jobids, same procedures.
    adopted = assert_plan_is_apply(tiny, sql, adopt=True)
    assert kinds(adopted) == {
        ("add", "bookkeeping", "cronspec.owned_job, cronspec.owned_procedure"),
        ("adopt", "job", "alpha"),
        ("adopt", "job", "beta"),
        ("adopt", "procedure", "cronspec.alpha"),
        ("adopt", "procedure", "cronspec.beta"),
    }
    assert rows_of(tiny, ("postgres",), ("cronspec",)) == before
    assert kinds(assert_plan_is_apply(tiny, sql)) == set()


def test_emptied_bookkeeping_says_it_records_nothing(tiny: str, tmp_path: Path) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha")
    apply_actions(tiny, sql)
    execute(tiny, "DELETE FROM cronspec.owned_job; DELETE FROM cronspec.owned_procedure")
    clashes = [a for a in plan_actions(tiny, sql) if a[0] == "clash"]
    assert len(clashes) == 2
    for a in clashes:
        assert "cronspec's bookkeeping records nothing of project app as role postgres" in a[5][0]


def test_damaged_bookkeeping_is_reported_with_the_way_out(tiny: str, tmp_path: Path) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha")
    apply_actions(tiny, sql)
    execute(tiny, "DROP TABLE cronspec.owned_procedure")
    with pytest.raises(db.DbError, match="the bookkeeping is damaged") as info:
        plan_actions(tiny, sql)
    assert "--adopt" in (info.value.hint or "")


# --- adoption -----------------------------------------------------------------------------------


def test_nothing_is_adopted_without_the_flag_and_adoption_keeps_jobids(
    tiny: str, tmp_path: Path
) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha", "beta")
    execute(
        tiny,
        # alpha: exactly the job and procedure the spec declares, made by hand
        "CREATE SCHEMA cronspec;"
        'CREATE PROCEDURE cronspec."alpha"() LANGUAGE sql AS $$UPDATE tiny SET n = n + 1;\n$$;'
        "SELECT cron.schedule('alpha', '0 3 * * *', 'CALL \"cronspec\".\"alpha\"()');"
        # beta: a job that runs the spec's SQL itself
        "SELECT cron.schedule('beta', '0 3 * * *', 'UPDATE tiny SET n = n + 1;');",
    )
    hand = jobids(tiny)
    planned = plan_actions(tiny, sql)
    assert {a[2] for a in planned if a[0] == "clash"} == {"alpha", "cronspec.alpha", "beta"}
    assert [a[2] for a in planned if a[0] == "add" and a[1] in ("job", "procedure")] == [
        "cronspec.beta"
    ]
    adopted = assert_plan_is_apply(tiny, sql, adopt=True)
    assert {(a[0], a[1], a[2]) for a in adopted if a[1] in ("job", "procedure")} == {
        ("adopt", "job", "alpha"),
        ("adopt", "job", "beta"),
        ("adopt", "procedure", "cronspec.alpha"),
        ("adopt", "procedure", "cronspec.beta"),
    }
    beta = next(a for a in adopted if a[2] == "beta")
    assert beta[5] == (
        f"jobid {hand['postgres', 'beta']} kept",
        'command UPDATE tiny SET n = n + 1; -> CALL "cronspec"."beta"()',
        "its SQL moves into the procedure the job now calls",
    )
    assert jobids(tiny) == hand
    assert jobs(tiny)["beta"][1] == 'CALL "cronspec"."beta"()'
    assert procedures(tiny)["beta"] == "UPDATE tiny SET n = n + 1;\n"
    assert kinds(assert_plan_is_apply(tiny, sql)) == set()


def test_something_that_differs_stays_a_clash_showing_the_difference(
    tiny: str, tmp_path: Path
) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha", "beta")
    execute(
        tiny,
        "CREATE SCHEMA cronspec;"
        'CREATE PROCEDURE cronspec."beta"() LANGUAGE sql AS $$UPDATE tiny SET n = n + 2;\n$$;'
        "SELECT cron.schedule('alpha', '0 9 * * *', 'UPDATE tiny SET n = n + 1;');",
    )
    clashes = {a[2]: a for a in plan_actions(tiny, sql, adopt=True) if a[0] == "clash"}
    assert set(clashes) == {"alpha", "cronspec.beta"}
    assert clashes["alpha"][5][1:] == (
        "schedule 0 9 * * * -> 0 3 * * *",
        'command UPDATE tiny SET n = n + 1; -> CALL "cronspec"."alpha"()',
    )
    assert clashes["cronspec.beta"][5][1] == (
        "its body differs from the spec: line 1 is 'UPDATE tiny SET n = n + 2', "
        "the spec's is 'UPDATE tiny SET n = n + 1'"
    )
    with pytest.raises(db.DbError, match="it differs from the spec"):
        apply_actions(tiny, sql, adopt=True)


def test_psql_adopts_with_pgoptions(tiny: str, tmp_path: Path, pg_server: Server) -> None:
    import subprocess

    sql, _ = project(tmp_path / "p", "app", "alpha")
    execute(tiny, "SELECT cron.schedule('alpha', '0 3 * * *', 'UPDATE tiny SET n = n + 1;')")
    hand = jobids(tiny)
    file = tmp_path / "pg_cron.sql"
    file.write_text(sql, encoding="utf-8")
    run = subprocess.run(
        [*pg_server.cluster.psql(), "-q", "-f", str(file)],
        capture_output=True,
        text=True,
        env={**pg_server.cluster.env(), "PGOPTIONS": "-c cronspec.adopt=on"},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "NOTICE:  cronspec: adopt job alpha: jobid" in run.stderr
    assert jobids(tiny) == hand


# --- plan is apply: the cases where they used to disagree ----------------------------------------


def test_a_whitespace_only_hand_edit_is_planned_and_applied_alike(
    tiny: str, tmp_path: Path, cli: Any
) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha")
    assert cli(tmp_path / "p", "apply", "--dsn", tiny)[0] == 0
    execute(
        tiny,
        'CREATE OR REPLACE PROCEDURE cronspec."alpha"() LANGUAGE sql AS '
        "$$UPDATE   tiny SET n = n + 1;\n\n$$",
    )
    code, out, _ = cli(tmp_path / "p", "plan", "--dsn", tiny)
    assert code == 2 and "  ~ procedure cronspec.alpha\n      body edited outside cronspec\n" in out
    assert cli(tmp_path / "p", "drift", "--dsn", tiny)[0] == 1
    changed = [a for a in assert_plan_is_apply(tiny, sql) if a[0] != "unchanged"]
    assert [a[:3] for a in changed] == [("change", "procedure", "cronspec.alpha")]
    assert procedures(tiny)["alpha"] == "UPDATE tiny SET n = n + 1;\n"
    assert cli(tmp_path / "p", "plan", "--dsn", tiny)[0] == 0


def test_a_hand_made_overload_is_another_procedure(tiny: str, tmp_path: Path) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha")
    execute(
        tiny,
        "CREATE SCHEMA cronspec;"
        'CREATE PROCEDURE cronspec."alpha"(x int) LANGUAGE sql AS $$SELECT x$$;',
    )
    added = [a[:3] for a in assert_plan_is_apply(tiny, sql) if a[1] in ("job", "procedure")]
    assert added == [("add", "job", "alpha"), ("add", "procedure", "cronspec.alpha")]
    (command,) = query(tiny, "SELECT command FROM cron.job WHERE jobname = 'alpha'")[0]
    execute(tiny, command)  # the CALL finds the procedure cronspec made
    assert len(query(tiny, "SELECT 1 FROM pg_proc WHERE proname = 'alpha'")) == 2


def test_a_routine_that_would_make_the_call_ambiguous_is_a_clash(tiny: str, tmp_path: Path) -> None:
    sql, _ = project(tmp_path / "p", "app", "alpha")
    execute(
        tiny,
        "CREATE SCHEMA cronspec;"
        'CREATE PROCEDURE cronspec."alpha"(x int DEFAULT 0) LANGUAGE sql AS $$SELECT x$$;',
    )
    (clash,) = [a for a in plan_actions(tiny, sql) if a[0] == "clash"]
    assert clash[5][0] == (
        "routine cronspec.alpha(IN x integer) exists and can be called without arguments, so the "
        "job's CALL cronspec.alpha() would be ambiguous"
    )
    with pytest.raises(db.DbError, match="would be ambiguous"):
        apply_actions(tiny, sql)
    assert jobs(tiny) == {}


def test_lost_bookkeeping_is_drift_and_a_plan_finding(tiny: str, tmp_path: Path, cli: Any) -> None:
    root = tmp_path / "p"
    project(root, "app", "alpha")
    assert cli(root, "apply", "--dsn", tiny)[0] == 0
    execute(tiny, "DROP TABLE cronspec.owned_job, cronspec.owned_procedure")
    code, out, _ = cli(root, "drift", "--dsn", tiny)
    assert code == 1 and out.count("  ! ") == 2  # not "no changes"
    code, out, _ = cli(root, "plan", "--dsn", tiny)
    assert code == 1 and "hint: take it over with --adopt" in out
    code, out, _ = cli(root, "plan", "--dsn", tiny, "--adopt")
    assert code == 2
    assert [line for line in out.splitlines() if line.startswith("  ") and line[2] != " "] == [
        "  + bookkeeping cronspec.owned_job, cronspec.owned_procedure",
        "  < job alpha",
        "  < procedure cronspec.alpha",
    ]
    assert cli(root, "apply", "--dsn", tiny, "--adopt")[0] == 0
    assert cli(root, "plan", "--dsn", tiny)[0] == 0


def test_a_schedule_written_as_the_spec_writes_it_is_adopted(tiny: str, tmp_path: Path) -> None:
    """`@daily` and `sun` are what a person writes; cronspec emits `0 0 * * *` and `0 4 * * 0`.
    Adoption takes either text, writes cronspec's (pg_cron's upsert keeps the jobid)."""
    specs = {"nightly": task("nightly", "@daily"), "sunday": task("sunday", "0 4 * * sun")}
    result = compiled(write_project(tmp_path / "p", specs))
    sql = result.files["pg_cron.sql"]
    execute(
        tiny,
        "SELECT cron.schedule('nightly', '@daily', 'UPDATE tiny SET n = n + 1;');"
        "SELECT cron.schedule('sunday', '0 4 * * sun', 'UPDATE tiny SET n = n + 1');",
    )
    hand = jobids(tiny)
    adopted = {a[2]: a for a in assert_plan_is_apply(tiny, sql, adopt=True) if a[1] == "job"}
    assert {name: a[0] for name, a in adopted.items()} == {"nightly": "adopt", "sunday": "adopt"}
    assert adopted["nightly"][5][1] == "schedule @daily -> 0 0 * * *"
    assert jobids(tiny) == hand
    assert {k: v[0] for k, v in jobs(tiny).items()} == {
        "nightly": "0 0 * * *",
        "sunday": "0 4 * * 0",
    }


def test_a_schedule_moved_to_utc_is_not_adopted_by_its_local_text(
    tiny: str, tmp_path: Path
) -> None:
    """pg_cron 1.4 runs every job in GMT: 09:00 in Tokyo is `0 0 * * *` there, not `0 9`."""
    root = write_project(
        tmp_path / "p", {"tokyo": task("tokyo", "0 9 * * *")}, 'timezone = "Asia/Tokyo"\n'
    )
    execute(tiny, "SELECT cron.schedule('tokyo', '0 9 * * *', 'UPDATE tiny SET n = n + 1;')")
    (clash,) = [
        a
        for a in plan_actions(tiny, compiled(root).files["pg_cron.sql"], adopt=True)
        if a[0] == "clash"
    ]
    assert clash[5][1] == "schedule 0 9 * * * -> 0 0 * * *"
