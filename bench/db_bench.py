"""The example's graph job on PostgreSQL against application-side equivalents (issue 6, part 2).

    .venv/bin/python bench/db_bench.py [--sizes 1000:5000,10000:50000,100000:500000] [--runs 5]

On a throwaway PostgreSQL 15 + pg_cron cluster (tests/support/) it applies example/schema.sql
and the migration cronspec emits for the example (compiled fresh into bench/work/example/), then,
for each graph size NODES:EDGES (random edges, fixed seed), times four ways of filling
graph_nodes.dependency_node_ids / dependent_node_ids:

- cronspec: `CALL cronspec."weekly-populate-graph-deps"()`, the procedure as emitted;
- per-row: psycopg fetches the edges, Python builds the arrays, one UPDATE per node;
- batched: the same arrays COPYed (binary) into a temporary table, then one UPDATE ... FROM that
  writes only rows that differ;
- design note: the note's two correlated-subquery UPDATEs, with the edge indexes of schema.sql.

Each is timed on a first run after the arrays are reset to '{}' and on a rerun when nothing
changed, and every result is checked against arrays computed in Python (sorted, distinct, '{}'
for no edges; the design note's arrays are compared after sorting, as it does not sort them).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from benchlib import (
    REPO,
    command_line,
    example_copy,
    fmt_s,
    machine_lines,
    median,
    table,
    write_section,
)

sys.path.insert(0, str(REPO / "tests"))
from support.pgcluster import PgCluster, available

SEED = 42
TASK = "weekly-populate-graph-deps"
DESIGN_NOTE = """
CREATE OR REPLACE PROCEDURE public.design_note() LANGUAGE sql AS $$
  UPDATE graph_nodes gn SET dependency_node_ids = ARRAY(
    SELECT DISTINCT target_id FROM graph_edges WHERE source_id = gn.id);
  UPDATE graph_nodes gn SET dependent_node_ids = ARRAY(
    SELECT DISTINCT source_id FROM graph_edges WHERE target_id = gn.id);
