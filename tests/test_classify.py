"""Each classification rule on its own, on tasks built in memory (tests/support/builders.py):
the verdict, the executor and the reasons, and the diagnostics where a rule refuses."""

from __future__ import annotations

from typing import Any

import pytest
from support.builders import classified, plan_of, task

from cronspec.classify import classify
from cronspec.model import Task


def verdict(t: Task) -> tuple[str, str, tuple[str, ...]]:
    c = classified(t)
    return c.classification, c.executor, c.reasons


def test_pure_sql_goes_to_pg_cron() -> None:
    got, executor, reasons = verdict(task(sql="UPDATE t SET a = 1;\nINSERT INTO u VALUES (1);"))
    assert (got, executor) == ("sql-eligible", "pg_cron")
    assert reasons[0] == (
        "pure SQL: 2 statements (UPDATE, INSERT), parsed by PostgreSQL's parser, nothing outside "
        "the database"
    )
    assert reasons[-1] == "executor: auto sends SQL-eligible tasks to pg_cron"


def test_kind_app_is_app_bound_and_names_the_worker() -> None:
    got, executor, reasons = verdict(task(kind="app", sql=None, worker="A.Worker"))
    assert (got, executor) == ("app-bound", "oban")
    assert reasons[0] == "kind: app: the work is the application worker A.Worker"
    assert reasons[-1] == "executor: auto sends app-bound tasks to Oban"


@pytest.mark.parametrize(
    "need", ["ml", "file_io", "shell", "network", "app_state", "external_tool", "app_validation"]
)
def test_each_need_makes_a_sql_task_app_bound(need: str) -> None:
    got, executor, reasons = verdict(task(needs=[need], worker="A.Worker"))
    assert (got, executor) == ("app-bound", "oban")
    assert reasons[0].startswith(f"needs {need}: ")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("COPY t TO PROGRAM 'gzip > /tmp/x';", "COPY ... PROGRAM runs a program"),
        ("COPY t FROM '/etc/passwd';", "COPY to or from a server file"),
        ("COPY t TO STDOUT;", "COPY to or from the client needs a client"),
        ("SELECT pg_read_file('/etc/passwd');", "pg_read_file() reads the server's file system"),
        (
            "SELECT pg_catalog.pg_ls_dir('.');",
            "pg_catalog.pg_ls_dir() reads the server's file system",
        ),
        ("SELECT lo_export(1, '/tmp/x');", "lo_export() moves large objects"),
        ("SELECT * FROM dblink('h', 'SELECT 1') AS t(a int);", "dblink() connects to another"),
        ("SELECT http_get('http://x');", "http_get() makes HTTP requests"),
        ("CALL \"dblink_exec\"('h', 'x');", "dblink_exec() connects to another"),
    ],
)
def test_reaching_outside_the_database_is_app_bound(body: str, reason: str) -> None:
    got, executor, reasons = verdict(task(sql=body, worker="A.Worker"))
    assert (got, executor) == ("app-bound", "oban")
    assert reasons[0].startswith("reaches outside the database: " + reason)
    assert reasons[0].endswith("(SQL line 1)")


def test_the_reason_names_the_line_of_the_body() -> None:
    _, _, reasons = verdict(task(sql="SELECT 1;\nSELECT 2;\nSELECT http_get('x');", worker="A.W"))
    assert reasons[0] == (
        "reaches outside the database: http_get() makes HTTP requests (pgsql-http) (SQL line 3)"
    )


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("VACUUM ANALYZE;", "VACUUM"),
        ("VACUUM (ANALYZE) graph_nodes", "VACUUM"),
        ("CREATE INDEX CONCURRENTLY i ON t (a);", "CREATE INDEX CONCURRENTLY"),
        ("CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);", "CREATE INDEX CONCURRENTLY"),
        ("DROP INDEX CONCURRENTLY i;", "DROP INDEX CONCURRENTLY"),
        ("REINDEX TABLE CONCURRENTLY t;", "REINDEX CONCURRENTLY"),
        ("REINDEX SCHEMA public;", "REINDEX SCHEMA"),
        ("CLUSTER;", "CLUSTER"),
        ("DISCARD ALL;", "DISCARD ALL"),
    ],
)
def test_non_transactional_statement_is_the_job_itself(body: str, what: str) -> None:
    t = task(sql=body)
    c = classified(t)
    assert (c.classification, c.executor, c.command) == ("sql-eligible", "pg_cron", True)
    assert f"{what} cannot run inside a transaction or procedure" in c.reasons[1]
    plan, _, diags = plan_of([t])
    assert plan is not None, diags
    assert plan.procedures == ()
    assert [j.command for j in plan.jobs] == [body.rstrip(";")]


