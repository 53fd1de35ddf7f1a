"""`cronspec plan --explain` on the real server: EXPLAIN of every statement of every pg_cron job
inside the plan's rolled-back transaction, and the per-row patterns read from the plans.

Every test loads example/schema.sql with data of a realistic shape (10k nodes and 50k random
edges, 50k pattern events, built with generate_series) and ANALYZEs it, so the planner's
estimates are those of a populated database, not of empty tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.common import RESET_SQL, ROOT
from support.pgcluster import PgCluster

from cronspec import db as cronspec_db
from cronspec.queryplan import Request, Target, Thresholds, review
from cronspec.queryplan.targets import targets

pytestmark = pytest.mark.db

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]

DATA = """
SELECT setseed(0.42);
INSERT INTO graph_nodes (name) SELECT 'node_' || g FROM generate_series(1, 10000) g;
INSERT INTO graph_edges (source_id, target_id)
SELECT 1 + floor(random() * 10000)::bigint, 1 + floor(random() * 10000)::bigint
FROM generate_series(1, 50000);
INSERT INTO pattern_events (pattern_type, pattern_key, succeeded, duration_ms, occurred_at,
                            learned_at)
SELECT 'type_' || (g % 7), 'key_' || (g % 500), g % 3 <> 0,
       CASE WHEN g % 5 <> 0 THEN g % 900 END, now() - g * interval '1 second',
       CASE WHEN g <= 45000 THEN now() END
FROM generate_series(1, 50000) g;
INSERT INTO learned_patterns (pattern_type, pattern_key, occurrences, successes, timed_runs,
                              total_duration_ms, first_seen_at, last_seen_at)
SELECT 'type_' || (g % 7), 'key_' || g, 10, 5, 8, 800, now(), now()
FROM generate_series(1, 500) g;
INSERT INTO work_plan_themes (name) SELECT 'theme ' || g FROM generate_series(1, 20) g;
ANALYZE;
"""
EDGE_INDEXES = ("graph_edges_source_target_idx", "graph_edges_target_source_idx")

# The design note's graph body, as the note wrote it: two correlated UPDATEs.
DESIGN_NOTE = """\
name: weekly-populate-graph-deps
description: The design note's graph job, as the note wrote it.
kind: sql
schedule:
  - "0 7 * * 0"
  - "@startup"
sql: |
  -- Update dependency_node_ids (what each node depends on)
  UPDATE graph_nodes gn
  SET dependency_node_ids = ARRAY(
    SELECT DISTINCT target_id
    FROM graph_edges
    WHERE source_id = gn.id
  );

  -- Update dependent_node_ids (what depends on each node)
  UPDATE graph_nodes gn
  SET dependent_node_ids = ARRAY(
    SELECT DISTINCT source_id
    FROM graph_edges
    WHERE target_id = gn.id
  );
"""

TASK = """\
name: {name}
description: A SQL task.
kind: sql
schedule: "0 3 * * *"
{extra}sql: |
{body}"""


def _load(dsn: str, *, edge_indexes: bool = True) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((ROOT / "example" / "schema.sql").read_text(encoding="utf-8").encode())
        # the foreign keys' triggers would check every random edge one by one
        conn.execute("SET session_replication_role = replica")
        conn.execute(DATA.encode())
        if not edge_indexes:
            _drop_edge_indexes(conn)


def _drop_edge_indexes(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"DROP INDEX {', '.join(EDGE_INDEXES)}")


@pytest.fixture(scope="module")
def loaded(cluster: PgCluster) -> str:
    """The cron database with the example's schema and data, loaded once for the module."""
    cluster.sql(RESET_SQL)  # emptied of jobs, schemas and tables, as the `db` fixture does
    dsn = cluster.dsn()
    _load(dsn)
    return dsn