$$
"""
METHODS = ("cronspec", "per-row", "batched", "design note")

Arrays = dict[int, tuple[list[int], list[int]]]


# ----------------------------------------------------------------------------------------------
# The graph and the expected arrays


def random_edges(nodes: int, edges: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(f"{seed}:{nodes}:{edges}")
    return [(rng.randint(1, nodes), rng.randint(1, nodes)) for _ in range(edges)]


def build_arrays(ids: list[int], edges: list[tuple[int, int]]) -> Arrays:
    """Per node: distinct target_ids of its outgoing edges and distinct source_ids of its
    incoming ones, ascending; empty lists for nodes without edges."""
    out_sets: defaultdict[int, set[int]] = defaultdict(set)
    in_sets: defaultdict[int, set[int]] = defaultdict(set)
    for source, target in edges:
        out_sets[source].add(target)
        in_sets[target].add(source)
    return {i: (sorted(out_sets.get(i, ())), sorted(in_sets.get(i, ()))) for i in ids}


def load_graph(conn: psycopg.Connection, nodes: int, edges: list[tuple[int, int]]) -> None:
    conn.execute("TRUNCATE graph_edges, graph_nodes RESTART IDENTITY CASCADE")
    conn.execute(
        "INSERT INTO graph_nodes (id, name) SELECT g, 'node_' || g FROM generate_series(1, %s) g",
        (nodes,),
    )
    with conn.cursor() as cur:
        copy_sql = "COPY graph_edges (source_id, target_id) FROM STDIN (FORMAT BINARY)"
        with cur.copy(copy_sql) as copy:
            copy.set_types(["int8", "int8"])
            for edge in edges:
                copy.write_row(edge)
    conn.execute("VACUUM ANALYZE graph_nodes, graph_edges")


def reset(conn: psycopg.Connection) -> None:
    conn.execute(
        "UPDATE graph_nodes SET dependency_node_ids = '{}', dependent_node_ids = '{}' "
        "WHERE dependency_node_ids <> '{}' OR dependent_node_ids <> '{}'"
    )
    conn.execute("VACUUM ANALYZE graph_nodes")


@dataclass(frozen=True)
class Check:
    wrong: int  # rows whose arrays differ from the expected ones (after sorting, if allowed)
    unsorted: int  # rows whose stored arrays are not in ascending order


def check(conn: psycopg.Connection, expected: Arrays) -> Check:
    wrong = unsorted = 0
    rows = conn.execute(
        "SELECT id, dependency_node_ids, dependent_node_ids FROM graph_nodes"
    ).fetchall()
    if len(rows) != len(expected):
        return Check(abs(len(rows) - len(expected)) + len(expected), 0)
    for node_id, deps, revs in rows:
        want = expected.get(node_id)
        if deps != sorted(deps) or revs != sorted(revs):
            unsorted += 1
        if want is None or (sorted(deps), sorted(revs)) != want:
            wrong += 1
    return Check(wrong, unsorted)


# ----------------------------------------------------------------------------------------------
# The four methods; each runs in its own transaction (CALL and autocommit for the procedures)


def run_cronspec(conn: psycopg.Connection) -> None:
    conn.execute(f'CALL cronspec."{TASK}"()')


def run_design_note(conn: psycopg.Connection) -> None:
    conn.execute("CALL public.design_note()")


def _fetch_and_build(cur: psycopg.Cursor[tuple[int, ...]]) -> tuple[list[int], Arrays]:
    ids = [row[0] for row in cur.execute("SELECT id FROM graph_nodes")]
    edges = [(s, t) for s, t in cur.execute("SELECT source_id, target_id FROM graph_edges")]
    return ids, build_arrays(ids, edges)


def run_per_row(conn: psycopg.Connection) -> None:
    with conn.transaction(), conn.cursor() as cur:
        ids, arrays = _fetch_and_build(cur)
        for node_id in ids:
            deps, revs = arrays[node_id]
            cur.execute(
                "UPDATE graph_nodes SET dependency_node_ids = %s::bigint[], "
                "dependent_node_ids = %s::bigint[] WHERE id = %s",
                (deps, revs, node_id),
            )


def run_batched(conn: psycopg.Connection) -> None:
    with conn.transaction(), conn.cursor() as cur:
        ids, arrays = _fetch_and_build(cur)
        cur.execute(
            "CREATE TEMPORARY TABLE graph_arrays_new (id bigint, deps bigint[], revs bigint[]) "
            "ON COMMIT DROP"
        )
        copy_sql = "COPY graph_arrays_new (id, deps, revs) FROM STDIN (FORMAT BINARY)"
        with cur.copy(copy_sql) as copy:
            copy.set_types(["int8", "int8[]", "int8[]"])
            for node_id in ids:
                deps, revs = arrays[node_id]
                copy.write_row((node_id, deps, revs))
        cur.execute("ANALYZE graph_arrays_new")
        cur.execute(
            "UPDATE graph_nodes g SET dependency_node_ids = c.deps, dependent_node_ids = c.revs "
            "FROM graph_arrays_new c WHERE g.id = c.id "
            "AND (g.dependency_node_ids IS DISTINCT FROM c.deps "
            "OR g.dependent_node_ids IS DISTINCT FROM c.revs)"
        )


RUNNERS: dict[str, Callable[[psycopg.Connection], None]] = {
    "cronspec": run_cronspec,
    "per-row": run_per_row,
    "batched": run_batched,
    "design note": run_design_note,
}


# ----------------------------------------------------------------------------------------------
# Measurement


@dataclass
class Timing:
    first: list[float] = field(default_factory=list)
    rerun: list[float] = field(default_factory=list)
    first_cpu: list[float] = field(default_factory=list)
    rerun_cpu: list[float] = field(default_factory=list)
    wrong: int = 0
    unsorted: int = 0
    checks: int = 0


@dataclass
class SizeResult:
    nodes: int
    edges: int
    distinct_pairs: int
    runs: int
    timings: dict[str, Timing] = field(default_factory=lambda: {m: Timing() for m in METHODS})


_TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    """CPU time (user + system, s) of the server process serving the connection: 1/100 s
    resolution, but unlike wall time it does not grow when other processes take the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _timed(conn: psycopg.Connection, method: str, backend: int) -> tuple[float, float]:
    """(wall, CPU) of one run; CPU is the backend's plus this client's."""
    cpu0, server0 = time.process_time(), _backend_cpu(backend)
    start = time.perf_counter()
    RUNNERS[method](conn)
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu0 + _backend_cpu(backend) - server0


