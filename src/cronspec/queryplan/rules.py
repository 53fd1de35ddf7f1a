"""Query plans to findings: work a statement repeats once per row, read from EXPLAIN's JSON.

The walk carries the loops a node runs inside: the rows of a nested loop's outer side, or the
rows that evaluate a correlated subquery (a SubPlan that is not hashed). A node's estimated
number of runs is the product of its loops' row estimates. A Materialize node runs its input
once, whatever loop it sits in; an InitPlan, a hashed SubPlan, a Hash or a Merge Join side runs
once per run of its parent.

- E901: a sequential scan of a large relation inside a correlated subquery (the design note's
  graph job without edge indexes: `ARRAY(SELECT ... FROM graph_edges WHERE source_id = gn.id)`);
- E902: a sequential scan of a large relation on the inner side of a nested loop (a LATERAL
  subquery, or a join the planner cannot hash);
- E903: a function scan of a function outside pg_catalog, run once per row: its own queries
  run per row, out of the plan's sight;
- E904: a nested loop whose join filter compares every outer row with every row of a large
  relation;
- E905: a statement PostgreSQL cannot plan (a missing relation or privilege): the job fails so.

Where the scan's filter (or the loop's join filter) compares a column of the scanned relation
with the outer row, the finding names the index that would let each run look its rows up:
`graph_edges(source_id)`; or says which existing index starts with that column and goes unused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..diagnostics import Diagnostic, warning
from .indexes import advice, number, relation_name, size_text
from .model import Explained, RelationSize, Review, StatementReview, Target, Thresholds

Node = Mapping[str, Any]


@dataclass(frozen=True)
class _Loop:
    kind: Literal["subplan", "nested_loop"]
    name: str  # "SubPlan 1"; "" for a nested loop
    per: str  # what one run is for: "row of graph_nodes"
    times: float  # runs per run of the loop's own node


@dataclass
class _Statement:
    target: Target
    sizes: Mapping[tuple[str, str], RelationSize]
    limits: Thresholds
    found: list[Diagnostic]

    def flag(self, code: str, message: str) -> None:
        self.found.append(warning(code, f"{self.target.label}: {message}", self.target.span))


def review(
    targets: Sequence[Target], results: Sequence[Explained | None], limits: Thresholds
) -> Review:
    """Each target's plan read for per-row patterns; `results` is aligned with `targets`
    (None where the target has no request)."""
    if len(targets) != len(results):
        raise AssertionError("bug: one EXPLAIN result per target")
    out = []
    for target, result in zip(targets, results, strict=True):
        if target.request is None or result is None:
            out.append(StatementReview(target, "skipped", target.skip))
            continue
        if result.unreached is not None:
            out.append(StatementReview(target, "skipped", result.unreached))
            continue
        if result.error is not None:
            message = (
                f"PostgreSQL cannot plan it: {result.error}; the job fails the same way when it "
                "runs"
            )
            diag = warning("E905", f"{target.label}: {message}", target.span)
            out.append(StatementReview(target, "failed", result.error, (diag,)))
            continue
        sizes = {(s.schema, s.name): s for s in result.sizes}
        statement = _Statement(target, sizes, limits, [])
        for root in _roots(result.plan):
            _walk(root, (), statement)
        findings = tuple(dict.fromkeys(statement.found))  # the same finding once per statement
        out.append(StatementReview(target, "explained", "", findings, result.plan))
    return Review(tuple(out), limits)


def relations(plan: Any) -> set[tuple[str, str]]:
    """(schema, name) of every relation a plan scans or changes (what db/ sizes)."""
    found: set[tuple[str, str]] = set()
    for root in _roots(plan):
        for node in _nodes(root):
            if "Relation Name" in node and "Schema" in node:
                found.add((str(node["Schema"]), str(node["Relation Name"])))
    return found


def _roots(plan: Any) -> list[Node]:
    if isinstance(plan, list):
        return [p["Plan"] for p in plan if isinstance(p, dict) and isinstance(p.get("Plan"), dict)]
    return []


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _children(node: Node, relationship: str) -> list[Node]:
    return [c for c in node.get("Plans", ()) if c.get("Parent Relationship") == relationship]


def _runs(loops: tuple[_Loop, ...]) -> float:
    total = 1.0
    for loop in loops:
        total *= max(loop.times, 1.0)
    return total


def _walk(node: Node, loops: tuple[_Loop, ...], s: _Statement, parent: Node | None = None) -> None:
    kind = node.get("Node Type", "")
    _check(node, loops, s, parent)
    outer = next(iter(_children(node, "Outer")), None)
    for child in node.get("Plans", ()):
        relationship = child.get("Parent Relationship")
        inner = loops
        if relationship == "SubPlan":
            name = str(child.get("Subplan Name", "SubPlan"))
            if not _hashed(node, name):  # a hashed SubPlan is run once, into a hash table
                inner = (*loops, _Loop("subplan", name, _per(node), _evaluations(node, name, s)))
        elif relationship == "Inner" and kind == "Nested Loop" and outer is not None:
            inner = (*loops, _Loop("nested_loop", "", _per(outer), _rows(outer)))
        elif kind == "Materialize" and loops:
            inner = loops[:-1]  # read once, then replayed from memory for every run
        _walk(child, inner, s, node)


def _check(node: Node, loops: tuple[_Loop, ...], s: _Statement, parent: Node | None) -> None:
    kind = node.get("Node Type", "")
    runs = _runs(loops)
    repeated = bool(loops) and runs >= s.limits.min_loops
    if kind == "Seq Scan" and repeated:
        size = _large(node, s)
        if size is None:
            return
        loop = loops[-1]
        joined: tuple[Any, ...] = ()  # the join filter of the nested loop this scan is inner to
        if parent is not None and parent.get("Node Type") == "Nested Loop":
            joined = (parent.get("Join Filter"),)
        where = (
            f"the correlated subquery {loop.name} reads"
            if loop.kind == "subplan"
            else "the inner side of a nested loop reads"
        )
        s.flag(
            "E901" if loop.kind == "subplan" else "E902",
            f"{where} {relation_name(size)} by sequential scan once per {loop.per}: about "
            f"{number(runs)} scans of {size_text(size)}; {advice(size, node, *joined)}",
        )
    elif kind == "Function Scan" and repeated and node.get("Schema") != "pg_catalog":
        function = f"{node.get('Schema', '')}.{node.get('Function Name', '?')}".lstrip(".")
        s.flag(
            "E903",
            f"the function {function}() is called once per {loops[-1].per}, about {number(runs)} "
            "times, and runs its own queries at every call, out of this plan's sight; join its "
            "query into the statement instead (a LANGUAGE sql function that PostgreSQL can "
            "inline), or call it once for all rows",
        )
    elif kind == "Nested Loop" and node.get("Join Filter"):
        _join_filter(node, loops, s)


def _join_filter(node: Node, loops: tuple[_Loop, ...], s: _Statement) -> None:
    outer = next(iter(_children(node, "Outer")), None)
    inner = next(iter(_children(node, "Inner")), None)
    if outer is None or inner is None or inner.get("Node Type") != "Materialize":
        return  # a plain inner scan is rescanned per outer row: E902 says so
    scan = next(iter(_children(inner, "Outer")), None)
    if scan is None or scan.get("Node Type") != "Seq Scan":
        return
    outer_rows = _runs(loops) * _rows(outer)
    size = _large(scan, s)
    if size is None or outer_rows < s.limits.min_loops:
        return
    pairs = outer_rows * max(_rows(scan), 1.0)
    s.flag(
        "E904",
        f"a nested loop compares each {_per(outer)} with each row of {relation_name(size)} "
        f"read into memory (about {number(outer_rows)} x {number(_rows(scan))} = "
        f"{number(pairs)} comparisons of its join filter); "
        f"{advice(size, scan, node.get('Join Filter'))}",
    )


def _large(scan: Node, s: _Statement) -> RelationSize | None:
    size = s.sizes.get((str(scan.get("Schema", "")), str(scan.get("Relation Name", ""))))
    if size is None:
        return None
    rows = size.rows if size.rows is not None else -1
    return size if rows >= s.limits.min_rows or size.pages >= s.limits.min_pages else None


def _rows(node: Node) -> float:
    try:
        return float(node.get("Plan Rows", 1))
    except (TypeError, ValueError):
        return 1.0


def _per(node: Node) -> str:
    """What one row of this side is: `row of graph_nodes`."""
    for n in _nodes(node):
        for key in ("Relation Name", "CTE Name", "Function Name"):
            if key in n:
                return f"row of {n[key]}"
    return "row of the outer side"


def _texts(node: Node) -> Iterator[str]:
    for key, value in node.items():
        if key == "Plans":
            continue
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _hashed(node: Node, name: str) -> bool:
    pattern = re.compile(rf"\bhashed {re.escape(name)}\b")
    return any(pattern.search(text) for text in _texts(node))


def _evaluations(node: Node, name: str, s: _Statement) -> float:
    """How often a SubPlan runs per run of `node`: once per row it filters (all the rows the
    scan reads) or per row it outputs."""
    mention = re.compile(rf"\b{re.escape(name)}\b")
    if "Relation Name" in node and mention.search(str(node.get("Filter", ""))):
        size = s.sizes.get((str(node.get("Schema", "")), str(node["Relation Name"])))
        if size is not None and size.rows is not None and size.rows > 0:
            return size.rows
    return _rows(node)