@pytest.mark.parametrize(
    "body",
    [
        "ANALYZE t;",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv;",
        "TRUNCATE t;",
        "REINDEX TABLE t; ANALYZE t;",  # a lone REINDEX or CLUSTER is the job's own command
        "CLUSTER t; ANALYZE t;",
    ],
)
def test_statements_fine_inside_a_procedure_get_one(body: str) -> None:
    plan, _, diags = plan_of([task(sql=body)])
    assert plan is not None, diags
    assert [p.name for p in plan.procedures] == ["x"]
    assert [j.command for j in plan.jobs] == ['CALL "cronspec"."x"()']


def test_executor_oban_on_sql_eligible_is_allowed_with_a_note() -> None:
    t = task(executor="oban", worker="A.SqlWorker")
    c, diags = classify(t)
    assert c is not None and (c.classification, c.executor) == ("sql-eligible", "oban")
    assert "could run on pg_cron" in c.reasons[-1]
    (warning,) = diags
    assert (warning.code, warning.is_error, warning.span) == ("X502", False, t.span("executor"))


def test_pinned_pg_cron_on_eligible_task() -> None:
    assert verdict(task(executor="pg_cron"))[:2] == ("sql-eligible", "pg_cron")


# -- where a rule refuses: one diagnostic, at the key it is about --------------------------------


def test_pg_cron_pinned_on_an_app_bound_task_is_refused_at_executor() -> None:
    t = task(kind="app", sql=None, worker="A.W", needs=["ml"], executor="pg_cron")
    result, (diag,) = classify(t)
    assert result is None
    assert (diag.code, diag.span) == ("X501", t.span("executor"))
    assert diag.message == (
        "`executor: pg_cron` but the task is app-bound: kind: app: the work is the application "
        "worker A.W; needs ml: runs a machine-learning model (embeddings, inference)"
    )


def test_an_oban_task_needs_a_worker() -> None:
    t = task(sql="COPY t TO PROGRAM 'gzip';")
    result, (diag,) = classify(t)
    assert result is None and (diag.code, diag.span) == ("X503", t.span("kind"))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"executor": "oban", "worker": "A.W"}, "but this task runs on Oban"),
        ({"schedules": ["@startup"]}, "@startup runs in the migration's database"),
    ],
    ids=["on-oban", "at-startup"],
)
def test_database_where_it_cannot_apply(args: dict[str, Any], fragment: str) -> None:
    t = task(database="analytics", **args)
    result, diags = classify(t)
    assert result is None
    (diag,) = [d for d in diags if d.is_error]
    assert (diag.code, diag.span) == ("X504", t.span("database")) and fragment in diag.message


def test_startup_cannot_run_a_statement_that_refuses_a_transaction() -> None:
    t = task(sql="VACUUM t", schedules=["@daily", "@startup"])
    result, (diag,) = classify(t)
    assert result is None
    assert (diag.code, diag.span) == ("Q406", t.schedules[1].span)


def test_a_body_problem_is_placed_in_the_spec() -> None:
    t = task(sql="SELECT 1;\nCOMMIT;")
    result, (diag,) = classify(t)
    assert result is None and diag.code == "Q403"
    body = t.sql_origin
    assert (diag.span.line, diag.span.col) == (body.line + 1, body.col)
    assert (diag.span.end_line, diag.span.end_col) == (body.line + 1, body.col + len("COMMIT"))
