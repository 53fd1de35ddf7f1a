"""libpg_query through postgast: the scanner's tokens, the parse tree (deep ones on a big
stack, or from protobuf when too deep for json), byte offsets to characters, the fingerprint."""

from __future__ import annotations

import ctypes
import hashlib
import json
import threading
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any, Literal, NamedTuple, cast

import postgast
from postgast.errors import check_error
from postgast.native import lib as _lib

from .model import Span
from .tree import pb

MAX_TOKENS = 100_000  # beyond this a body is refused as too large to analyse
_DEEP_TOKENS = 2_000  # above this the parser runs on a thread with a stack to match


def _allow_deep_protobuf() -> None:
    # upb refuses messages nested more than 100 deep unless told otherwise (process-wide); a
    # body with 41 nested subqueries is deeper than that. Only the deep fallback needs it.
    try:
        from google._upb import _message
    except ImportError:  # another protobuf backend: deep bodies then fail as `too_deep`
        return
    _message.SetAllowOversizeProtos(True)


class _TooDeep(Exception):
    pass


def _parse_json(body: bytes) -> dict[str, Any]:
    result = _lib.pg_query_parse(body)
    try:
        check_error(result)
        return cast(dict[str, Any], json.loads(ctypes.string_at(result.parse_tree)))
    finally:
        _lib.pg_query_free_parse_result(result)


def _as_json(message: Any) -> dict[str, Any]:
    """A protobuf parse tree as libpg_query's JSON would give it, without recursion."""
    root: dict[str, Any] = {}
    stack = [(message, root)]
    while stack:
        node, out = stack.pop()
        for field, value in node.ListFields():
            key = field.json_name
            if field.message_type is None:
                if field.enum_type is not None:
                    names = field.enum_type.values_by_number
                    value = (
                        [names[v].name for v in value] if field.is_repeated else names[value].name
                    )
                elif field.is_repeated:
                    value = list(value)
                out[key] = value
            elif field.is_repeated:
                items: list[dict[str, Any]] = []
                for item in value:
                    items.append({})
                    stack.append((item, items[-1]))
                out[key] = items
            else:
                out[key] = {}
                stack.append((value, out[key]))
    return root


def _parse_tree(text: str) -> dict[str, Any]:
    """libpg_query's parse tree as JSON; too deep for json.loads, the same built from protobuf."""
    try:
        return _parse_json(text.encode())
    except RecursionError:
        pass
    _allow_deep_protobuf()
    try:
        return _as_json(postgast.parse(text))
    except postgast.PgQueryError:
        raise
    except Exception as exc:  # protobuf's DecodeError: deeper than upb's limit
        raise _TooDeep(str(exc)) from None


def _on_big_stack(fn: Callable[[str], dict[str, Any]], text: str, tokens: int) -> dict[str, Any]:
    """Run `fn(text)` on a thread whose stack fits the input: libpg_query writes its tree out
    recursively in C (a left-deep `1+1+...` of 100,000 terms overflows an 8 MB stack)."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(fn(text))
        except BaseException as exc:  # handed to the caller's thread
            box.append(exc)

    old = threading.stack_size((64 << 20) + tokens * 2048)
    try:
        thread = threading.Thread(target=target, name="cronspec-pgsql")
        thread.start()
    finally:
        threading.stack_size(old)
    thread.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    return cast(dict[str, Any], box[0])


# -- offsets and tokens ------------------------------------------------------------------


class _Text:
    """A body's text: libpg_query's byte offsets to characters, characters to line/column."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = text.encode()
        self._chars: list[int] | None = None
        if len(self.raw) != len(text):
            self._chars = [0] * (len(self.raw) + 1)
            pos = 0
            for index, char in enumerate(text):
                width = len(char.encode())
                for k in range(width):
                    self._chars[pos + k] = index
                pos += width
            self._chars[pos] = len(text)
        self._lines = [0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1])]

    def char(self, byte: int) -> int:
        byte = max(0, min(byte, len(self.raw)))
        return byte if self._chars is None else self._chars[byte]

    def span(self, start: int, end: int) -> Span:
        line = bisect_right(self._lines, start)
        end_line = bisect_right(self._lines, end)
        return Span(
            start,
            end,
            line,
            start - self._lines[line - 1] + 1,
            end_line,
            end - self._lines[end_line - 1] + 1,
        )


