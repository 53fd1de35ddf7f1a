"""cronspec.pgsql: task bodies read by PostgreSQL's own parser (libpg_query through postgast).

Each test states what PostgreSQL does with a body and checks that the analysis says the same.
Where the server itself is the judge (where a statement may run), tests/test_pgsql_server.py
replays the statements on a real PostgreSQL 15.
"""

from __future__ import annotations

import string
import threading

import postgast
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronspec.classify import pgsql
from cronspec.classify.pgsql import Analysis, analyze, native


def only(body: str) -> Analysis:
    analysis = analyze(body)
    assert analysis.error is None, analysis.error
    return analysis


def kinds(analysis: Analysis) -> list[tuple[str, str]]:
    return [(f.kind, f.name) for f in analysis.findings]


# -- validity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "CLUSTER t USING i",  # sqlglot: false Q401
        "VACUUM (ANALYZE, VERBOSE) t",
        "SELECT 'a'\n'b'",  # adjacent literals separated by a newline are one string
        "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        "SELECT $tag$ it's $$ fine $tag$",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
    ],
)
def test_what_postgresql_accepts_is_valid(body: str) -> None:
    assert analyze(body).error is None


@pytest.mark.parametrize(
    ("body", "message", "line", "col", "end_col"),
    [
        ("SELECT 'a' 'b'", "syntax error at or near \"'b'\"", 1, 12, 15),  # sqlglot: passes
        ("SELECT 1;\n  SELEC 2", 'syntax error at or near "SELEC"', 2, 3, 8),
        ("UPDATE t SET a = (1;", 'syntax error at or near ";"', 1, 20, 21),
        ("SELECT 'é', 'ü' FROM WHERE", 'syntax error at or near "WHERE"', 1, 22, 27),  # characters
        ("SELECT $$abc", 'unterminated dollar-quoted string at or near "$$abc"', 1, 8, 8),
        ("SELECT 'abc", 'unterminated quoted string at or near "\'abc"', 1, 8, 8),
        ("SELECT (1", "syntax error at end of input", 1, 10, 10),
    ],
)
def test_a_syntax_error_is_postgresqls_own_at_its_line_and_column(
    body: str, message: str, line: int, col: int, end_col: int
) -> None:
    error = analyze(body).error
    assert error is not None
    assert (error.kind, error.message) == ("syntax", message)
    assert (error.span.line, error.span.col, error.span.end_col) == (line, col, end_col)


@pytest.mark.parametrize("body", ["", "   ", ";", " ; ;", "-- nothing\n/* here */"])
def test_an_empty_body_is_an_error_of_its_own(body: str) -> None:
    error = analyze(body).error
    assert error is not None
    assert (error.kind, error.message) == ("empty", "SQL body is empty")


@pytest.mark.parametrize("char", ["\0", "\ud800"])
def test_text_postgresql_cannot_receive_is_an_error_not_cut_short(char: str) -> None:
    # libpg_query reads C strings: after a NUL it would see nothing (the COPY below)
    error = analyze(f"SELECT 1;\n{char} COPY t TO PROGRAM 'x'").error
    assert error is not None and error.kind == "syntax"
    assert error.message.startswith('invalid byte sequence for encoding "UTF8"')
    assert (error.span.line, error.span.col) == (2, 1)


def test_an_error_inside_a_sql_function_body_points_into_it() -> None:
    body = "SELECT 1;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$\n  SELEC 1\n$f$;"
    error = analyze(body).error
    assert error is not None
    assert error.message == 'function f: syntax error at or near "SELEC"'
    assert (error.span.line, error.span.col, error.span.end_col) == (3, 3, 8)


# -- statements ----------------------------------------------------------------------------


