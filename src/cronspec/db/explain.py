"""`plan --explain`: EXPLAIN each statement and read the sizes of the relations the plans name."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..queryplan import Explained, RelationSize, Request, relations
from .connection import DbError, _error, _one_line, connect

if TYPE_CHECKING:
    import psycopg

_SIZES = """
SELECT n.nspname, c.relname, CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples END,
       (pg_relation_size(c.oid) / current_setting('block_size')::int)::int,
       COALESCE((SELECT json_agg(ARRAY(
                  SELECT COALESCE(a.attname::text, '(expression)')
                  FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE k.ord <= i.indnkeyatts ORDER BY k.ord))
                 FROM pg_index i
                 WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""


def explain_statements(
    conn: psycopg.Connection[Any], requests: Sequence[Request]
) -> tuple[Explained, ...]:
    """EXPLAIN (FORMAT JSON, VERBOSE), without ANALYZE (nothing runs), each statement in the
    open transaction, each in a savepoint so that one the server cannot plan does not end it;
    then the planner's size of every relation the plans name (pg_class)."""
    import psycopg

    plans: list[tuple[Any, str | None]] = []
    for request in requests:
        conn.execute("SAVEPOINT cronspec_explain")
        try:
            # parameters (none) select the extended protocol: one statement, never two; `%`
            # is then the placeholder sign, so the statement's own are doubled
            query = "EXPLAIN (FORMAT JSON, VERBOSE) " + request.sql.replace("%", "%%")
            row = conn.execute(query.encode("utf-8"), ()).fetchone()
            conn.execute("RELEASE SAVEPOINT cronspec_explain")
        except psycopg.Error as exc:
            if conn.closed or conn.broken:
                raise
            conn.execute("ROLLBACK TO SAVEPOINT cronspec_explain")
            conn.execute("RELEASE SAVEPOINT cronspec_explain")
            diag = getattr(exc, "diag", None)
            plans.append((None, _one_line(getattr(diag, "message_primary", None) or str(exc))))
            continue
        value = row[0] if row else None
        plans.append((json.loads(value) if isinstance(value, str) else value, None))
    names = sorted({name for plan, _ in plans for name in relations(plan)})
    sizes: dict[tuple[str, str], RelationSize] = {}
    if names:
        for schema, name, rows, pages, indexes in conn.execute(
            _SIZES, ([s for s, _ in names], [n for _, n in names])
        ).fetchall():
            columns = tuple(tuple(str(c) for c in index) for index in indexes)
            sizes[(schema, name)] = RelationSize(
                schema, name, None if rows is None else float(rows), int(pages), columns
            )
    return tuple(
        Explained(plan, error, tuple(sizes[r] for r in sorted(relations(plan)) if r in sizes))
        for plan, error in plans
    )


def explain_in_database(dsn: str, database: str, requests: Sequence[Request]) -> list[Explained]:
    """The same for statements of jobs placed in another database (`database:`): a connection
    there with the same DSN, a READ ONLY transaction, rolled back. When that database cannot be
    reached, each request says so (`unreached`) instead."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    try:
        conn = connect(make_conninfo(dsn, dbname=database))
    except (DbError, psycopg.Error) as exc:
        why = f"cannot connect to database {database}: {exc}"
        return [Explained(unreached=_one_line(why)) for _ in requests]
    with conn:
        try:
            conn.execute("BEGIN READ ONLY")
            return list(explain_statements(conn, requests))
        except psycopg.Error as exc:
            raise _error(exc, f"explaining in database {database} failed") from None
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("ROLLBACK")