class _Token(NamedTuple):  # a tuple: made for every token of every body, so made cheaply
    kind: int
    start: int  # characters
    end: int
    text: str
    folds: bool  # a keyword or an unquoted name: its case means nothing


_COMMENTS = {pb.Token.Value("SQL_COMMENT"), pb.Token.Value("C_COMMENT")}
_SCONST, _USCONST, _IDENT = (pb.Token.Value(n) for n in ("SCONST", "USCONST", "IDENT"))
_SEMICOLON, _DOT = pb.Token.Value("ASCII_59"), pb.Token.Value("ASCII_46")
_NAME_PARTS = {_IDENT, pb.Token.Value("UIDENT")}
_NO_KEYWORD = pb.KeywordKind.Value("NO_KEYWORD")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


_new = tuple.__new__


def _tokens(text: _Text) -> list[_Token]:
    out = []
    body, chars = text.text, text._chars
    for t in postgast.scan(body).tokens:
        kind = t.token
        if kind in _COMMENTS:
            continue
        start, end = t.start, t.end
        if chars is not None:
            start, end = chars[start], chars[end]
        raw = body[start:end]
        folds = t.keyword_kind != _NO_KEYWORD or (kind == _IDENT and raw[:1] != '"')
        out.append(_new(_Token, (kind, start, end, raw, folds)))
    return out


def _fingerprint(tokens: list[_Token]) -> str:
    parts: list[str] = []
    seen = pending = False  # a `;` counts only between statements, not `;;` or a final one
    for t in tokens:
        if t.kind == _SEMICOLON:
            pending = seen
            continue
        if pending:
            parts.append(";")
            pending = False
        seen = True
        parts.append(t.text.translate(_LOWER) if t.folds else t.text)  # constants never fold
    # a token's text says its kind (quotes, digits, letters); NUL cannot occur in SQL text
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class _Refused(Exception):
    def __init__(
        self,
        kind: Literal["syntax", "empty", "too_large", "too_deep"],
        message: str,
        at: int,
        end: int | None = None,
    ):
        super().__init__(message)
        self.kind, self.message, self.at = kind, message, at
        self.end = at if end is None else end


def _load(text: _Text) -> tuple[list[_Token], list[dict[str, Any]]]:
    """The tokens and the raw statements of a text, or _Refused saying why not."""

    tokens: list[_Token] = []

    def refused(exc: postgast.PgQueryError) -> _Refused:
        # PostgreSQL counts its error cursor in characters (node locations are in bytes)
        at = min(exc.cursorpos - 1, len(text.text)) if exc.cursorpos > 0 else 0
        end = next((t.end for t in tokens if t.start == at), at)  # the token it names
        deep = exc.message.startswith(("memory exhausted", "stack depth limit exceeded"))
        return _Refused("too_deep" if deep else "syntax", exc.message, at, end)

    try:
        tokens = _tokens(text)
    except postgast.PgQueryError as exc:
        raise refused(exc) from None
    if len(tokens) > MAX_TOKENS:
        message = (
            f"too large for cronspec to analyse: {len(tokens):,} tokens (limit {MAX_TOKENS:,})"
        )
        raise _Refused("too_large", message, 0)
    try:
        if len(tokens) > _DEEP_TOKENS:
            tree = _on_big_stack(_parse_tree, text.text, len(tokens))
        else:
            tree = _parse_tree(text.text)
    except postgast.PgQueryError as exc:
        raise refused(exc) from None
    except _TooDeep:
        raise _Refused("too_deep", "nested too deeply for cronspec to analyse", 0) from None
    return tokens, list(tree.get("stmts", ()))
