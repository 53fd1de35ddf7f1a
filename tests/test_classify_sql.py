"""Classification of SQL bodies as PostgreSQL's own parser reads them (issue 11): validity and
its message at the spec's line and column, the bypasses closed, which bodies are the job's own
command and why, pg_net, `reaches:`, and what the migration is asked to check live.

Each test that names an issue bug failed on main before (sqlglot's analysis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.builders import classified, plan_of, task

from cronspec.classify import classify
from cronspec.classify.body import read_body
from cronspec.classify.run import run_as
from cronspec.model import Task


def refused(t: Task) -> list[tuple[str, str]]:
    result, diags = classify(t)
    assert result is None, result
    return [(d.code, d.message) for d in diags if d.is_error]


def codes(t: Task) -> list[str]:
    return [code for code, _ in refused(t)]


# -- validity: PostgreSQL's verdict, its message, its position -----------------------------


@pytest.mark.parametrize(
    "body",
    ["CLUSTER t USING i", "VACUUM (ANALYZE, VERBOSE) t", "SELECT 'a'\n'b'"],
)
def test_what_postgresql_accepts_passes(body: str) -> None:
    # sqlglot refused `CLUSTER t USING i` with a false Q401
    assert classified(task(sql=body)).eligible


def test_what_postgresql_refuses_is_q401_with_its_message_at_the_token() -> None:
    # sqlglot passed `SELECT 'a' 'b'`; its messages never named the token
    t = task(sql="SELECT 1;\nSELECT 'a' 'b';")
    result, (diag,) = classify(t)
    assert result is None and diag.code == "Q401"
    assert diag.message == "SQL does not parse: syntax error at or near \"'b'\""
    body = t.sql_origin
    assert (diag.span.line, diag.span.col, diag.span.end_col) == (
        body.line + 1,
        body.col + 11,
        body.col + 14,
    )


@pytest.mark.parametrize(
    "body",
    [
        "SELECT " + "(" * 46 + "1" + ")" * 46,
        "SELECT " + "(SELECT " * 41 + "1" + ")" * 41,
        "SELECT " + "CASE WHEN true THEN " * 51 + "1" + " END" * 51,
    ],
    ids=["46-parentheses", "41-subqueries", "51-cases"],
)
def test_deep_bodies_compile_without_recursion_error(
    body: str, project: Any, cli: Any, tmp_path: Path
) -> None:
    # sqlglot raised RecursionError on each: exit 2
    spec = f"name: deep\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: |\n  {body}\n"
    root = project({"deep.yaml": spec})
    code, _, err = cli(root, "compile")
    assert code == 0 and "RecursionError" not in err, err
    assert "RecursionError" not in (root / "generated" / "pg_cron.sql").read_text()


def test_a_body_too_deep_to_analyse_is_q408() -> None:
    body = "SELECT " + "(" * 20_000 + "1" + ")" * 20_000
    (code,) = codes(task(sql=body))
    assert code in {"Q401", "Q408"}  # PostgreSQL's own parser limit, or cronspec's


# -- the bypasses -------------------------------------------------------------------------


def test_a_quoted_identifier_with_escapes_is_compared_decoded() -> None:
    # main: "pure SQL: 1 statement (SELECT)"
    t = task(sql="SELECT U&\"\\0070g_read_file\"('/etc/hostname')", worker="A.W")
    c = classified(t)
    assert (c.classification, c.executor) == ("app-bound", "oban")
    assert c.reasons[0].startswith("reaches outside the database: pg_read_file() reads")


def test_a_function_the_analysis_cannot_see_into_is_refused_like_do() -> None:
    # main: passed, a DO block in disguise
    body = (
        "CREATE FUNCTION pg_temp.f() RETURNS void LANGUAGE plpgsql AS $f$\n"
        "BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''id'''; END $f$;\n"
        "SELECT pg_temp.f();"
    )
    ((code, message),) = refused(task(sql=body))
    assert code == "Q409"
    assert "LANGUAGE plpgsql, which cronspec cannot see into: it works like a DO block" in message


@pytest.mark.parametrize("body", ["SELECT query_to_xml('SELECT 1', true, true, '')"])
def test_sql_given_as_text_is_opaque(body: str) -> None:
    assert codes(task(sql=body)) == ["Q409"]


@pytest.mark.parametrize(
    "body", ["SET standard_conforming_strings = off; SELECT 1", "RESET ALL; SELECT 1"]
)
def test_changing_how_sql_is_read_is_refused(body: str) -> None:
    assert codes(task(sql=body)) == ["Q410"]


PAYLOAD = "SELECT 'x\\' AS a, $$ ' ; COPY (SELECT 1) TO PROGRAM 'touch /tmp/p' ; -- $$ AS b;"


def test_the_payload_in_a_procedure_is_sql_with_the_setting_fixed() -> None:
    # the procedure fixes standard_conforming_strings = on: the payload is a SELECT of text
    c = classified(task(sql=PAYLOAD))
    assert c.eligible and not c.command
    assert "with standard_conforming_strings fixed on" in c.reasons[1]


def test_the_payload_as_a_command_is_refused() -> None:
    # as a job's own command, the database's setting reads it: off, it runs a program
    ((code, message),) = refused(task(sql=PAYLOAD, database="other"))
    assert code == "Q411"
    assert "which PostgreSQL reads with the database's standard_conforming_strings" in message


# -- top-level statements -----------------------------------------------------------------


def test_a_lone_call_is_the_jobs_own_command() -> None:
    # main: wrapped, so pg_partman's COMMIT failed at every run
    t = task(sql="CALL partman.run_maintenance_proc();")
    c = classified(t)
    assert c.command and c.run is not None
    assert c.run.command == "CALL partman.run_maintenance_proc()"
    assert "a lone CALL is the job's own command" in c.reasons[1]
    assert "COMMITs works" in c.reasons[1]
    plan, _, diags = plan_of([t])
    assert plan is not None, diags
    assert plan.procedures == ()
    assert [j.command for j in plan.jobs] == ["CALL partman.run_maintenance_proc()"]


def test_a_lone_call_cannot_be_startup() -> None:
    t = task(sql="CALL p()", schedules=["@daily", "@startup"])
    ((code, message),) = refused(t)
    assert code == "Q406" and "a procedure that COMMITs fails" in message


def test_a_call_among_others_is_wrapped_with_a_warning() -> None:
    t = task(sql="UPDATE t SET a = 1; CALL p();")
    c, diags = classify(t)
    assert c is not None and not c.command
    assert [(d.code, d.is_error) for d in diags] == [("Q413", False)]


@pytest.mark.parametrize("body", ["REINDEX TABLE t", "CLUSTER t USING i", "REINDEX INDEX i"])
def test_a_lone_reindex_or_cluster_is_the_jobs_own_command(body: str) -> None:
    c = classified(task(sql=body))
    assert c.command and c.run is not None and c.run.command == body
    assert "of a partitioned table cannot run inside a transaction" in c.reasons[1]
    assert [k.kind for k in c.checks] == ["relation"]


def test_a_reindex_among_others_is_checked_not_partitioned() -> None:
    c = classified(task(sql="REINDEX TABLE t; ANALYZE t;"))
    assert not c.command
    assert [(k.kind, k.name, k.about) for k in c.checks] == [
        ("relation", "t", "REINDEX"),
        ("not_partitioned", "t", "REINDEX TABLE"),
    ]


def test_a_body_that_uses_a_table_it_creates_is_the_jobs_own_command() -> None:
    body = "CREATE TEMP TABLE made AS SELECT 1 AS a;\nINSERT INTO t SELECT a FROM made;"
    c = classified(task(sql=body))
    assert c.command and c.run is not None and c.run.command == body
    assert "made is created by statement 1 of this body" in c.reasons[1]
    assert [k.name for k in c.checks] == ["t"]  # made is the body's own


@pytest.mark.parametrize("body", ["LOCK t", "DECLARE c CURSOR FOR SELECT 1"])
def test_a_statement_that_needs_a_block_cannot_be_a_whole_command(body: str) -> None:
    assert codes(task(sql=body, database="other")) == ["Q412"]
    assert classified(task(sql=body)).eligible  # wrapped, it has its block


def test_the_decision_takes_what_a_spec_asks() -> None:
    # the `run_as` field plugs in here: procedure always wraps, command never does
    call = task(sql="CALL p()")
    run, _ = run_as(call, read_body(call), "procedure")
    assert run is not None and run.mode == "procedure"
    update = task(sql="UPDATE t SET a = 1")
    run, _ = run_as(update, read_body(update), "command")
    assert run is not None and (run.mode, run.command) == ("command", "UPDATE t SET a = 1")
    vacuum = task(sql="VACUUM t")
    run, (diag,) = run_as(vacuum, read_body(vacuum), "procedure")
    assert run is None and diag.code == "Q404"
    scs = task(sql="SELECT 'a\\b'")
    run, (diag,) = run_as(scs, read_body(scs), "command")
    assert run is None and diag.code == "Q411"


# -- pg_net and `reaches:` ----------------------------------------------------------------

PG_NET = "SELECT net.http_post(url := 'https://example.com/hook', body := '{}'::jsonb);"


def test_a_pg_net_request_is_sql_eligible_and_says_why() -> None:
    # main: X501 "makes HTTP requests", with no way to say yes
    t = task(sql=PG_NET, executor="pg_cron")
    c = classified(t)
    assert (c.classification, c.executor) == ("sql-eligible", "pg_cron")
    assert c.reasons[0].endswith("nothing outside the database but pg_net's request queue")
    assert c.reasons[1] == (
        "net.http_post() queues an HTTP request: pg_net's background worker sends it "
        "asynchronously and writes the response to net._http_response (SQL line 1); the "
        "migration checks that pg_net is installed"
    )
    assert [(k.kind, k.name, k.about) for k in c.checks] == [
        ("extension", "pg_net", "net.http_post()")
    ]


def test_outside_calls_stay_app_bound_and_the_errors_say_what_to_write() -> None:
    body = "SELECT http_get('https://example.com')"
    ((code, message),) = refused(task(sql=body, executor="pg_cron"))
    assert code == "X501"
    assert message.endswith("to run it on pg_cron on purpose, add `reaches: [http]`")
    ((code, message),) = refused(task(sql=body))
    assert code == "X503"
    assert message.endswith("or, to run its SQL on pg_cron on purpose, add `reaches: [http]`")


def test_reaches_accepts_the_capability_on_purpose() -> None:
    t = task(sql="SELECT http_get('https://example.com')", reaches=["http"])
    c = classified(t)
    assert (c.classification, c.executor) == ("sql-eligible", "pg_cron")
    assert c.reasons[0].endswith("it reaches outside the database only where `reaches:` accepts it")
    assert c.reasons[1] == (
        "reaches outside the database on purpose (`reaches: [http]`): http_get() makes HTTP "
        "requests (pgsql-http) (SQL line 1)"
    )


def test_reaches_accepts_only_what_it_names() -> None:
    body = "SELECT http_get('x'); COPY t TO PROGRAM 'gzip';"
    c = classified(task(sql=body, reaches=["http"], worker="A.W"))
    assert c.classification == "app-bound"
    assert c.reasons[0].startswith("reaches outside the database: COPY ... PROGRAM")


def test_reaches_cannot_accept_a_copy_to_a_client() -> None:
    ((code, message),) = refused(task(sql="COPY t TO STDOUT", executor="pg_cron"))
    assert code == "X501" and "reaches:" not in message


def test_reaches_that_the_body_does_not_use_is_refused() -> None:
    t = task(sql="UPDATE t SET a = 1", reaches=["http"])
    result, (diag,) = classify(t)
    assert result is None
    assert (diag.code, diag.span) == ("X505", t.span("reaches"))
    assert diag.message.startswith("`reaches:` accepts `http`, which the body does not use")


# -- live checks --------------------------------------------------------------------------


def test_every_relation_a_body_needs_is_checked_once() -> None:
    body = "REFRESH MATERIALIZED VIEW mv; TRUNCATE s.a; INSERT INTO b SELECT * FROM s.a, c2;"
    c = classified(task(sql=body))
    assert [(k.schema, k.name, k.about, k.line) for k in c.checks] == [
        (None, "mv", "REFRESH MATERIALIZED VIEW", 1),
        ("s", "a", "TRUNCATE TABLE", 1),
        (None, "b", "INSERT", 1),
        (None, "c2", "INSERT", 1),
    ]
    assert "the migration checks that mv, s.a, b, c2 exist" in " ".join(c.reasons)


def test_a_task_in_another_database_is_not_checked_and_says_so() -> None:
    c = classified(task(sql="REFRESH MATERIALIZED VIEW mv", database="other"))
    assert c.checks == ()
    assert "the migration cannot check there that its relations exist" in " ".join(c.reasons)


def test_an_unterminated_string_is_one_line_that_names_where_it_starts() -> None:
    t = task(sql="SELECT 1;\nUPDATE t SET a = 'open;\nSELECT 2;")
    result, (diag,) = classify(t)
    assert result is None and "\n" not in diag.message
    assert diag.message == 'SQL does not parse: unterminated quoted string at or near "\'open;..."'
    assert (diag.span.line, diag.span.col) == (t.sql_origin.line + 1, t.sql_origin.col + 17)


def test_end_of_input_points_just_after_the_last_character() -> None:
    t = task(sql="UPDATE t SET a = (1\n")
    result, (diag,) = classify(t)
    assert result is None and diag.message == "SQL does not parse: syntax error at end of input"
    assert (diag.span.line, diag.span.col) == (t.sql_origin.line, t.sql_origin.col + 19)