def test_statements_have_their_kind_text_and_position() -> None:
    body = (
        "-- refresh the rollups\n"
        "UPDATE t SET a = 1; /* then */ insert into u values (1) -- trailing\n"
        ";\n"
        "   CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\n"
        "select 1 into z"
    )
    analysis = only(body)
    got = [(s.index, s.kind, s.node, s.text, s.span.line, s.span.col) for s in analysis.statements]
    assert got == [
        (0, "UPDATE", "UpdateStmt", "UPDATE t SET a = 1", 2, 1),
        (1, "INSERT", "InsertStmt", "insert into u values (1)", 2, 32),
        (2, "CREATE INDEX", "IndexStmt", "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)", 4, 4),
        (3, "SELECT INTO", "SelectStmt", "select 1 into z", 5, 1),
    ]
    for s in analysis.statements:
        assert body[s.span.start : s.span.end] == s.text


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("VACUUM t", "VACUUM"),
        ("ANALYZE t", "ANALYZE"),
        ("DROP MATERIALIZED VIEW IF EXISTS mv", "DROP MATERIALIZED VIEW"),
        ("CREATE MATERIALIZED VIEW mv AS SELECT 1", "CREATE MATERIALIZED VIEW"),
        ("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'", "CREATE PROCEDURE"),
        ("ALTER TABLE t ADD COLUMN c int", "ALTER TABLE"),
        ("DISCARD ALL", "DISCARD ALL"),
        ("TRUNCATE t", "TRUNCATE TABLE"),
        ("RESET work_mem", "RESET"),
        ("START TRANSACTION", "START TRANSACTION"),
        ("CREATE AGGREGATE a (int) (SFUNC = int4pl, STYPE = int)", "CREATE AGGREGATE"),
        ("SECURITY LABEL ON TABLE t IS 'x'", "SEC LABEL"),
    ],
)
def test_statement_kinds_are_postgresql_command_tags(body: str, kind: str) -> None:
    assert [s.kind for s in only(body).statements] == [kind]


# -- names ---------------------------------------------------------------------------------


def test_functions_are_found_everywhere_decoded_and_qualified_where_written() -> None:
    body = (
        "WITH c AS (SELECT a.f1() FROM t WHERE x = (SELECT f2()))\n"
        "SELECT U&\"\\0070g_read_file\"('/x'), \"Mixed\"(), pg_catalog.lower('A') FROM c;\n"
        "CREATE TABLE n (x int DEFAULT nextval('s'), y text CHECK (f3(y)));\n"
        "CALL p(f4(1), (SELECT f5()));\n"
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $b$ SELECT f6() $b$;\n"
        "CREATE FUNCTION h() RETURNS int LANGUAGE sql AS 'SELECT f7()';\n"
        "CREATE FUNCTION k() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT f8(); END;\n"
        "INSERT INTO t SELECT * FROM generate_series(1, f9()) ON CONFLICT DO NOTHING"
    )
    analysis = only(body)
    names = [(f.qualified, f.statement) for f in analysis.functions]
    assert names == [
        ("a.f1", 0),
        ("f2", 0),
        ("pg_read_file", 0),
        ("Mixed", 0),
        ("pg_catalog.lower", 0),
        ("nextval", 1),
        ("f3", 1),
        ("p", 2),
        ("f4", 2),
        ("f5", 2),
        ("f6", 3),
        ("f7", 4),
        ("f8", 5),
        ("generate_series", 6),
        ("f9", 6),
    ]
    assert all(f.called for f in analysis.functions)
    by_name = {f.name: f for f in analysis.functions}
    read = by_name["pg_read_file"].span
    assert body[read.start : read.end] == 'U&"\\0070g_read_file"'
    f6 = by_name["f6"].span  # inside a dollar-quoted body: exact
    assert (body[f6.start : f6.end], f6.line) == ("f6", 5)
    f7 = by_name["f7"].span  # inside a quoted body: the string it is in
    assert body[f7.start : f7.start + 1] == "'"


def test_functions_named_not_called_are_references() -> None:
    body = (
        "CREATE OPERATOR !! (RIGHTARG = text, FUNCTION = pg_read_file);\n"
        "CREATE CAST (text AS int) WITH FUNCTION my.cast_fn(text);\n"
        "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION s.trg();\n"
        "GRANT EXECUTE ON FUNCTION lo_import(text) TO app;\n"
        "DROP FUNCTION IF EXISTS pg_ls_dir(text)"
    )
    analysis = only(body)
    refs = [(f.qualified, f.called) for f in analysis.functions]
    assert refs == [
        ("pg_read_file", False),
        ("my.cast_fn", False),
        ("s.trg", False),
        ("lo_import", False),
    ]
    assert [f.name for f in analysis.of("outside")] == ["pg_read_file", "lo_import"]


