"""Which index would let a repeated scan look its rows up, read from the plan's conditions.

EXPLAIN (VERBOSE) prints conditions as PostgreSQL deparses them: every column qualified by its
alias, operators between spaces, casts as `(col)::type`. A comparison of a column of the
scanned relation with a column of another alias (the outer row) or a parameter is a lookup an
index could serve; equalities make its leading columns, one range may follow. A top-level OR
whose every branch is such a lookup wants one index per branch (a BitmapOr). A column compared
through a cast is named as such: no index on the column serves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from .model import RelationSize

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_COLUMN = re.compile(rf"(?<![\w$.\"])({_IDENT})\.({_IDENT})(?!\s*\()")
_PARAM = re.compile(r"\$\d+")
_OPERATORS = (" = ", " <= ", " >= ", " < ", " > ")


def _unquote(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str, start: int) -> int:
    depth, quote = 0, ""
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _top_level(text: str) -> Iterator[tuple[int, str]]:
    """(offset, character) of the text outside parentheses and quotes."""
    depth, quote = 0, ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
            continue
        if c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0:
            yield i, c


def _split(condition: str, word: str) -> list[str]:
    """The operands of a top-level AND or OR."""
    text = _strip_parens(condition)
    cuts = [i for i, _ in _top_level(text) if text.startswith(word, i)]
    parts, last = [], 0
    for cut in cuts:
        parts.append(text[last:cut])
        last = cut + len(word)
    parts.append(text[last:])
    return [_strip_parens(p) for p in parts]


def _comparison(conjunct: str) -> tuple[str, str, str] | None:
    for i, _ in _top_level(conjunct):
        for op in _OPERATORS:
            if conjunct.startswith(op, i):
                return conjunct[:i].strip(), op.strip(), conjunct[i + len(op) :].strip()
    return None


_CAST = re.compile(r"\((.+)\)::([\w .\"(),]+)")


def _compared(conjunct: str, alias: str) -> tuple[str, bool, str] | None:
    """The column of `alias` a comparison looks up by a value of the outer row, whether with
    `=`, and the type it is cast to first (`numeric`), if it is."""
    parsed = _comparison(conjunct)
    if parsed is None:
        return None
    left, op, right = parsed
    for mine, other in ((left, right), (right, left)):
        mine, cast = _strip_parens(mine), ""
        if (casted := _CAST.fullmatch(mine)) is not None:
            mine, cast = _strip_parens(casted.group(1)), casted.group(2)
        column = _COLUMN.fullmatch(mine)
        if column is None or _unquote(column.group(1)) != alias:
            continue
        outer = any(_unquote(m.group(1)) != alias for m in _COLUMN.finditer(other))
        if outer or _PARAM.search(other):
            return _unquote(column.group(2)), op == "=", cast
    return None


def _index_columns(conditions: Sequence[str], alias: str) -> tuple[list[list[str]], list[str]]:
    """The indexes that would let a run look up the rows of `alias` by the outer row: one,
    from the ANDed comparisons (equalities first, then one range); or, where those have none,
    one per branch of an OR whose every branch has one (read together as a BitmapOr). And the
    comparisons that cast a column first (`source_id as numeric`), which no index on the
    column serves."""
    equal: list[str] = []
    ranges: list[str] = []
    branches: list[list[str]] = []
    casts: list[str] = []
    for condition in conditions:
        for conjunct in _split(condition, " AND "):
            found = _compared(conjunct, alias)
            if found is not None:
                if found[2]:
                    casts.append(f"{found[0]} as {found[2]}")
                else:
                    (equal if found[1] else ranges).append(found[0])
                continue
            options = [_compared(part, alias) for part in _split(conjunct, " OR ")]
            if len(options) > 1 and not branches and all(o and not o[2] for o in options):
                branches = [[option[0]] for option in options if option]
    columns = list(dict.fromkeys(equal))
    columns += [c for c in ranges if c not in columns][:1]
    if columns:
        return [columns], casts
    return list({tuple(b): b for b in branches}.values()), casts


def advice(size: RelationSize, scan: Any, *extra: Any) -> str:
    """What to do about a repeated scan of `size`'s relation, from the scan's filter and the
    join filters in `extra`."""
    alias = str(scan.get("Alias", scan.get("Relation Name", "")))
    conditions = [str(c) for c in (scan.get("Filter"), *extra) if c]
    wanted, casts = _index_columns(conditions, alias)
    if not wanted and casts:
        return (
            f"it compares {', '.join(casts)}, which no index on the column can serve: compare "
            "the column as its own type (cast the other side instead)"
        )
    if not wanted:
        return (
            "its filter does not depend on the outer row, so no index would make each run "
            "cheaper: compute it once (a join or a CTE)"
        )
    unused = [index for index in size.indexes if any(index and index[0] == w[0] for w in wanted)]
    if unused:
        names = " and ".join(_index(size, list(index)) for index in unused)
        return (
            f"{'an index' if len(unused) == 1 else 'indexes'} on {names} exist"
            f"{'s' if len(unused) == 1 else ''} but this plan does not use "
            f"{'it' if len(unused) == 1 else 'them'} (check the column types on both sides "
            "of the comparison, and the statistics)"
        )
    names = " and ".join(_index(size, columns) for columns in wanted)
    if len(wanted) == 1:
        return f"an index on {names} would let each run look its rows up"
    return f"indexes on {names} would let each run look its rows up (one per OR branch)"


def _index(size: RelationSize, columns: list[str]) -> str:
    return f"{relation_name(size)}({', '.join(_ident(c) for c in columns)})"


def _ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def relation_name(size: RelationSize) -> str:
    """The relation as a reader writes it: schema-qualified outside public."""
    table = _ident(size.name)
    return table if size.schema == "public" else f"{_ident(size.schema)}.{table}"


def size_text(size: RelationSize) -> str:
    """`50,000 rows`, or its pages when it has never been analyzed."""
    if size.rows is not None and size.rows >= 0:
        return f"{number(size.rows)} rows"
    return f"{number(size.pages)} pages"


def number(value: float) -> str:
    """An estimate, rounded, with thousands separators."""
    return f"{round(value):,}"