def bench_size(
    conn: psycopg.Connection, nodes: int, edge_count: int, runs: int, seed: int
) -> SizeResult:
    edges = random_edges(nodes, edge_count, seed)
    load_graph(conn, nodes, edges)
    expected = build_arrays(list(range(1, nodes + 1)), edges)
    result = SizeResult(nodes, edge_count, len(set(edges)), runs)
    backend = conn.info.backend_pid
    for run in range(runs):
        order = METHODS[run % len(METHODS) :] + METHODS[: run % len(METHODS)]
        line = []
        for method in order:
            timing = result.timings[method]
            reset(conn)
            wall, cpu = _timed(conn, method, backend)
            timing.first.append(wall)
            timing.first_cpu.append(cpu)
            first = check(conn, expected)
            conn.execute("VACUUM ANALYZE graph_nodes")
            wall, cpu = _timed(conn, method, backend)
            timing.rerun.append(wall)
            timing.rerun_cpu.append(cpu)
            again = check(conn, expected)
            timing.wrong += first.wrong + again.wrong
            timing.unsorted = max(timing.unsorted, first.unsorted, again.unsorted)
            timing.checks += 2
            line.append(f"{method} {fmt_s(timing.first[-1])}/{fmt_s(timing.rerun[-1])}")
        print(
            f"  {nodes}:{edge_count} run {run + 1}/{runs}: " + ", ".join(line),
            file=sys.stderr,
            flush=True,
        )
    return result


# ----------------------------------------------------------------------------------------------
# Report


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if a == a and b == b and b > 0 else "n/a"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**MISSED**"