def test_relations_have_schema_statement_and_role_and_ctes_are_not_relations() -> None:
    body = (
        "WITH RECURSIVE r AS (SELECT 1 FROM r UNION ALL SELECT 2 FROM base)\n"
        "SELECT * FROM r JOIN s.other o ON true;\n"
        "CREATE TABLE tmp AS SELECT * FROM public.src;\n"
        "INSERT INTO tmp SELECT 1;\n"
        "REFRESH MATERIALIZED VIEW analytics.daily;\n"
        "DROP TABLE IF EXISTS old_a, s.old_b;\n"
        "ALTER TABLE IF EXISTS maybe ADD COLUMN c int;\n"
        "LOCK r"  # no CTE here: r is a relation
    )
    analysis = only(body)
    got = [
        (r.qualified, r.statement, r.role, r.created_here, r.missing_ok, r.must_exist)
        for r in analysis.relations
    ]
    assert got == [
        ("base", 0, "uses", False, False, True),
        ("s.other", 0, "uses", False, False, True),
        ("tmp", 1, "creates", True, False, False),
        ("public.src", 1, "uses", False, False, True),
        ("tmp", 2, "uses", True, False, False),
        ("analytics.daily", 3, "uses", False, False, True),
        ("old_a", 4, "drops", False, True, False),
        ("s.old_b", 4, "drops", False, True, False),
        ("maybe", 5, "uses", False, True, False),
        ("r", 6, "uses", False, False, True),
    ]
    daily = analysis.relations[5].span
    assert body[daily.start : daily.end] == "analytics.daily"
    # the INSERT uses a table the body made: a LANGUAGE sql procedure cannot run that
    assert kinds(analysis) == [("own_relation", "tmp")]


# -- what the body does --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "name", "reason"),
    [
        ("SELECT pg_read_file('/etc/passwd')", "pg_read_file", "reads the server's file"),
        ("SELECT U&\"\\0070g_read_file\"('/etc/hostname')", "pg_read_file", "reads"),
        ("SELECT pg_catalog.pg_ls_dir('.')", "pg_catalog.pg_ls_dir", "reads"),
        ("SELECT pg_ls_waldir()", "pg_ls_waldir", "reads"),
        ("SELECT lo_export(1, '/tmp/x')", "lo_export", "moves large objects"),
        ("SELECT * FROM dblink('h', 'SELECT 1') AS t(a int)", "dblink", "another database"),
        ("CALL \"dblink_exec\"('h', 'x')", "dblink_exec", "another database"),
        ("SELECT http_post('http://x', '', 'text/plain')", "http_post", "pgsql-http"),
        ("SELECT public.http_get('http://x')", "public.http_get", "pgsql-http"),
        ("SELECT 1 FROM t WHERE a = (SELECT pg_stat_file('x'))", "pg_stat_file", "reads"),
        ("CREATE TABLE t (a text DEFAULT pg_read_file('/x'))", "pg_read_file", "reads"),
        ("COPY t TO PROGRAM 'gzip > /tmp/x'", "COPY", "COPY ... PROGRAM runs a program"),
        ("COPY t FROM '/etc/passwd'", "COPY", "COPY to or from a server file"),
        ("COPY (SELECT 1) TO STDOUT", "COPY", "COPY to or from the client needs a client"),
        ("LOAD 'auto_explain'", "LoadStmt", "loads a shared library"),
        ("CREATE FOREIGN TABLE f (a int) SERVER s", "CreateForeignTableStmt", "foreign table"),
        ("CREATE SERVER s FOREIGN DATA WRAPPER w", "CreateForeignServerStmt", "foreign server"),
        ("ALTER SYSTEM SET archive_command = 'rm x'", "AlterSystemStmt", "archive_command"),
    ],
)
def test_reaching_outside_the_database_is_found(body: str, name: str, reason: str) -> None:
    outside = only(body).of("outside")
    assert [f.name for f in outside] == [name]
    assert reason in outside[0].message


@pytest.mark.parametrize(
    "body",
    [
        "SELECT net.http_get('https://example.com')",
        "SELECT net.http_post(url := 'https://example.com', body := '{}'::jsonb)",
        "SELECT NET.http_delete('https://example.com')",
        "SELECT id FROM net.http_post('https://x', '{}'::jsonb) AS id",
    ],
)
def test_pg_net_requests_are_their_own_category(body: str) -> None:
    analysis = only(body)
    assert [f.kind for f in analysis.findings] == ["pg_net"]
    message = analysis.findings[0].message
    assert "queues an HTTP request: pg_net's background worker sends it asynchronously" in message
    assert "net._http_response" in message


