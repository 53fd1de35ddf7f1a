"""`analyze(body)`: the statements of a body, each walked, and what only the whole body shows
(an `alone` statement among others, a CALL among others, a table used by a later statement)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from functools import lru_cache
from typing import Any

from .catalog import _kind, _placement
from .model import Analysis, Problem, Relation, Statement
from .native import _SEMICOLON, _fingerprint, _load, _Refused, _Text, _Token
from .visit import _VISIT, _scs_findings
from .walk import _At, _Walk


def _statement_tokens(
    text: _Text, tokens: list[_Token], starts: list[int], raw: dict[str, Any]
) -> list[_Token]:
    location = int(raw.get("stmt_location", 0))
    length = int(raw.get("stmt_len", 0))
    begin = text.char(location)
    end = text.char(location + length) if length else len(text.text)
    inside = tokens[bisect_right(starts, begin - 1) : bisect_right(starts, end - 1)]
    return [t for t in inside if t.kind != _SEMICOLON and t.end <= end]


def _mark_created(relations: list[Relation]) -> tuple[list[Relation], dict[int, int]]:
    """Relations in body order, with created_here set; and, for each relation (by position in
    the returned list) created by an earlier statement, that statement's index."""
    ordered = sorted(relations, key=lambda r: (r.statement, r.span.start))
    made: dict[str, list[Relation]] = {}
    out: list[Relation] = []
    earlier: dict[int, int] = {}
    for r in ordered:
        if r.role == "creates":
            made.setdefault(r.name, []).append(r)
            out.append(replace(r, created_here=True))
            continue
        maker = next(
            (
                m
                for m in made.get(r.name, ())
                if None in (m.schema, r.schema) or m.schema == r.schema
            ),
            None,
        )
        if maker is not None and r.role == "uses":
            if maker.statement < r.statement:
                earlier[len(out)] = maker.statement
            r = replace(r, created_here=True)
        out.append(r)
    return out, earlier


def _refusal(text: _Text, refused: _Refused) -> Analysis:
    problem = Problem(refused.kind, refused.message, text.span(refused.at, refused.end))
    return Analysis(problem, (), (), (), (), "")


@lru_cache(maxsize=4096)
def analyze(body: str) -> Analysis:
    """Parse and analyse a task's SQL body the way PostgreSQL reads it. Never raises."""
    bad = body.find("\0")
    try:
        body.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate
        bad = exc.start if bad < 0 else min(bad, exc.start)
    if bad >= 0:
        # PostgreSQL refuses both, and libpg_query would stop reading at a NUL: no analysis
        text = _Text(body[:bad])
        message = f'invalid byte sequence for encoding "UTF8": {ord(body[bad]):#04x}'
        return _refusal(text, _Refused("syntax", message, bad))
    text = _Text(body)
    try:
        tokens, raws = _load(text)
    except _Refused as refused:
        return _refusal(text, refused)
    w = _Walk(text, lambda offset: offset, _VISIT)
    w.use(text, tokens)
    starts = w.starts
    statements: list[Statement] = []
    ats: list[_At] = []
    for raw in raws:
        own = _statement_tokens(text, tokens, starts, raw)
        if not own:
            continue
        node = raw["stmt"]
        ((top, fields),) = node.items()
        span = text.span(own[0].start, own[-1].end)
        placement, why = _placement(top, fields)
        index = len(statements)
        statements.append(
            Statement(
                index, _kind(top, fields), top, body[span.start : span.end], span, placement, why
            )
        )
        ats.append(_At(index, span, top, 0))
        w.walk(node, ats[-1])
    if not statements:
        return _refusal(text, _Refused("empty", "SQL body is empty", 0))
    bounds = [s.span.start for s in statements]
    _scs_findings(w, lambda t: ats[max(bisect_right(bounds, t.start) - 1, 0)])
    relations, earlier = _mark_created(w.relations)
    if len(statements) > 1:
        for s, at in zip(statements, ats, strict=True):
            if s.placement == "alone":
                message = (
                    f"{s.why} cannot run inside a transaction block or procedure, so it must be "
                    "the task's only statement; move it to a task of its own"
                )
                w.find("alone", message, at, s.span, s.why)
            elif s.placement == "top_level":
                called = [f for f in w.functions if f.statement == s.index]
                callee = min(called, key=lambda f: f.span.start).qualified if called else ""
                message = (
                    f"CALL {callee}() among other statements: a procedure that COMMITs fails "
                    'here ("invalid transaction termination"); alone, the CALL would be the '
                    "job's own command"
                )
                w.find("call_among_others", message, at, s.span, callee)
        for position, maker in earlier.items():
            r = relations[position]
            message = (
                f"{r.qualified} is created by statement {maker + 1} of this body, but a "
                "LANGUAGE sql procedure analyses all its statements before it runs the first, "
                "so it cannot run this body"
            )
            w.find("own_relation", message, ats[r.statement], r.span, r.qualified)
    functions = sorted(w.functions, key=lambda f: (f.statement, f.span.start))
    findings = sorted(w.findings, key=lambda f: (f.statement, f.span.start))
    return Analysis(
        w.error,
        tuple(statements),
        tuple(functions),
        tuple(relations),
        tuple(findings),
        _fingerprint(tokens),
    )
