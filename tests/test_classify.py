"""Each classification rule on its own: the verdict, the executor and the reasons."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cronspec.api import compile_specs

Project = Callable[..., Path]


def spec(kind: str = "sql", sql: str | None = "UPDATE t SET a = 1;", **extra: str) -> str:
    lines = ["name: x", "description: d", f"kind: {kind}", 'schedule: "@daily"']
    if sql is not None:
        lines.append("sql: |\n" + "".join(f"  {line}\n" for line in sql.splitlines()).rstrip())
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def classify_one(project: Project, text: str) -> tuple[str, str, tuple[str, ...]]:
    compiled = compile_specs(project({"x.yaml": text}))
    assert compiled.ok, compiled.diagnostics
    (c,) = compiled.classified
    return c.classification, c.executor, c.reasons


def test_pure_sql_goes_to_pg_cron(project: Project) -> None:
    verdict, executor, reasons = classify_one(
        project, spec(sql="UPDATE t SET a = 1;\nINSERT INTO u VALUES (1);")
    )
    assert (verdict, executor) == ("sql-eligible", "pg_cron")
    assert reasons[0] == (
        "pure SQL: 2 statements (UPDATE, INSERT), parsed with sqlglot, nothing outside the database"
    )
    assert reasons[-1] == "executor: auto sends SQL-eligible tasks to pg_cron"


def test_kind_app_is_app_bound_and_names_the_worker(project: Project) -> None:
    verdict, executor, reasons = classify_one(project, spec("app", None, worker="A.Worker"))
    assert (verdict, executor) == ("app-bound", "oban")
    assert reasons[0] == "kind: app: the work is the application worker A.Worker"


@pytest.mark.parametrize(
    "need", ["ml", "file_io", "shell", "network", "app_state", "external_tool", "app_validation"]
)
def test_each_need_makes_a_sql_task_app_bound(project: Project, need: str) -> None:
    verdict, executor, reasons = classify_one(project, spec(needs=f"[{need}]", worker="A.Worker"))
    assert (verdict, executor) == ("app-bound", "oban")
    assert reasons[0].startswith(f"needs {need}: ")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("COPY t TO PROGRAM 'gzip > /tmp/x';", "COPY ... PROGRAM runs a program"),
        ("COPY t FROM '/etc/passwd';", "COPY to or from a server file"),
        ("COPY t TO STDOUT;", "COPY to or from the client needs a client"),
        ("SELECT pg_read_file('/etc/passwd');", "pg_read_file() reads the server's file system"),
        ("SELECT pg_catalog.pg_ls_dir('.');", "pg_ls_dir() reads the server's file system"),
        ("SELECT lo_export(1, '/tmp/x');", "lo_export() moves large objects"),
        ("SELECT * FROM dblink('h', 'SELECT 1') AS t(a int);", "dblink() connects to another"),
        ("SELECT http_get('http://x');", "http_get() makes HTTP requests"),
        ("CALL \"dblink_exec\"('h', 'x');", "dblink_exec() connects to another"),
    ],
)
def test_reaching_outside_the_database_is_app_bound(
    project: Project, body: str, reason: str
) -> None:
    verdict, executor, reasons = classify_one(project, spec(sql=body, worker="A.Worker"))
    assert (verdict, executor) == ("app-bound", "oban")
    assert reasons[0].startswith("reaches outside the database: " + reason)


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
        ("CLUSTER;", "CLUSTER without a table"),
        ("ALTER SYSTEM SET work_mem = '8MB';", "ALTER SYSTEM"),
    ],
)
def test_non_transactional_statement_is_the_job_itself(
    project: Project, body: str, what: str
) -> None:
    compiled = compile_specs(project({"x.yaml": spec(sql=body)}))
    assert compiled.ok, compiled.diagnostics
    (c,) = compiled.classified
    assert (c.classification, c.executor, c.standalone) == ("sql-eligible", "pg_cron", True)
    assert f"{what} cannot run inside a transaction or procedure" in c.reasons[1]
    assert compiled.plan is not None
    assert compiled.plan.procedures == ()
    assert [j.command for j in compiled.plan.jobs] == [body.rstrip(";")]


@pytest.mark.parametrize(
    "body",
    [
        "ANALYZE t;",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv;",
        "TRUNCATE t;",
        "REINDEX TABLE t;",
        "CLUSTER t;",
    ],
)
def test_statements_fine_inside_a_procedure_get_one(project: Project, body: str) -> None:
    compiled = compile_specs(project({"x.yaml": spec(sql=body)}))
    assert compiled.plan is not None
    assert [p.name for p in compiled.plan.procedures] == ["x"]
    assert [j.command for j in compiled.plan.jobs] == ['CALL "cronspec"."x"()']


def test_executor_oban_on_sql_eligible_is_allowed_with_a_note(project: Project) -> None:
    verdict, executor, reasons = classify_one(project, spec(executor="oban", worker="A.SqlWorker"))
    assert (verdict, executor) == ("sql-eligible", "oban")
    assert "could run on pg_cron" in reasons[-1]


def test_pinned_pg_cron_on_eligible_task(project: Project) -> None:
    assert classify_one(project, spec(executor="pg_cron"))[:2] == ("sql-eligible", "pg_cron")