def test_waiting_for_a_pg_net_response_in_the_job_reaches_outside() -> None:
    # pg_net fetches a request only after the transaction that queued it commits
    (finding,) = only("SELECT net.http_collect_response(1, async := false)").findings
    assert (finding.kind, finding.capability) == ("outside", "http")
    assert "waits in the job's transaction" in finding.message


@pytest.mark.parametrize(
    ("body", "capability"),
    [
        ("SELECT pg_read_file('/etc/hostname')", "server_files"),
        ("SELECT pg_ls_waldir()", "server_files"),
        ("COPY t FROM '/tmp/x'", "server_files"),
        ("COPY t TO PROGRAM 'gzip'", "server_programs"),
        ("COPY t TO STDOUT", ""),  # a pg_cron job has no client: nothing accepts it
        ("SELECT http_get('http://x')", "http"),
        ("SELECT dblink_exec('h', 'x')", "other_databases"),
        ("CREATE FOREIGN TABLE f (a int) SERVER s", "other_databases"),
        ("ALTER SYSTEM SET work_mem = '8MB'", "server_config"),
        ("LOAD 'auto_explain'", "server_config"),
    ],
)
def test_each_way_outside_names_the_capability_that_accepts_it(body: str, capability: str) -> None:
    (finding,) = only(body).of("outside")
    assert finding.capability == capability
    if capability:
        assert capability in pgsql.CAPABILITIES


def test_a_sql_function_created_by_the_body_is_looked_into() -> None:
    body = (
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $f$\n"
        "  SELECT pg_read_file('/etc/passwd')\n"
        "$f$;\n"
        "SELECT f()"
    )
    (finding,) = only(body).of("outside")
    assert (finding.name, finding.statement, finding.span.line, finding.span.col) == (
        "pg_read_file",
        0,
        2,
        10,
    )


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (
            "CREATE FUNCTION run(q text) RETURNS void LANGUAGE plpgsql AS "
            "$$ BEGIN EXECUTE q; END $$; SELECT run('COPY t TO PROGRAM ''x''')",
            "run",
        ),
        ("CREATE PROCEDURE p() LANGUAGE plpython3u AS 'pass'", "p"),
        ("CREATE FUNCTION f() RETURNS text LANGUAGE internal AS 'pg_read_file_all'", "f"),
        ("CREATE FUNCTION f() RETURNS int AS 'SELECT 1'", "f"),  # no LANGUAGE at all
        (
            "SELECT query_to_xml('SELECT pg_read_file(''/etc/passwd'')', true, false, '')",
            "query_to_xml",
        ),
        ("SELECT cron.schedule('x', '* * * * *', 'COPY t TO PROGRAM ''y''')", "cron.schedule"),
        ("SELECT ts_stat('SELECT to_tsvector(body) FROM t')", "ts_stat"),
    ],
)
def test_what_the_analysis_cannot_see_into_works_like_do(body: str, name: str) -> None:
    opaque = only(body).of("opaque")
    assert [f.name for f in opaque] == [name]


def test_do_blocks_and_transaction_control_are_found() -> None:
    body = (
        "DO $$ BEGIN PERFORM 1; END $$;\n"
        "COMMIT;\n"
        "SAVEPOINT s;\n"
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;\n"
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
    )
    assert kinds(only(body)) == [
        ("do", ""),
        ("transaction_control", "COMMIT"),
        ("transaction_control", "SAVEPOINT"),
        ("transaction_control", "SET TRANSACTION"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "SET standard_conforming_strings = off",
        "SET LOCAL standard_conforming_strings TO off",
        "RESET standard_conforming_strings",
        "RESET ALL",
        "SELECT set_config('standard_conforming_strings', 'off', false)",
        "SELECT set_config(name, 'off', false) FROM settings",  # which setting? cannot tell
        "ALTER DATABASE app SET standard_conforming_strings = off",
        "ALTER ROLE app SET standard_conforming_strings = off",
        "ALTER FUNCTION f() SET standard_conforming_strings = off",
        # a function of the body's that would read its own body with the setting off
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql SET standard_conforming_strings = off "
        "AS $$ SELECT 'x' $$",
    ],
)
def test_changing_how_sql_is_parsed_is_found(body: str) -> None:
    assert [f.kind for f in only(body).findings] == ["parse_setting"]


def test_other_settings_are_not_parse_settings() -> None:
    assert only("SET work_mem = '64MB'; SELECT set_config('search_path', 'a', true)").findings == ()


# -- standard_conforming_strings -----------------------------------------------------------