@pytest.fixture
def graph(loaded: str) -> Iterator[str]:
    """The loaded database; what a test adds to it (functions, tables, indexes) goes after."""
    yield loaded
    with psycopg.connect(loaded, autocommit=True) as conn:
        conn.execute("DROP FUNCTION IF EXISTS node_deps(bigint)")
        conn.execute("DROP TABLE IF EXISTS tags")
        extra = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'graph_edges'::regclass AND NOT indisprimary"
        ).fetchall()
        for (name,) in extra:
            conn.execute(f"DROP INDEX {name}")
        conn.execute((ROOT / "example" / "schema.sql").read_text(encoding="utf-8").encode())


@pytest.fixture
def no_edge_indexes(graph: str) -> str:
    """The same without graph_edges' two indexes (the fixture `graph` puts them back)."""
    with psycopg.connect(graph, autocommit=True) as conn:
        _drop_edge_indexes(conn)
    return graph


def _explain(cli: Cli, root: Path, dsn: str, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(root, "plan", "--dsn", dsn, "--explain", "--format", "json", *args)
    assert code in (0, 1, 2), err
    return code, json.loads(out)["explain"]


def _codes(document: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(d["code"], d["path"], d["line"]) for d in document["diagnostics"]]


def _task(project: Project, cli: Cli, body: str, name: str = "job", extra: str = "") -> Path:
    indented = "".join(f"  {line}\n" for line in body.strip("\n").splitlines())
    root = project({f"{name}.yaml": TASK.format(name=name, extra=extra, body=indented)})
    code, _, err = cli(root, "compile")
    assert code == 0, err
    return root


def _schemas(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}


# --- the example, and the design note's body --------------------------------------------------


def test_the_example_with_its_indexes_flags_nothing(example: Path, cli: Cli, graph: str) -> None:
    code, out, err = cli(example, "plan", "--dsn", graph, "--explain")
    assert code == 2, err  # changes to apply, nothing flagged
    summary = (
        "cronspec plan --explain: 5 statements of 5 tasks planned, 1 not explainable, 0 failed "
        "to plan; 0 flagged\n"
    )
    assert summary in out
    assert (
        "  note: specs/daily-vacuum-analyze.yaml:8:3: statement 1 (VACUUM) not explained: "
        "VACUUM has no query plan\n"
    ) in out
    assert "warning[" not in out
    assert "cronspec" not in _schemas(graph)  # the plan, EXPLAIN and all, was rolled back


def test_the_example_without_edge_indexes_flags_nothing_either(
    example: Path, cli: Cli, no_edge_indexes: str
) -> None:
    # the shipped graph body aggregates all edges at once: no per-row work to flag
    db = no_edge_indexes
    code, document = _explain(cli, example, db)
    assert code == 2 and document["diagnostics"] == []
    assert {s["status"] for s in document["statements"]} == {"explained", "skipped"}


def test_the_design_note_body_without_edge_indexes_is_flagged(
    example: Path, cli: Cli, no_edge_indexes: str
) -> None:
    db = no_edge_indexes
    spec = example / "specs" / "weekly-populate-graph-deps.yaml"
    spec.write_text(DESIGN_NOTE, encoding="utf-8")
    assert cli(example, "compile")[0] == 0
    code, out, _ = cli(example, "plan", "--dsn", db, "--explain")
    assert code == 1  # flagged: 1, although the plan also has changes
    path = "specs/weekly-populate-graph-deps.yaml"
    tail = "about 10,000 scans of 50,000 rows; an index on graph_edges({}) would let each run "
    expected = [
        f"{path}:9:3: warning[E901]: statement 1 (UPDATE): the correlated subquery SubPlan 1 "
        f"reads graph_edges by sequential scan once per row of graph_nodes: "
        + tail.format("source_id")
        + "look its rows up",
        f"{path}:17:3: warning[E901]: statement 2 (UPDATE): the correlated subquery SubPlan 1 "
        f"reads graph_edges by sequential scan once per row of graph_nodes: "
        + tail.format("target_id")
        + "look its rows up",
    ]
    flagged = [line for line in out.splitlines() if "warning[" in line]
    assert flagged == expected
    assert "; 2 flagged\n" in out
    # github: one workflow annotation per finding, on the statement's lines
    code, out, _ = cli(example, "plan", "--dsn", db, "--explain", "--format", "github")
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert code == 1 and len(annotations) == 2
    assert annotations[0].startswith(
        f"::warning file={path},line=9,col=3,endLine=14,endColumn=4,title=cronspec E901::"
        "statement 1 (UPDATE)"
    )
    assert "graph_edges(target_id)" in annotations[1] and "line=17," in annotations[1]
    # json: the same findings, and every statement with its status and plan
    code, document = _explain(cli, example, db)
    assert code == 1
    assert _codes(document) == [("E901", path, 9), ("E901", path, 17)]
    graph_job = [s for s in document["statements"] if s["task"] == "weekly-populate-graph-deps"]
    assert [(s["statement"], s["status"], s["findings"]) for s in graph_job] == [
        (1, "explained", ["E901"]),
        (2, "explained", ["E901"]),
    ]
    assert graph_job[0]["plan"][0]["Plan"]["Node Type"] == "ModifyTable"
    assert document["thresholds"] == {"min_rows": 1000, "min_pages": 100, "min_loops": 10}
    # the index it names is the fix: with it, nothing is flagged
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE INDEX ON graph_edges (source_id)")
        conn.execute("CREATE INDEX ON graph_edges (target_id)")
        conn.execute("ANALYZE graph_edges")
    code, document = _explain(cli, example, db)
    assert code == 2 and document["diagnostics"] == []


def test_without_explain_plan_prints_no_query_plans(example: Path, cli: Cli, graph: str) -> None:
    code, out, _ = cli(example, "plan", "--dsn", graph)
    assert code == 2 and "--explain" not in out
    code, out, _ = cli(example, "plan", "--dsn", graph, "--format", "json")
    assert "explain" not in json.loads(out)


# --- the other per-row patterns ----------------------------------------------------------------


def test_a_lateral_subquery_scanning_per_row_is_flagged(
    project: Project, cli: Cli, no_edge_indexes: str
) -> None:
    db = no_edge_indexes
    root = _task(
        project,
        cli,
        """
        UPDATE graph_nodes g SET pagerank = d.n
        FROM (SELECT n.id, c.n
              FROM graph_nodes n
              CROSS JOIN LATERAL (SELECT count(*) AS n FROM graph_edges e
                                  WHERE e.target_id = n.id) c) d
        WHERE g.id = d.id;
        """,
    )
    code, document = _explain(cli, root, db)
    assert code == 1 and _codes(document) == [("E902", "specs/job.yaml", 6)]
    message = document["diagnostics"][0]["message"]
    assert "the inner side of a nested loop reads graph_edges by sequential scan" in message
    assert "once per row of graph_nodes" in message
    assert "an index on graph_edges(target_id)" in message


def test_a_plpgsql_function_called_per_row_is_flagged(
    project: Project, cli: Cli, graph: str
) -> None:
    with psycopg.connect(graph, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION node_deps(bigint) RETURNS SETOF bigint LANGUAGE plpgsql STABLE AS "
            "$$ BEGIN RETURN QUERY SELECT target_id FROM graph_edges WHERE source_id = $1; "
            "END $$"
        )
    root = _task(
        project,
        cli,
        """
        INSERT INTO work_plan_themes (name)
        SELECT DISTINCT 'depends on ' || d FROM graph_nodes n, LATERAL node_deps(n.id) AS d
        ON CONFLICT DO NOTHING;
        """,
    )
    code, document = _explain(cli, root, graph)
    assert code == 1 and _codes(document) == [("E903", "specs/job.yaml", 6)]
    message = document["diagnostics"][0]["message"]
    assert "the function public.node_deps() is called once per row of graph_nodes" in message
    assert "about 10,000 times" in message


def test_a_join_filter_comparing_every_pair_names_both_indexes(
    project: Project, cli: Cli, no_edge_indexes: str
) -> None:
    db = no_edge_indexes
    # edges two hops apart, in either direction: an OR the planner cannot hash
    body = """
    INSERT INTO work_plan_themes (name)
    SELECT 'two hops: ' || count(*)
    FROM graph_edges a
    JOIN graph_edges b ON a.target_id = b.source_id OR a.source_id = b.target_id
    ON CONFLICT DO NOTHING;
    """
    root = _task(project, cli, body)
    code, document = _explain(cli, root, db)
    assert code == 1 and _codes(document) == [("E904", "specs/job.yaml", 6)]
    message = document["diagnostics"][0]["message"]
    assert "a nested loop compares each row of graph_edges with each row of graph_edges" in message
    assert "= 2,500,000,000 comparisons" in message
    assert (
        "indexes on graph_edges(source_id) and graph_edges(target_id) would let each run look "
        "its rows up (one per OR branch)"
    ) in message
    # with them, the planner looks each pair up instead
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE INDEX ON graph_edges (source_id)")
        conn.execute("CREATE INDEX ON graph_edges (target_id)")
        conn.execute("ANALYZE graph_edges")
    code, document = _explain(cli, root, db)
    assert code == 2 and document["diagnostics"] == []


def test_a_comparison_no_index_can_serve_says_why(project: Project, cli: Cli, graph: str) -> None:
    # bigint = numeric compares as numeric: the index on (source_id, target_id) cannot serve it
    root = _task(
        project,
        cli,
        """
        UPDATE graph_nodes gn SET pagerank = (
          SELECT count(*) FROM graph_edges e WHERE e.source_id = gn.id::numeric);
        """,
    )
    code, document = _explain(cli, root, graph)
    assert code == 1 and _codes(document) == [("E901", "specs/job.yaml", 6)]
    message = document["diagnostics"][0]["message"]
    assert message.endswith(
        "it compares source_id as numeric, which no index on the column can serve: compare the "
        "column as its own type (cast the other side instead)"
    )


def test_an_index_the_plan_does_not_use_is_named(project: Project, cli: Cli, graph: str) -> None:
    with psycopg.connect(graph, autocommit=True) as conn:
        conn.execute("CREATE TABLE tags (node_id bigint, tag text)")
        conn.execute(
            "INSERT INTO tags SELECT g % 10000, 'tag' || g % 7 FROM generate_series(1, 30000) g"
        )
        conn.execute("CREATE INDEX tags_node_idx ON tags (node_id)")
        conn.execute("ANALYZE tags")
    # enable_indexscan and enable_bitmapscan off stand for whatever makes a planner skip an
    # index (here, in a spec, as SET LOCAL does not reach the planner of the next statement)
    root = _task(
        project,
        cli,
        """
        UPDATE graph_nodes gn SET node_type = (
          SELECT max(tag) FROM tags t WHERE t.node_id = gn.id);
        """,
    )
    with psycopg.connect(graph, autocommit=True) as conn:
        conn.execute("ALTER ROLE postgres SET enable_indexscan = off")
        conn.execute("ALTER ROLE postgres SET enable_bitmapscan = off")
    try:
        code, document = _explain(cli, root, graph)
    finally:
        with psycopg.connect(graph, autocommit=True) as conn:
            conn.execute("ALTER ROLE postgres RESET enable_indexscan")
            conn.execute("ALTER ROLE postgres RESET enable_bitmapscan")
    assert code == 1 and _codes(document) == [("E901", "specs/job.yaml", 6)]
    assert document["diagnostics"][0]["message"].endswith(
        "an index on tags(node_id) exists but this plan does not use it (check the column types "
        "on both sides of the comparison, and the statistics)"
    )


@pytest.mark.parametrize(
    "body",
    [
        # a hashed SubPlan runs once, into a hash table
        "DELETE FROM graph_nodes WHERE id NOT IN (SELECT source_id FROM graph_edges);",
        # an InitPlan runs once
        "UPDATE graph_nodes SET pagerank = 0 WHERE id = (SELECT max(source_id) FROM graph_edges);",
        # per row, but over 20 rows
        "UPDATE graph_nodes gn SET pagerank = (SELECT count(*) FROM work_plan_themes t "
        "WHERE t.description = gn.name);",
        # per row, through the index
        "UPDATE graph_nodes gn SET dependency_node_ids = ARRAY(SELECT target_id FROM graph_edges "
        "WHERE source_id = gn.id);",
        # a pg_catalog function per row
        "SELECT n.id, x FROM graph_nodes n, LATERAL unnest(n.dependency_node_ids) AS x;",
    ],
    ids=["hashed-subplan", "initplan", "small-table", "indexed", "unnest"],
)
def test_what_runs_once_or_cheaply_is_not_flagged(
    project: Project, cli: Cli, graph: str, body: str
) -> None:
    root = _task(project, cli, body)
    code, document = _explain(cli, root, graph)
    assert code == 2 and document["diagnostics"] == [], document["diagnostics"]
    assert [s["status"] for s in document["statements"]] == ["explained"]


def test_thresholds_are_options(project: Project, cli: Cli, graph: str) -> None:
    body = (
        "UPDATE graph_nodes gn SET pagerank = (SELECT count(*) FROM work_plan_themes t "
        "WHERE t.description = gn.name);"
    )
    root = _task(project, cli, body)
    code, document = _explain(cli, root, graph, "--explain-min-rows", "10")
    assert code == 1 and _codes(document) == [("E901", "specs/job.yaml", 6)]
    assert "an index on work_plan_themes(description)" in document["diagnostics"][0]["message"]
    assert document["thresholds"]["min_rows"] == 10
    code, document = _explain(
        cli, root, graph, "--explain-min-rows", "10", "--explain-min-loops", "20000"
    )
    assert code == 2 and document["diagnostics"] == []


# --- what is not explained, and other databases --------------------------------------------


def test_a_task_in_another_database_is_explained_there(
    project: Project, cli: Cli, cluster: PgCluster, graph: str
) -> None:
    """A `database:` task's body is the job's command, run there: each statement is
    explained there, in a READ ONLY transaction rolled back."""
    cluster.sql("DROP DATABASE IF EXISTS explain_other", dbname="postgres")
    other = cluster.new_database("explain_other")
    try:
        _load(other, edge_indexes=False)
        body = """
        UPDATE graph_nodes gn SET pagerank = (SELECT count(*) FROM graph_edges e
                                              WHERE e.source_id = gn.id);
        DELETE FROM gone_table;
        CREATE TEMPORARY TABLE hubs AS
          SELECT source_id FROM graph_edges GROUP BY 1 HAVING count(*) > 8;
        UPDATE graph_nodes SET node_type = 'hub' WHERE id IN (SELECT source_id FROM hubs);
        TRUNCATE learned_patterns;
        """
        root = _task(project, cli, body, extra="database: explain_other\n")
        code, document = _explain(cli, root, graph)
        assert code == 1
        assert _codes(document) == [("E901", "specs/job.yaml", 7), ("E905", "specs/job.yaml", 9)]
        p705 = document["diagnostics"][1]["message"]
        assert p705 == (
            'statement 2 (DELETE): PostgreSQL cannot plan it: relation "gone_table" does not '
            "exist; the job fails the same way when it runs"
        )
        statements = document["statements"]
        assert [(s["statement"], s["kind"], s["status"], s["database"]) for s in statements] == [
            (1, "UPDATE", "explained", "explain_other"),
            (2, "DELETE", "failed", "explain_other"),
            (3, "CREATE TABLE AS", "explained", "explain_other"),
            (4, "UPDATE", "skipped", "explain_other"),
            (5, "TRUNCATE TABLE", "skipped", "explain_other"),
        ]
        assert statements[3]["note"].startswith(
            "uses hubs, which an earlier statement of the body creates: it can be planned only "
            "once that statement ran"
        )
        assert statements[4]["note"] == "TRUNCATE TABLE has no query plan"
        with psycopg.connect(other) as conn:  # EXPLAIN runs nothing
            row = conn.execute("SELECT count(*) FROM graph_nodes WHERE pagerank IS NOT NULL")
            assert row.fetchone() == (0,)
            assert conn.execute("SELECT to_regclass('hubs')").fetchone() == (None,)
    finally:
        cluster.sql("DROP DATABASE explain_other WITH (FORCE)", dbname="postgres")


def test_a_database_that_cannot_be_reached_is_a_note(
    project: Project, cli: Cli, cluster: PgCluster, graph: str
) -> None:
    cluster.sql("DROP DATABASE IF EXISTS explain_closed", dbname="postgres")
    cluster.new_database("explain_closed")
    cluster.sql("ALTER DATABASE explain_closed ALLOW_CONNECTIONS false", dbname="postgres")
    try:
        root = _task(project, cli, "SELECT 1;", extra="database: explain_closed\n")
        code, out, _ = cli(root, "plan", "--dsn", graph, "--explain")
    finally:
        cluster.sql("DROP DATABASE explain_closed", dbname="postgres")
    assert code == 2, out
    (note,) = [line for line in out.splitlines() if line.startswith("  note:")]
    assert note.startswith(
        "  note: specs/job.yaml:7:3: statement 1 (SELECT) not explained: cannot connect to "
        "database explain_closed: cannot connect: "
    )
    assert note.endswith('database "explain_closed" is not currently accepting connections')


# --- the pure review, on plans the server made ------------------------------------------------


def test_review_reads_plans_from_explain_statements(graph: str) -> None:
    """db.explain_statements in an open transaction, then review() on what it returned."""
    with psycopg.connect(graph) as conn:
        conn.execute("DROP INDEX " + ", ".join(EDGE_INDEXES))
        conn.execute("ANALYZE graph_edges")
        statements = [
            "SELECT (SELECT count(*) FROM graph_edges e WHERE e.target_id = n.id) "
            "FROM graph_nodes n",
            "SELECT 1 FROM no_such_table",
            "SELECT count(*) FROM graph_edges WHERE source_id = 5 AND target_id > 100",
        ]
        results = cronspec_db.explain_statements(conn, [Request(None, s) for s in statements])
        conn.rollback()
    assert [r.error for r in results] == [None, 'relation "no_such_table" does not exist', None]
    sizes = {(s.schema, s.name): s for r in results for s in r.sizes}
    edges = sizes[("public", "graph_edges")]
    assert edges.rows == 50000 and edges.pages > 100
    assert ("id",) in edges.indexes  # the primary key; the edge indexes were dropped
    from cronspec.diagnostics import Span

    found = review(
        [Target("t", "specs/t.yaml", i, "SELECT", Span("specs/t.yaml", i + 1, 1, i + 1, 9),
                Request(None, s)) for i, s in enumerate(statements)],
        list(results),
        Thresholds(),
    )  # fmt: skip
    assert [(s.status, [d.code for d in s.findings]) for s in found.statements] == [
        ("explained", ["E901"]),
        ("failed", ["E905"]),
        ("explained", []),  # one scan, not per row
    ]
    assert [d.span.line for d in found.findings] == [1, 2]


def test_targets_follow_the_spec_lines(example: Path) -> None:
    from cronspec.api import compile_specs

    compiled = compile_specs(example)
    found = targets(compiled.placements, compiled.plan)
    assert [(t.task, t.index, t.kind, t.span.line, bool(t.request)) for t in found] == [
        ("daily-pagerank", 0, "UPDATE", 15, True),
        ("daily-vacuum-analyze", 0, "VACUUM", 8, False),
        ("once-seed-work-plan", 0, "INSERT", 9, True),
        ("once-seed-work-plan", 1, "INSERT", 13, True),
        ("pattern-learning", 0, "INSERT", 10, True),
        ("weekly-populate-graph-deps", 0, "UPDATE", 12, True),
    ]
    body = (example / "specs" / "once-seed-work-plan.yaml").read_text().splitlines()
    assert body[13 - 1].strip().startswith("INSERT INTO work_plan_epics")


def test_the_cli_defaults_are_the_thresholds() -> None:
    from dataclasses import asdict

    from cronspec.cli import EXPLAIN_DEFAULTS

    assert {f"min_{k}": v for k, v in EXPLAIN_DEFAULTS.items()} == asdict(Thresholds())
