"""A task's SQL body as PostgreSQL itself reads it: libpg_query, through the `postgast` binding.

`analyze(body)` returns one frozen `Analysis`: validity with PostgreSQL's own error message and
its position in the body, the statements (kind, text, span, where PostgreSQL lets them run), every
function named (decoded, schema-qualified where written, also inside subqueries, CTEs, DEFAULTs,
CALL arguments and the bodies of `LANGUAGE sql` functions the body creates), every relation
named (for a live `to_regclass` check), findings (outside the database, pg_net, DO and what
works like it, transaction control, settings that change how SQL is parsed, text whose meaning
depends on `standard_conforming_strings`) and a token fingerprint. Errors are values: no input
raises, however deep it nests.

The placement rules (`Placement`) were observed on a real PostgreSQL 15 server; tests/
test_pgsql_server.py replays them there.

libpg_query parses with `standard_conforming_strings = on`, as every cronspec procedure runs.

Modules: `model` (the values), `native` (libpg_query: tokens, tree, offsets, fingerprint),
`tree` (the tree's shape), `catalog` (what the findings look for; command tags; placements),
`walk` and `visit` (the walk over a statement and what it does at each node), `analysis`.
"""

from __future__ import annotations

from .analysis import analyze
from .catalog import CAPABILITIES
from .model import (
    GRAMMAR,
    Analysis,
    Finding,
    FindingKind,
    FunctionRef,
    Placement,
    Problem,
    Relation,
    Span,
    Statement,
)
from .native import MAX_TOKENS

__all__ = [
    "CAPABILITIES",
    "GRAMMAR",
    "MAX_TOKENS",
    "Analysis",
    "Finding",
    "FindingKind",
    "FunctionRef",
    "Placement",
    "Problem",
    "Relation",
    "Span",
    "Statement",
    "analyze",
    "fingerprint",
]


def fingerprint(body: str) -> str:
    """A digest of the body's tokens: whitespace, comments and the case of keywords and unquoted
    names do not change it; any constant does (unlike libpg_query's own fingerprint)."""
    return analyze(body).fingerprint