PAYLOAD = "SELECT 'x\\' AS a, $$ ' ; COPY (SELECT 1) TO PROGRAM 'touch /tmp/p' ; -- $$ AS b;"


def test_the_payload_that_changes_meaning_with_the_setting_is_flagged() -> None:
    analysis = only(PAYLOAD)
    # read with the setting on (as cronspec runs it), it is one SELECT of two strings...
    assert [s.kind for s in analysis.statements] == ["SELECT"]
    assert analysis.of("outside") == ()
    # ...and the analysis says so: off, 'x\' AS a, $$ ' is one string and COPY runs
    (finding,) = analysis.of("scs_dependent")
    assert PAYLOAD[finding.span.start : finding.span.end] == "'x\\'"


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        ("SELECT 'a\\b'", True),
        ("SELECT 'a'\n'\\b'", True),  # a continued literal is one token
        ("SELECT N'a\\b'", True),
        ("SELECT U&'\\0061'", True),  # an error when the setting is off
        ("SELECT E'a\\nb'", False),
        ("SELECT $$a\\b$$", False),
        ("SELECT 'it''s'", False),
        ('SELECT 1 AS "a\\b"', False),
        ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $f$ SELECT 'a\\b' $f$", True),
    ],
)
def test_text_whose_meaning_depends_on_the_setting(body: str, flagged: bool) -> None:
    assert bool(only(body).of("scs_dependent")) is flagged


# -- where statements run ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "placement"),
    [
        ("SELECT 1", "anywhere"),
        ("VACUUM", "alone"),
        ("VACUUM (ANALYZE) t", "alone"),
        ("ANALYZE t", "anywhere"),
        ("CLUSTER", "alone"),
        ("CLUSTER t USING i", "alone_if_partitioned"),
        ("REINDEX TABLE t", "alone_if_partitioned"),
        ("REINDEX (CONCURRENTLY) TABLE t", "alone"),
        ("REINDEX (CONCURRENTLY false) TABLE t", "alone_if_partitioned"),
        ("REINDEX SCHEMA s", "alone"),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", "alone"),
        ("CREATE INDEX i ON t (a)", "anywhere"),
        ("DROP INDEX CONCURRENTLY i", "alone"),
        ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "alone"),
        ("ALTER TABLE p DETACH PARTITION c", "anywhere"),
        ("CREATE DATABASE d", "alone"),
        ("ALTER DATABASE d SET TABLESPACE ts", "alone"),
        ("ALTER SYSTEM SET work_mem = '8MB'", "alone"),
        ("DISCARD ALL", "alone"),
        ("DISCARD PLANS", "anywhere"),
        ("CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p", "alone"),
        ("CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p WITH (connect = false)", "anywhere"),
        ("CALL partman.run_maintenance_proc()", "top_level"),
        ("LOCK t", "in_block"),
        ("DECLARE c CURSOR FOR SELECT 1", "in_block"),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "anywhere"),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "anywhere"),
        ("TRUNCATE t", "anywhere"),
        ("CHECKPOINT", "anywhere"),
    ],
)
def test_where_each_statement_may_run(body: str, placement: str) -> None:
    assert [s.placement for s in only(body).statements] == [placement]


def test_a_lone_statement_that_refuses_a_transaction_is_the_bare_command() -> None:
    bare = only("VACUUM (ANALYZE) graph_nodes;").bare
    assert bare is not None and (bare.kind, bare.text) == ("VACUUM", "VACUUM (ANALYZE) graph_nodes")


def test_a_lone_call_is_the_bare_command_so_its_callee_may_commit() -> None:
    bare = only("CALL partman.run_maintenance_proc();").bare
    assert bare is not None and bare.text == "CALL partman.run_maintenance_proc()"


@pytest.mark.parametrize("body", ["LOCK t", "SELECT 1", "UPDATE t SET a = 1; VACUUM t"])
def test_other_bodies_are_not_bare(body: str) -> None:
    assert only(body).bare is None


def test_a_statement_that_must_be_alone_among_others_is_a_finding() -> None:
    analysis = only("SELECT 1;\nVACUUM t;\nCALL p()")
    assert kinds(analysis) == [("alone", "VACUUM"), ("call_among_others", "p")]
    assert analysis.findings[0].span.line == 2


# -- fingerprint ---------------------------------------------------------------------------