def report(
    results: list[SizeResult], server: str, settings: str, procedure: str, elapsed: float
) -> str:
    out = ["## 2. The graph job on PostgreSQL (`bench/db_bench.py`)", ""]
    out += [f"Command: `{command_line()}` (took {elapsed / 60:.1f} min)", ""]
    out += machine_lines()
    out += [
        f"- Server: {server}; throwaway cluster from tests/pgcluster.py ({settings}); client "
        "psycopg over the Unix socket, on the same 2 cores",
        "",
        "Graph: nodes 1..N, E random edges (Python `random`, fixed seed; duplicates and "
        "self-loops included, as in example/README.md). Each cell is the median client wall "
        "time (range in brackets) of the runs; in each run every method gets a first run "
        "after `UPDATE ... SET arrays = '{}'` + `VACUUM ANALYZE graph_nodes` and a rerun with "
        "nothing changed; the order of the methods rotates from run to run.",
        "",
        f'- **cronspec**: `CALL cronspec."{TASK}"()` as emitted by `cronspec compile` for '
        f"the example (procedure body md5 `{procedure}`).",
        "- **per-row**: fetch node ids and edges, build sorted distinct arrays in Python, "
        "then one `UPDATE graph_nodes ... WHERE id = %s` per node (one transaction; psycopg "
        "prepares the statement after 5 uses). Reruns rewrite every row.",
        "- **batched**: same fetch and build, binary `COPY` into a temporary table, `ANALYZE`, "
        "one `UPDATE ... FROM` writing only rows that differ.",
        "- **design note**: the note's two correlated-subquery `UPDATE`s as one procedure, "
        "with the edge indexes of example/schema.sql. It writes every row on every run and "
        "does not sort its arrays.",
        "",
    ]
    rows = []
    for r in results:
        base = r.timings["cronspec"]
        for method in METHODS:
            t = r.timings[method]
            ok = "all equal" if t.wrong == 0 else f"**{t.wrong} rows differ**"
            if t.unsorted:
                ok += f"; {t.unsorted:,} rows unsorted as stored"
            rows.append(
                [
                    f"{r.nodes:,} / {r.edges:,}",
                    method,
                    f"{fmt_s(median(t.first))} ({fmt_s(min(t.first))}-{fmt_s(max(t.first))})",
                    fmt_s(median(t.first_cpu)),
                    f"{fmt_s(median(t.rerun))} ({fmt_s(min(t.rerun))}-{fmt_s(max(t.rerun))})",
                    fmt_s(median(t.rerun_cpu)),
                    f"{_ratio(median(t.first), median(base.first))} "
                    f"({_ratio(median(t.first_cpu), median(base.first_cpu))})",
                    f"{_ratio(median(t.rerun), median(base.rerun))} "
                    f"({_ratio(median(t.rerun_cpu), median(base.rerun_cpu))})",
                    f"{ok} ({t.checks} checks)",
                ]
            )
    header = [
        "nodes / edges",
        "method",
        "first: wall (range)",
        "CPU",
        "rerun: wall (range)",
        "CPU",
        "first / cronspec: wall (CPU)",
        "rerun / cronspec: wall (CPU)",
        "arrays vs Python",
    ]
    out.append(table(header, rows))
    out += [
        "",
        "CPU = CPU time of the server backend (from /proc, 10 ms resolution) plus the client's "
        "own; unlike wall time it leaves out waiting for a core while other processes share "
        "the machine.",
    ]
    out += ["", f"Runs per size: {', '.join(f'{r.nodes:,}: {r.runs}' for r in results)}.", ""]
    out += ["### Targets (10,000 nodes / 50,000 edges, first run)", ""]
    target = next((r for r in results if r.nodes == 10_000 and r.edges == 50_000), None)
    if target is None:
        out.append("- not measured (size 10000:50000 was not in --sizes)")
    else:
        c = median(target.timings["cronspec"].first)
        per_row = median(target.timings["per-row"].first)
        batched = median(target.timings["batched"].first)
        out.append(
            f"- emitted job ≥ 10x faster than the per-row loop: {_ratio(per_row, c)} — "
            f"{_verdict(per_row >= 10 * c)}"
        )
        out.append(
            f"- emitted job ≥ 2x faster than the batched write: {_ratio(batched, c)} — "
            f"{_verdict(batched >= 2 * c)}"
        )
    bad = [f"{r.nodes}:{r.edges} {m}" for r in results for m in METHODS if r.timings[m].wrong]
    out.append(
        "- all methods produce the same arrays: "
        + ("yes, at every size and run" if not bad else "NO: " + ", ".join(bad))
    )
    return "\n".join(out)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        nodes, _, edges = part.strip().partition(":")
        sizes.append((int(nodes), int(edges or 5 * int(nodes))))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1000:5000,10000:50000,100000:500000",
        help="NODES:EDGES,... (default 1000:5000,10000:50000,100000:500000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per size (default 5)")
    parser.add_argument(
        "--big-runs", type=int, default=3, help="runs at sizes of 100,000 nodes or more (default 3)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = parser.parse_args(argv)
    reason = available()
    if reason is not None:
        sys.exit(f"db_bench: cannot start a PostgreSQL cluster: {reason}")
    started = time.perf_counter()
    example = example_copy(Path(sys.executable).parent / "cronspec")
    results: list[SizeResult] = []
    with PgCluster("cronspec_bench") as pg:
        for sql_file in (REPO / "example" / "schema.sql", example / "generated" / "pg_cron.sql"):
            subprocess.run(
                [*pg.psql(), "-q", "-f", str(sql_file)],
                env=pg.env(),
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            # the migration scheduled the example's jobs; keep pg_cron from running them now
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
            conn.execute(DESIGN_NOTE)
            server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            settings = ", ".join(
                f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                for name in ("shared_buffers", "work_mem", "jit", "fsync")
            )
            row = conn.execute(
                "SELECT md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = "
                "p.pronamespace WHERE n.nspname = 'cronspec' AND p.proname = %s",
                (TASK,),
            ).fetchone()
            if row is None:
                sys.exit(f"db_bench: the migration did not create cronspec.{TASK}")
            for nodes, edges in parse_sizes(args.sizes):
                runs = args.big_runs if nodes >= 100_000 else args.runs
                print(f"graph {nodes}:{edges}, {runs} runs", file=sys.stderr, flush=True)
                results.append(bench_size(conn, nodes, edges, runs, args.seed))
    text = report(
        results, f"PostgreSQL {server}", settings, str(row[0]), time.perf_counter() - started
    )
    print(text)
    if not args.no_write:
        write_section("db-bench", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
