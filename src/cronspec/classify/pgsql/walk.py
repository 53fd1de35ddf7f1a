"""The walk over one statement's parse tree, without recursion: what it names (functions,
relations) and finds, in the terms of the root body (its offsets, its statements)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from .catalog import _CRON_TEXT, _OUTSIDE_PREFIXES, _PG_NET_WAITS, _RUNS_TEXT, OUTSIDE_FUNCTIONS
from .model import Finding, FindingKind, FunctionRef, Problem, Relation, Span
from .native import _DOT, _Text, _Token
from .tree import _HAS_WITH, _LEAVES, _schema, _split

Visitor = Callable[["_Walk", dict[str, Any], "_At"], None]


@dataclass(frozen=True, slots=True)
class _At:
    index: int  # the statement of the root body
    span: Span  # that statement's span
    top: str  # its node type
    depth: int  # 0: the body; 1: a function body in it; ...


class _Walk:
    """Collects what a body (and the function bodies in it) names, in the root body's terms."""

    def __init__(
        self, root: _Text, to_root: Callable[[int], int], visit: dict[str, Visitor]
    ) -> None:
        self.root, self.to_root, self.visit = root, to_root, visit
        self.text = root
        self.tokens: list[_Token] = []
        self.starts: list[int] = []  # each token's start, ascending
        self.functions: list[FunctionRef] = []
        self.relations: list[Relation] = []
        self.findings: list[Finding] = []
        self.error: Problem | None = None

    def span(self, start: int, end: int) -> Span:
        a, b = self.to_root(start), self.to_root(end)
        return self.root.span(a, max(a, b))

    def name_span(self, location: int) -> Span:
        """The span of the (qualified) name at libpg_query's byte `location` in this text."""
        start = self.text.char(location)
        i = bisect_left(self.starts, start)
        if i == len(self.starts) or self.starts[i] != start:
            return self.span(start, start)
        end = self.tokens[i].end
        while i + 2 < len(self.tokens) and self.tokens[i + 1].kind == _DOT:
            if self.tokens[i + 1].start != end:
                break
            i += 2
            end = self.tokens[i].end
        return self.span(start, end)

    def use(self, text: _Text, tokens: list[_Token]) -> None:
        """Walk `text` (the root body, or a function body inside it) with its tokens."""
        self.text, self.tokens = text, tokens
        self.starts = [t.start for t in tokens]

    def find(
        self,
        kind: FindingKind,
        message: str,
        at: _At,
        span: Span,
        name: str = "",
        capability: str = "",
    ) -> None:
        """Record a finding of the root body's statement `at`."""
        self.findings.append(Finding(kind, message, at.index, span, name, capability))

    def walk(self, node: dict[str, Any], at: _At) -> None:
        """Every node of one statement, without recursion; CTE names are tracked by scope."""
        ((top, fields),) = node.items()
        missing_ok = bool(fields.get("missing_ok"))
        shape = _schema()
        stack: list[tuple[str, dict[str, Any], frozenset[str], bool]] = [
            (top, fields, frozenset(), False)
        ]
        push, pop = stack.append, stack.pop
        while stack:
            kind, d, ctes, creates = pop()
            if kind in _HAS_WITH:
                with_clause = d.get("withClause")
                if with_clause:
                    names = {c["CommonTableExpr"].get("ctename") for c in with_clause["ctes"]}
                    ctes = ctes | cast(set[str], names)
            if kind == "RangeVar":
                self.relation(d, at, ctes, creates, missing_ok)
            else:
                visit = self.visit.get(kind)
                if visit is not None:
                    visit(self, d, at)
            children = shape.get(kind)
            if not children:
                continue
            # (results are sorted by position at the end: the order of the walk does not matter)
            for key, value in d.items():
                found = children.get(key)
                if found is None:
                    continue
                child, made = found
                for item in value if isinstance(value, list) else (value,):
                    if child == "Node":
                        if not item:
                            continue  # a NULL in a list (RangeFunction's missing column list)
                        ((kind_, item),) = item.items()
                        if kind_ not in _LEAVES:  # nothing to do there, nothing below
                            push((kind_, item, ctes, made))
                    else:
                        push((child, item, ctes, made))

    def relation(
        self, d: dict[str, Any], at: _At, ctes: frozenset[str], creates: bool, missing_ok: bool
    ) -> None:
        schema, name = d.get("schemaname"), str(d.get("relname", ""))
        if schema is None and name in ctes:
            return  # a CTE of an enclosing query, not a relation
        span = self.name_span(int(d.get("location", 0)))
        role: Literal["uses", "creates"] = "creates" if creates else "uses"
        self.relations.append(Relation(schema, name, at.index, span, role, False, missing_ok))

    def function(self, names: list[str], span: Span, at: _At, called: bool) -> None:
        schema, name = _split(names)
        ref = FunctionRef(schema, name, at.index, span, called)
        self.functions.append(ref)
        low = name.lower()
        outside = OUTSIDE_FUNCTIONS.get(low) or next(
            (why for prefix, why in _OUTSIDE_PREFIXES.items() if low.startswith(prefix)), None
        )
        net = schema is not None and schema.lower() == "net"
        if net and low in _PG_NET_WAITS:
            # pg_net sends a request only once the transaction that queued it commits: a job
            # that waits in its own transaction waits for what it has not sent yet
            message = (
                f"{ref.qualified}() waits in the job's transaction for a pg_net response, "
                "which pg_net fetches only after the transaction that queued the request commits"
            )
            self.find("outside", message, at, span, ref.qualified, "http")
        elif net and low.startswith("http_"):
            message = (
                f"{ref.qualified}() queues an HTTP request: pg_net's background worker sends "
                "it asynchronously and writes the response to net._http_response"
            )
            self.find("pg_net", message, at, span, ref.qualified)
        elif outside is not None:
            what, capability = outside
            message = f"{ref.qualified}() {what}"
            self.find("outside", message, at, span, ref.qualified, capability)
        elif low in _RUNS_TEXT or (low in _CRON_TEXT and schema in (None, "cron")):
            message = f"{ref.qualified}() runs SQL given as text, which cronspec cannot check"
            self.find("opaque", message, at, span, ref.qualified)