def test_the_fingerprint_ignores_layout_comments_and_keyword_case() -> None:
    a = only("UPDATE t SET a = 1 WHERE b = 'X';")
    b = only("update T\n  set A = 1 -- why\n  where /* c */ b = 'X'")
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("SELECT 1", "SELECT 2"),
        ("SELECT 'a'", "SELECT 'A'"),
        ('SELECT "A" FROM t', 'SELECT "a" FROM t'),
        ("SELECT 1.0", "SELECT 1.00"),
        ("SELECT $$x$$", "SELECT $$X$$"),
        ("SELECT E'A'", "SELECT E'a'"),
    ],
)
def test_the_fingerprint_keeps_every_constant(one: str, other: str) -> None:
    assert only(one).fingerprint != only(other).fingerprint


def test_libpg_querys_own_fingerprint_would_hide_a_change_of_constant() -> None:
    # why cronspec does not use it for change detection
    assert postgast.fingerprint("SELECT 1").hex == postgast.fingerprint("SELECT 2").hex
    assert pgsql.fingerprint("SELECT 1") != pgsql.fingerprint("SELECT 2")


# -- depth and size ------------------------------------------------------------------------


def nested(kind: str, n: int) -> str:
    inner = "pg_read_file('/x')"
    if kind == "parens":
        return "SELECT " + "(" * n + inner + ")" * n
    if kind == "subqueries":
        return "SELECT " + "(SELECT " * n + inner + ")" * n
    return "SELECT " + "CASE WHEN true THEN " * n + inner + " END" * n


@pytest.mark.parametrize("kind", ["parens", "subqueries", "cases"])
@pytest.mark.parametrize("n", [41, 46, 51, 1000])
def test_deep_nesting_is_analysed_to_the_bottom(kind: str, n: int) -> None:
    analysis = only(nested(kind, n))
    assert [f.name for f in analysis.of("outside")] == ["pg_read_file"]


def test_a_long_left_deep_expression_does_not_crash_a_small_stack() -> None:
    # libpg_query writes its tree out recursively in C, about 1.3 kB of stack per level: without
    # a thread of its own, 10,000 terms would overflow this 1 MB thread and kill the process
    body = "SELECT " + " + ".join(["1"] * 10_000) + " + pg_read_file('/x')"
    box: list[Analysis] = []
    old = threading.stack_size(1 << 20)
    try:
        thread = threading.Thread(target=lambda: box.append(analyze(body)))
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    (analysis,) = box
    assert analysis.error is None
    assert [f.name for f in analysis.of("outside")] == ["pg_read_file"]


def test_past_the_parser_limit_nesting_is_an_error_value() -> None:
    error = analyze("SELECT " + "(" * 20_000 + "1" + ")" * 20_000).error
    assert error is not None
    assert (error.kind, error.message) == ("too_deep", 'memory exhausted at or near "("')


def test_a_huge_body_is_refused_as_too_large() -> None:
    error = analyze("SELECT " + ",".join(["1"] * (pgsql.MAX_TOKENS // 2 + 1))).error
    assert error is not None and error.kind == "too_large"


@pytest.mark.parametrize(
    "body",
    [
        "SELECT 1",
        PAYLOAD,
        nested("subqueries", 30),
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        "SELECT 'é', 1.5, true, NULL, B'01', X'ff', -1, ARRAY[1,2]::int[], $1",
        "INSERT INTO t (a) VALUES (DEFAULT) ON CONFLICT (a) DO UPDATE SET a = EXCLUDED.a",
    ],
)
def test_the_deep_fallback_builds_the_same_tree(body: str) -> None:
    # the protobuf tree, as used past json.loads' depth, is the JSON tree of the usual path
    assert native._as_json(postgast.parse(body)) == native._parse_json(body.encode())


SQLISH = string.ascii_letters + string.digits + " \n\t'\"$;()[],.:+-*/\\=<>!|&^%@#_" + "éß"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=SQLISH, max_size=80))
def test_any_text_gives_an_analysis_never_an_exception(body: str) -> None:
    analysis = analyze(body)
    if analysis.error is None:
        assert analysis.statements
    for s in analysis.statements:
        assert body[s.span.start : s.span.end] == s.text


def test_the_walk_skips_only_nodes_it_has_nothing_to_do_at() -> None:
    # the walk does not push a leaf (a name, a constant, a column): none may have a visitor
    from cronspec.classify.pgsql.tree import _LEAVES, _schema
    from cronspec.classify.pgsql.visit import _VISIT

    assert not _LEAVES & (_VISIT.keys() | _schema().keys() | {"RangeVar"})
