"""Which libpg_query binding: pgparse or postgast, against today's sqlglot analysis (issue 11).

    .venv/bin/pip install pgparse   # or: .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/parser_bench.py [--runs 5]

The same 1,000 bodies (the example's SQL specs, common pg_cron jobs, and bench/compile_bench.py's
synthetic bodies; 23 % of bodies repeat a shape with other names and constants) go through:

- sqlglot: `sqlglot.parse(body, read="postgres")`, what classify used before issue 11;
- cronspec.pgsql: `analyze`, the whole new analysis (postgast's library, libpg_query's JSON
  tree, a typed walk, the scanner for the fingerprint and literals);
- postgast, protobuf: `postgast.parse` (its public API) and a walk of the protobuf tree that
  collects functions and relations;
- postgast, JSON: the same library's `pg_query_parse` (JSON, as cronspec.pgsql reads it) and
  the dict walk below, to compare the bindings on equal terms;
- pgparse: `pgparse.parse` (JSON as dicts) and a walk of the dicts that collects the same.

Each row is the best of --runs passes over all bodies (CPU time of this process, which other
work on a shared machine disturbs less than wall time), in one process after a warm-up pass.
Import time is the best of 5 fresh `python -X importtime -c "import M"`, cumulative for M.

Measured (2 shared cores, load 4-7; CPU time per body): sqlglot 4.6 ms, cronspec.pgsql 1.3 ms
(3.4x), postgast protobuf + walk 1.2 ms, postgast's JSON + walk 0.72 ms, pgparse + walk
0.66 ms, scan alone 0.07 ms; import: sqlglot 200-290 ms, postgast 130-175 ms, pgparse 36 ms.

Why postgast: pgparse's speed and import are better, but it has no scanner (cronspec would
tokenize SQL itself again, the approximation issue 11 removes: the fingerprint that keeps
constants, strings whose meaning depends on standard_conforming_strings, name and statement
positions), no splitter, JSON only (json.loads raises RecursionError from about 250 levels, 300
nested subqueries, with no other tree to fall back to), a PostgreSQL 17 grammar, a wheel that
carries only its own license though it embeds libpg_query and PostgreSQL, and a five-year gap
between releases. postgast has the scanner, the splitter, the protobuf tree and its schema (which
also types libpg_query's JSON, whose fixed-type fields are untagged), PostgreSQL 18's grammar,
THIRD-PARTY-LICENSES, and regular 2026 releases. Its costs: protobuf (import time), and reading
the JSON tree through its internal `postgast.native.lib` (hence the pin <0.3).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from compile_bench import sql_body

REPO = Path(__file__).resolve().parents[1]

JOBS = (
    "CALL partman.run_maintenance_proc();",
    "SELECT net.http_post(url := 'https://hooks.example.com/{n}', "
    "body := jsonb_build_object('at', now(), 'n', {n}));",
    "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '{n} days';",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY stats_{n};",
    "VACUUM (ANALYZE) events_{n};",
    "INSERT INTO audit_log (at, what) SELECT now(), 'tick {n}';\n"
    "UPDATE counters SET n = n + 1 WHERE name = 'tick_{n}';",
)


def bodies(count: int = 1000) -> list[str]:
    example = [
        str(doc["sql"])
        for path in sorted((REPO / "specs").glob("*.yaml"))
        if (doc := yaml.safe_load(path.read_text())) and doc.get("sql")
    ]
    rng = random.Random(20260611)
    out: list[str] = []
    while len(out) < count:
        n = len(out)
        if n % 13 < len(example):  # the example's bodies, renamed
            out.append(re.sub(r"\bgraph_(\w+)", rf"graph_\1_{n}", example[n % 13]))
        elif n % 13 < len(example) + 2:
            out.append(rng.choice(JOBS).replace("{n}", str(n)))
        else:
            out.append(sql_body(rng))
    return out


def walk_dicts(tree: Any) -> tuple[list[tuple[str, ...]], list[str]]:
    """Functions and relations in libpg_query's JSON, untyped (pgparse gives no schema)."""
    functions: list[tuple[str, ...]] = []
    relations: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "relname" in node:
                relations.append(node["relname"])
            call = node.get("FuncCall")
            if call is not None:
                functions.append(tuple(n["String"]["sval"] for n in call["funcname"]))
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return functions, relations


