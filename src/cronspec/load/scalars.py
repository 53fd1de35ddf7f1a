"""Where each character of a plain, quoted or folded YAML scalar comes from in the file, so that
a position inside the value (PostgreSQL's error in an SQL body) becomes the file's line and
column. A literal block (`|`) maps line for line and needs none of this.

The value is walked beside its source text: a character written as itself, a doubled `''`, a
double-quoted escape (`\\n`, `\\x41`, `\\u00e9`), and folding (a line break with the spaces
around it read as one space, or as the line breaks beyond the first) each account for what
they produce. When the walk cannot account for the value, there is no map, and positions
fall back to where the value starts.
"""

from __future__ import annotations

from bisect import bisect_right

Grid = tuple[tuple[tuple[int, int], ...], ...]
"""Per line of the text (from 1), per column (from 1): the file's (line, column). Each row ends
with the position just after its last character (its line break, or the end)."""

_SPACE = " \t\n"
_SIMPLE_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX = {"x": 2, "u": 4, "U": 8}


def _escape(source: str, i: int) -> tuple[str, int] | None:
    """The character a double-quoted escape at `source[i]` (a backslash) stands for, and its
    width in the source."""
    kind = source[i + 1 : i + 2]
    if kind in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[kind], 2
    width = _HEX.get(kind)
    if width is None:
        return None
    digits = source[i + 2 : i + 2 + width]
    try:
        return chr(int(digits, 16)), 2 + width
    except ValueError:
        return None


def _offsets(source: str, value: str, style: str | None) -> list[int] | None:
    """For each character of `value`, its offset in `source` (the scalar as written)."""
    i = 0
    if style in ("'", '"'):
        i = 1
    elif style == ">":
        i = source.find("\n") + 1
        if i == 0:
            return None
    out: list[int] = []
    j = 0
    while j < len(value):
        if i >= len(source):
            return None
        c, s = value[j], source[i]
        if style == "'" and s == "'" and source[i + 1 : i + 2] == "'" and c == "'":
            out.append(i)
            i, j = i + 2, j + 1
        elif style == '"' and s == "\\":
            if source[i + 1 : i + 2] == "\n":  # an escaped line break: nothing in the value
                i += 2
                while i < len(source) and source[i] in " \t":
                    i += 1
                continue
            escaped = _escape(source, i)
            if escaped is None or escaped[0] != c:
                return None
            out.append(i)
            i, j = i + escaped[1], j + 1
        elif s == c:
            out.append(i)
            i, j = i + 1, j + 1
        elif s in _SPACE:
            # folding: a run of spaces and line breaks reads as a space or as line breaks;
            # indentation and spaces before a break read as nothing
            k = i
            while k < len(source) and source[k] in _SPACE:
                k += 1
            while j < len(value) and value[j] in " \n":
                out.append(i)
                j += 1
            i = k
        else:
            return None
    return out


def scalar_grid(
    text: str, start: tuple[int, int], end: tuple[int, int], value: str, style: str | None
) -> Grid | None:
    """The grid of `value.strip()` (the text validation keeps) for the scalar written in `text`
    from `start` to `end` (1-based line and column, the end exclusive), or None."""
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    if not (0 < start[0] <= len(starts) and 0 < end[0] <= len(starts)):
        return None
    first = starts[start[0] - 1] + start[1] - 1
    last = starts[end[0] - 1] + end[1] - 1
    offsets = _offsets(text[first:last], value, style)
    body = value.strip()
    if offsets is None or not body:
        return None
    lead = len(value) - len(value.lstrip())

    def at(offset: int) -> tuple[int, int]:
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    rows: list[tuple[tuple[int, int], ...]] = []
    row: list[tuple[int, int]] = []
    for k, char in enumerate(body):
        row.append(at(first + offsets[lead + k]))
        if char == "\n":
            rows.append(tuple(row))
            row = []
    line, col = at(first + offsets[lead + len(body) - 1])
    row.append((line, col + 1))
    rows.append(tuple(row))
    return tuple(rows)