def walk_protobuf(tree: Any) -> tuple[list[tuple[str, ...]], list[str]]:
    functions: list[tuple[str, ...]] = []
    relations: list[str] = []
    stack = [tree]
    while stack:
        message = stack.pop()
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if field.is_repeated:
                stack.extend(value)
                continue
            if field.name == "func_call" or field.message_type.name == "FuncCall":
                functions.append(tuple(s.string.sval for s in value.funcname))
            elif field.message_type.name == "RangeVar":
                relations.append(value.relname)
            stack.append(value)
    return functions, relations


def best(fn: Callable[[str], object], work: list[str], runs: int) -> float:
    for body in work[:50]:
        fn(body)
    times = []
    for _ in range(runs):
        start = time.process_time()  # CPU time: the 2 cores here are shared with other work
        for body in work:
            fn(body)
        times.append(time.process_time() - start)
    return min(times)


def import_ms(module: str) -> float | None:
    results = []
    for _ in range(5):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return None
        for line in proc.stderr.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2] == module:
                results.append(int(parts[1]) / 1000)
    return min(results) if results else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = bodies()
    chars = sum(map(len, work))
    print(f"{len(work)} bodies, {chars:,} characters, {len(set(work))} distinct\n")

    import sqlglot

    from cronspec.classify import pgsql
    from cronspec.classify.pgsql import native

    def sqlglot_parse(body: str) -> object:
        try:
            return sqlglot.parse(body, read="postgres")
        except sqlglot.errors.SqlglotError as exc:
            return exc

    rows: list[tuple[str, str, Callable[[str], object] | None]] = [
        ("sqlglot", "sqlglot.parse (classify before issue 11)", sqlglot_parse),
        ("cronspec.pgsql", "analyze (postgast's library, JSON tree)", pgsql.analyze.__wrapped__),
    ]
    import postgast

    rows.append(("postgast", "parse (protobuf) + walk", lambda b: walk_protobuf(postgast.parse(b))))
    rows.append(
        (
            "postgast",
            "its library's JSON tree (as cronspec.pgsql reads it) + walk",
            lambda b: walk_dicts(native._parse_json(b.encode())),
        )
    )
    rows.append(("postgast", "scan (tokens)", postgast.scan))
    try:
        pgparse: Any = importlib.import_module("pgparse")
    except ImportError:
        pgparse = None
    if pgparse is not None:
        rows.append(
            ("pgparse", "parse (JSON dicts) + walk", lambda b: walk_dicts(pgparse.parse(b)))
        )
    else:
        rows.append(("pgparse", "not installed: pip install pgparse", None))

    print("| library | what | 1,000 bodies | per body | speed vs sqlglot |")
    print("|---|---|---|---|---|")
    base = None
    for library, what, fn in rows:
        if fn is None:
            print(f"| {library} | {what} | | | |")
            continue
        seconds = best(fn, work, args.runs)
        base = base or seconds
        print(
            f"| {library} | {what} | {seconds * 1000:.0f} ms | {seconds * 1e6 / len(work):.0f} µs "
            f"| {base / seconds:.1f}x |"
        )
    print("\n| module | import (cumulative, best of 5) | version |")
    print("|---|---|---|")
    for module, dist in (
        ("sqlglot", "sqlglot"),
        ("postgast", "postgast"),
        ("pgparse", "pgparse"),
        ("cronspec.pgsql", "cronspec"),
    ):
        ms = import_ms(module)
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        print(f"| {module} | {'n/a' if ms is None else f'{ms:.0f} ms'} | {version} |")
    print(
        f"\nGrammar: postgast {pgsql.GRAMMAR}; pgparse 1.x: libpg_query 17-latest (PostgreSQL 17)"
    )


if __name__ == "__main__":
    main()
