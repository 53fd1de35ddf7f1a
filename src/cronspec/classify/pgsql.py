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
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import json
import threading
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any, Literal, NamedTuple, cast

import postgast
from postgast.errors import check_error
from postgast.native import lib as _lib

# postgast's own stub of this module does not parse under mypy: import it untyped
pb: Any = importlib.import_module("postgast.pg_query_pb2")

__all__ = [
    "GRAMMAR",
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

Placement = Literal["anywhere", "alone", "alone_if_partitioned", "top_level", "in_block"]
"""Where PostgreSQL 15 lets a statement run (tests/test_pgsql_server.py checks each on a server):

- anywhere: in a `LANGUAGE sql` procedure, a transaction block, or alone as the job's command;
- alone: refuses a transaction block and a function ("cannot run inside a transaction block",
  "cannot be executed from a function"): it must be the job's only statement, with no wrapper;
- alone_if_partitioned: REINDEX TABLE/INDEX and CLUSTER of a table: `alone` when the relation
  is partitioned, which only the live database knows, `anywhere` otherwise;
- top_level: CALL: a callee that COMMITs works only as the job's only statement, unwrapped
  ("invalid transaction termination" in a wrapper, a transaction block or a multi-statement job);
- in_block: LOCK and DECLARE CURSOR without HOLD fail alone at top level ("can only be used in
  transaction blocks"): they need a wrapper or other statements around them.
"""

FindingKind = Literal[
    "outside",  # reaches outside the database: server files, programs, other servers, HTTP
    "pg_net",  # queues an HTTP request through pg_net (net.http_get, ...)
    "do",  # a DO block
    "opaque",  # like DO: code the analysis cannot see into
    "transaction_control",  # BEGIN, COMMIT, SAVEPOINT, SET TRANSACTION, ...
    "alone",  # an `alone` statement among others: it cannot run in that job
    "call_among_others",  # a CALL among others: a callee that COMMITs fails there
    "parse_setting",  # changes standard_conforming_strings (or resets every setting)
    "scs_dependent",  # text whose meaning depends on standard_conforming_strings
    "own_relation",  # uses a relation an earlier statement creates (fails in a procedure)
]

GRAMMAR = "PostgreSQL 18 (libpg_query 18-latest, vendored by postgast 0.2)"
MAX_TOKENS = 100_000  # beyond this a body is refused as too large to analyse
_DEEP_TOKENS = 2_000  # above this the parser runs on a thread with a stack to match
_MAX_BODY_DEPTH = 8  # CREATE FUNCTION bodies inside CREATE FUNCTION bodies


@dataclass(frozen=True, slots=True)
class Span:
    """Where something is in the body: character offsets [start, end), 1-based line/column."""

    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the body cannot be used at all: `syntax` (PostgreSQL's message), `empty`,
    `too_large` or `too_deep`."""

    kind: Literal["syntax", "empty", "too_large", "too_deep"]
    message: str
    span: Span


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    kind: str  # PostgreSQL's command tag: "SELECT", "CREATE INDEX", "VACUUM", "CALL", ...
    node: str  # libpg_query's node type: "SelectStmt", "IndexStmt", ...
    text: str  # as written, from its first token to its last, without the final `;`
    span: Span
    placement: Placement
    why: str  # for `alone` and `in_block`: the statement PostgreSQL names in its error


@dataclass(frozen=True, slots=True)
class FunctionRef:
    schema: str | None  # as written; None when unqualified
    name: str  # decoded: U&"\0070g_read_file" is pg_read_file
    statement: int
    span: Span
    called: bool  # False: named as a cast's, operator's, trigger's... function, or in GRANT

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True, slots=True)
class Relation:
    schema: str | None
    name: str
    statement: int
    span: Span
    role: Literal["uses", "creates", "drops"]
    created_here: bool  # a statement of this body (this one or an earlier one) creates it
    missing_ok: bool  # IF EXISTS

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def must_exist(self) -> bool:
        """True when the job fails unless it exists before the job runs (to_regclass)."""
        return self.role == "uses" and not self.created_here and not self.missing_ok


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    message: str
    statement: int
    span: Span
    name: str = ""  # the function or setting concerned, when there is one


@dataclass(frozen=True, slots=True)
class Analysis:
    error: Problem | None
    statements: tuple[Statement, ...]
    functions: tuple[FunctionRef, ...]
    relations: tuple[Relation, ...]
    findings: tuple[Finding, ...]
    fingerprint: str  # equal for bodies that differ only in whitespace, comments, keyword case

    def of(self, *kinds: FindingKind) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind in kinds)

    @property
    def bare(self) -> Statement | None:
        """The statement that must be the job's own command (no wrapper procedure), if any:
        a lone `alone` statement, or a lone CALL (its callee may COMMIT)."""
        if len(self.statements) == 1 and self.statements[0].placement in ("alone", "top_level"):
            return self.statements[0]
        return None


# -- what the findings look for ------------------------------------------------------------

_FILES_READ = "reads the server's file system"
OUTSIDE_FUNCTIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "pg_read_file",
            "pg_read_binary_file",
            "pg_stat_file",
            "pg_ls_dir",
            "pg_logdir_ls",
            "pg_current_logfile",
        ),
        _FILES_READ,
    ),
    **dict.fromkeys(
        ("pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync"),
        "writes the server's file system",
    ),
    **dict.fromkeys(("lo_import", "lo_export"), "moves large objects to or from server files"),
    **dict.fromkeys(
        ("http", "http_get", "http_post", "http_put", "http_patch", "http_delete", "http_head"),
        "makes HTTP requests (pgsql-http)",
    ),
}
_OUTSIDE_PREFIXES = {"pg_ls_": _FILES_READ, "dblink": "connects to another database server"}
# pg_net's functions live in schema net; its request functions queue and return at once.
_PG_NET_WAITS = {"http_collect_response", "_http_collect_response", "_await_response"}
# Functions that run SQL given as text: the analysis cannot see what that SQL does.
_RUNS_TEXT = {
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "pg_background_launch",
}
_CRON_TEXT = {"schedule", "schedule_in_database", "alter_job"}  # pg_cron: SQL text as a job
_PARSE_SETTINGS = {"standard_conforming_strings"}
# DefineStmt / CREATE TYPE ... AS RANGE options whose value names a function.
_FUNCTION_OPTIONS = {
    "function",
    "procedure",
    "sfunc",
    "finalfunc",
    "combinefunc",
    "serialfunc",
    "deserialfunc",
    "msfunc",
    "minvfunc",
    "mfinalfunc",
    "input",
    "output",
    "receive",
    "send",
    "typmod_in",
    "typmod_out",
    "analyze",
    "subscript",
    "canonical",
    "subtype_diff",
    "restrict",
    "join",
}
# Statements whose ObjectWithArgs only names an existing function (not a way to call it).
_NAMING_ONLY = {
    "DropStmt",
    "CommentStmt",
    "SecLabelStmt",
    "AlterObjectSchemaStmt",
    "AlterOwnerStmt",
    "RenameStmt",
    "AlterFunctionStmt",
    "AlterObjectDependsStmt",
}
_DEFINES_OUTSIDE = {
    "CreateForeignTableStmt": "defines a foreign table: data outside this database",
    "CreateForeignServerStmt": "defines a foreign server: another data source",
    "AlterForeignServerStmt": "changes a foreign server: another data source",
    "CreateUserMappingStmt": "defines a user mapping for a foreign server",
    "ImportForeignSchemaStmt": "imports foreign tables: data outside this database",
    "CreateFdwStmt": "defines a foreign-data wrapper",
    "CreateSubscriptionStmt": "connects to another server (logical replication)",
    "LoadStmt": "loads a shared library from the server's file system",
    "CreateTableSpaceStmt": "creates a directory on the server's file system",
    "AlterSystemStmt": "writes the server's configuration file, where settings such as "
    "archive_command run programs",
}

# -- the parse tree's shape, from postgast's protobuf schema ------------------------------


_HAS_WITH = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"}
# Nodes with nothing below them that the analysis looks for: not walked into.
_LEAVES = {
    "A_Const",
    "String",
    "Integer",
    "Float",
    "Boolean",
    "BitString",
    "ColumnRef",
    "A_Star",
    "ParamRef",
    "Alias",
    "RoleSpec",
}


@cache
def _schema() -> dict[str, dict[str, tuple[str, bool]]]:
    """For each node type, its fields (JSON names) that hold nodes: their type, and whether a
    RangeVar there is a relation the statement creates. libpg_query's JSON wraps a field of type
    Node as {"Type": {...}}, but not a field of a fixed message type: hence this schema."""
    shape: dict[str, dict[str, tuple[str, bool]]] = {}
    for name, message in pb.DESCRIPTOR.message_types_by_name.items():
        fields = {
            field.json_name: (field.message_type.name, (name, field.json_name) in _CREATES)
            for field in message.fields
            if field.message_type is not None and field.message_type.name not in _LEAVES
        }
        if fields and name not in _LEAVES:
            shape[name] = fields
    return shape


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


# -- offsets -------------------------------------------------------------------------------


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


def fingerprint(body: str) -> str:
    """A digest of the body's tokens: whitespace, comments and the case of keywords and unquoted
    names do not change it; any constant does (unlike libpg_query's own fingerprint)."""
    return analyze(body).fingerprint


# -- the walk ------------------------------------------------------------------------------

# (node type, field) whose RangeVar is a relation the statement creates
_CREATES = {
    ("CreateStmt", "relation"),
    ("IntoClause", "rel"),
    ("ViewStmt", "view"),
    ("CreateSeqStmt", "sequence"),
}
_DROPPABLE = {
    "OBJECT_TABLE",
    "OBJECT_VIEW",
    "OBJECT_MATVIEW",
    "OBJECT_INDEX",
    "OBJECT_SEQUENCE",
    "OBJECT_FOREIGN_TABLE",
}


def _names(items: list[dict[str, Any]] | None) -> list[str]:
    return [str(item.get("String", {}).get("sval", "")) for item in items or ()]


def _split(names: list[str]) -> tuple[str | None, str]:
    return (names[-2] if len(names) > 1 else None), (names[-1] if names else "")


def _option(options: list[dict[str, Any]] | None, name: str) -> dict[str, Any] | None:
    for item in options or ():
        elem = item.get("DefElem", {})
        if elem.get("defname") == name:
            return cast(dict[str, Any], elem)
    return None


def _truthy(elem: dict[str, Any] | None) -> bool:
    """A boolean option as PostgreSQL reads it: present without a value means true."""
    if elem is None:
        return False
    arg = elem.get("arg")
    if not arg:
        return True
    ((_, value),) = arg.items()
    text = str(value.get("sval", value.get("ival", value.get("boolval", "")))).lower()
    return text not in {"false", "off", "0", "no", "{}"}


@dataclass(frozen=True, slots=True)
class _At:
    index: int  # the statement of the root body
    span: Span  # that statement's span
    top: str  # its node type
    depth: int  # 0: the body; 1: a function body in it; ...


class _Walk:
    """Collects what a body (and the function bodies in it) names, in the root body's terms."""

    def __init__(self, root: _Text, to_root: Callable[[int], int]) -> None:
        self.root, self.to_root = root, to_root
        self.text = root
        self.tokens: list[_Token] = []
        self.starts: dict[int, int] = {}
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
        i = self.starts.get(start)
        if i is None:
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
        self.starts = {t.start: i for i, t in enumerate(tokens)}

    def find(self, kind: FindingKind, message: str, at: _At, span: Span, name: str = "") -> None:
        self.findings.append(Finding(kind, message, at.index, span, name))

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
                visit = _VISIT.get(kind)
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
        if (
            schema is not None
            and schema.lower() == "net"
            and (low.startswith("http_") or low in _PG_NET_WAITS)
        ):
            what = (
                "waits for a pg_net response"
                if low in _PG_NET_WAITS
                else "queues an HTTP request through pg_net: its background worker sends it "
                "and writes the response to net._http_response"
            )
            self.find("pg_net", f"{ref.qualified}() {what}", at, span, ref.qualified)
        elif outside is not None:
            self.find("outside", f"{ref.qualified}() {outside}", at, span, ref.qualified)
        elif low in _RUNS_TEXT or (low in _CRON_TEXT and schema in (None, "cron")):
            message = f"{ref.qualified}() runs SQL given as text, which cronspec cannot check"
            self.find("opaque", message, at, span, ref.qualified)


def _func_call(w: _Walk, d: dict[str, Any], at: _At) -> None:
    names = _names(d.get("funcname"))
    span = w.name_span(int(d.get("location", 0)))
    w.function(names, span, at, True)
    if names and names[-1].lower() == "set_config":
        first = (d.get("args") or [{}])[0]
        value = first.get("A_Const", {}).get("sval", {}).get("sval")
        if value is None or str(value).lower() in _PARSE_SETTINGS:
            message = (
                "set_config() may change standard_conforming_strings, and with it how "
                "PostgreSQL reads the SQL that follows"
            )
            w.find("parse_setting", message, at, span, "standard_conforming_strings")


def _object_with_args(w: _Walk, d: dict[str, Any], at: _At) -> None:
    if at.top not in _NAMING_ONLY:  # GRANT EXECUTE, CREATE CAST ... WITH FUNCTION, ...
        w.function(_names(d.get("objname")), at.span, at, False)


def _function_options(w: _Walk, options: list[dict[str, Any]] | None, at: _At) -> None:
    for item in options or ():
        elem = item.get("DefElem", {})
        arg = elem.get("arg")
        if elem.get("defname", "").lower() not in _FUNCTION_OPTIONS or not arg:
            continue
        ((kind, value),) = arg.items()
        names = _names(value.get("names") if kind == "TypeName" else value.get("items"))
        if kind == "String":
            names = [str(value.get("sval", ""))]
        if names:
            where = value.get("location", elem.get("location"))
            span = w.name_span(int(where)) if where is not None else at.span
            w.function(names, span, at, False)


def _define(w: _Walk, d: dict[str, Any], at: _At) -> None:
    _function_options(w, d.get("definition"), at)


def _create_range(w: _Walk, d: dict[str, Any], at: _At) -> None:
    _function_options(w, d.get("params"), at)


def _named_function(field: str) -> Callable[[_Walk, dict[str, Any], _At], None]:
    def visit(w: _Walk, d: dict[str, Any], at: _At) -> None:
        w.function(_names(d.get(field)), at.span, at, False)

    return visit


def _create_function(w: _Walk, d: dict[str, Any], at: _At) -> None:
    what = "procedure" if d.get("is_procedure") else "function"
    name = ".".join(_names(d.get("funcname")))
    language_elem = _option(d.get("options"), "language")
    language = None
    if language_elem is not None:
        language = str(language_elem.get("arg", {}).get("String", {}).get("sval", "")).lower()
    elif d.get("sql_body") is not None:
        language = "sql"
    if language != "sql":
        said = f"LANGUAGE {language}" if language else "no LANGUAGE"
        message = (
            f"creates {what} {name} with {said}, which cronspec cannot see into: "
            "it works like a DO block"
        )
        w.find("opaque", message, at, at.span, name)
        return
    body_elem = _option(d.get("options"), "as")
    if body_elem is None:
        return  # BEGIN ATOMIC ... END: its statements are in the tree, walked as they come
    items = _names(body_elem.get("arg", {}).get("List", {}).get("items"))
    if items:
        _function_body(w, items[0], int(body_elem.get("location", 0)), name, at)


def _function_body(w: _Walk, source: str, location: int, name: str, at: _At) -> None:
    """Analyse the text of a LANGUAGE sql function the body creates, as PostgreSQL will."""
    if at.depth + 1 > _MAX_BODY_DEPTH:
        message = f"function {name} nests function bodies too deeply for cronspec to check"
        w.find("opaque", message, at, at.span, name)
        return
    start = w.text.char(location)
    token = next((t for t in w.tokens if t.start >= start and t.kind in (_SCONST, _USCONST)), None)
    exact = None
    if token is not None and token.text.startswith("$"):
        tag = token.text[: token.text.index("$", 1) + 1]
        if token.text[len(tag) : len(token.text) - len(tag)] == source:
            exact = token.start + len(tag)
    anchor = token.start if token is not None else start
    outer = w.to_root

    def to_root(offset: int) -> int:
        return outer(exact + offset) if exact is not None else outer(anchor)

    inner = _Walk(w.root, to_root)
    _walk_text(inner, _Text(source), replace(at, depth=at.depth + 1), prefix=f"function {name}: ")
    w.functions += inner.functions
    w.relations += inner.relations
    w.findings += inner.findings
    if inner.error is not None and w.error is None:
        w.error = inner.error


def _do(w: _Walk, d: dict[str, Any], at: _At) -> None:
    message = "DO blocks cannot be checked by cronspec; move the code into a function created "
    message += "by your schema migrations and call it"
    w.find("do", message, at, at.span)


def _transaction(w: _Walk, d: dict[str, Any], at: _At) -> None:
    kind = str(d.get("kind", "")).removeprefix("TRANS_STMT_").replace("_", " ")
    message = f"transaction control ({kind}) is not allowed: each job runs in its own transaction"
    w.find("transaction_control", message, at, at.span, kind)


def _variable_set(w: _Walk, d: dict[str, Any], at: _At) -> None:
    name = str(d.get("name", "")).lower()
    if d.get("kind") == "VAR_SET_MULTI" and name == "transaction":
        message = (
            "SET TRANSACTION must come before any query of its transaction, and a job's "
            "transaction has begun before its body runs"
        )
        w.find("transaction_control", message, at, at.span, "SET TRANSACTION")
    elif name in _PARSE_SETTINGS or d.get("kind") == "VAR_RESET_ALL":
        what = name or "every setting"
        message = (
            f"changes {what}, and with it how PostgreSQL reads SQL text after it; cronspec "
            "fixes standard_conforming_strings = on where a job runs"
        )
        w.find("parse_setting", message, at, at.span, name or "ALL")


def _copy(w: _Walk, d: dict[str, Any], at: _At) -> None:
    if d.get("is_program"):
        message = "COPY ... PROGRAM runs a program on the database server"
    elif d.get("filename") is None:
        message = "COPY to or from the client needs a client; a pg_cron job has none"
    else:
        message = "COPY to or from a server file reaches the server's file system"
    w.find("outside", message, at, at.span, "COPY")


def _drop(w: _Walk, d: dict[str, Any], at: _At) -> None:
    if d.get("removeType") not in _DROPPABLE:
        return
    for item in d.get("objects") or ():
        schema, name = _split(_names(item.get("List", {}).get("items")))
        missing_ok = bool(d.get("missing_ok"))
        w.relations.append(Relation(schema, name, at.index, at.span, "drops", False, missing_ok))


def _defines_outside(why: str) -> Callable[[_Walk, dict[str, Any], _At], None]:
    def visit(w: _Walk, d: dict[str, Any], at: _At) -> None:
        w.find("outside", why, at, at.span, at.top)

    return visit


_VISIT: dict[str, Callable[[_Walk, dict[str, Any], _At], None]] = {
    "FuncCall": _func_call,
    "ObjectWithArgs": _object_with_args,
    "DefineStmt": _define,
    "CreateRangeStmt": _create_range,
    "CreateTrigStmt": _named_function("funcname"),
    "CreateEventTrigStmt": _named_function("funcname"),
    "CreateConversionStmt": _named_function("func_name"),
    "CreateFunctionStmt": _create_function,
    "DoStmt": _do,
    "TransactionStmt": _transaction,
    "VariableSetStmt": _variable_set,
    "CopyStmt": _copy,
    "DropStmt": _drop,
    **{node: _defines_outside(why) for node, why in _DEFINES_OUTSIDE.items()},
}

# -- statements ----------------------------------------------------------------------------

_TAGS = {
    "InsertStmt": "INSERT",
    "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE",
    "CallStmt": "CALL",
    "DoStmt": "DO",
    "CopyStmt": "COPY",
    "TruncateStmt": "TRUNCATE TABLE",
    "LockStmt": "LOCK TABLE",
    "ClusterStmt": "CLUSTER",
    "ReindexStmt": "REINDEX",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW",
    "IndexStmt": "CREATE INDEX",
    "CreateStmt": "CREATE TABLE",
    "ViewStmt": "CREATE VIEW",
    "CreateSeqStmt": "CREATE SEQUENCE",
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CheckPointStmt": "CHECKPOINT",
    "VariableShowStmt": "SHOW",
    "ListenStmt": "LISTEN",
    "UnlistenStmt": "UNLISTEN",
    "NotifyStmt": "NOTIFY",
    "PrepareStmt": "PREPARE",
    "ExecuteStmt": "EXECUTE",
    "DeallocateStmt": "DEALLOCATE",
    "DeclareCursorStmt": "DECLARE CURSOR",
    "ClosePortalStmt": "CLOSE CURSOR",
    "ExplainStmt": "EXPLAIN",
    "LoadStmt": "LOAD",
    "CreateTrigStmt": "CREATE TRIGGER",
    "RuleStmt": "CREATE RULE",
    "CommentStmt": "COMMENT",
    "CreateExtensionStmt": "CREATE EXTENSION",
    "CreateSchemaStmt": "CREATE SCHEMA",
    "CreateRoleStmt": "CREATE ROLE",
    "AlterDatabaseStmt": "ALTER DATABASE",
    "AlterDatabaseSetStmt": "ALTER DATABASE",
    "AlterRoleSetStmt": "ALTER ROLE",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "AlterSubscriptionStmt": "ALTER SUBSCRIPTION",
    "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    "CreatePublicationStmt": "CREATE PUBLICATION",
}


def _words(enum: Any, prefix: str) -> str:
    text = str(enum or "").removeprefix(prefix)
    return {"MATVIEW": "MATERIALIZED VIEW"}.get(text, text.replace("_", " "))


def _kind(top: str, f: dict[str, Any]) -> str:
    """PostgreSQL's command tag for a statement (what psql prints after running it)."""
    if top == "SelectStmt":
        return "SELECT INTO" if f.get("intoClause") else "SELECT"
    if top == "VacuumStmt":
        return "VACUUM" if f.get("is_vacuumcmd") else "ANALYZE"
    if top == "CreateFunctionStmt":
        return "CREATE PROCEDURE" if f.get("is_procedure") else "CREATE FUNCTION"
    if top == "CreateTableAsStmt":
        matview = f.get("objtype") == "OBJECT_MATVIEW"
        return "CREATE MATERIALIZED VIEW" if matview else "CREATE TABLE AS"
    if top == "DropStmt":
        return "DROP " + _words(f.get("removeType"), "OBJECT_")
    if top in ("AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt", "AlterOwnerStmt"):
        kind = f.get("objtype") or f.get("renameType") or f.get("objectType")
        return "ALTER " + _words(kind, "OBJECT_")
    if top == "DefineStmt":
        return "CREATE " + _words(f.get("kind"), "OBJECT_")
    if top == "TransactionStmt":
        return {"START": "START TRANSACTION", "SAVEPOINT": "SAVEPOINT"}.get(
            _words(f.get("kind"), "TRANS_STMT_"), _words(f.get("kind"), "TRANS_STMT_")
        )
    if top == "VariableSetStmt":
        return "RESET" if str(f.get("kind", "")).startswith("VAR_RESET") else "SET"
    if top == "DiscardStmt":
        return "DISCARD " + _words(f.get("target"), "DISCARD_")
    if top == "GrantStmt":
        return "GRANT" if f.get("is_grant") else "REVOKE"
    if top == "FetchStmt":
        return "MOVE" if f.get("ismove") else "FETCH"
    if top in _TAGS:
        return _TAGS[top]
    words = "".join(c if c.islower() else " " + c for c in top.removesuffix("Stmt")).split()
    return " ".join(words).upper()


_CURSOR_OPT_HOLD = 0x0020  # PostgreSQL's parsenodes.h


def _placement(top: str, f: dict[str, Any]) -> tuple[Placement, str]:
    """Where PostgreSQL 15 runs a statement, and the name its error gives (tests check each)."""
    if top == "VacuumStmt":
        return ("alone", "VACUUM") if f.get("is_vacuumcmd") else ("anywhere", "")
    if top == "ClusterStmt":
        return ("alone_if_partitioned" if f.get("relation") else "alone"), "CLUSTER"
    if top == "ReindexStmt":
        target = _words(f.get("kind"), "REINDEX_OBJECT_")
        if _truthy(_option(f.get("params"), "concurrently")):
            return "alone", "REINDEX CONCURRENTLY"
        if target in ("SCHEMA", "SYSTEM", "DATABASE"):
            return "alone", f"REINDEX {target}"
        return "alone_if_partitioned", f"REINDEX {target}"
    if top == "IndexStmt" and f.get("concurrent"):
        return "alone", "CREATE INDEX CONCURRENTLY"
    if top == "DropStmt" and f.get("concurrent"):
        return "alone", "DROP INDEX CONCURRENTLY"
    if top == "AlterTableStmt":
        for cmd in f.get("cmds") or ():
            part = cmd.get("AlterTableCmd", {}).get("def", {}).get("PartitionCmd", {})
            if part.get("concurrent"):
                return "alone", "ALTER TABLE ... DETACH CONCURRENTLY"
    if top in ("CreatedbStmt", "DropdbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt"):
        return "alone", _TAGS[top]
    if top == "AlterDatabaseStmt" and _option(f.get("options"), "tablespace") is not None:
        return "alone", "ALTER DATABASE SET TABLESPACE"
    if top == "AlterSystemStmt":
        return "alone", "ALTER SYSTEM"
    if top == "DiscardStmt" and f.get("target") == "DISCARD_ALL":
        return "alone", "DISCARD ALL"
    if top == "CreateSubscriptionStmt":
        options = f.get("options")
        connect = _option(options, "connect")
        slot = _option(options, "create_slot")
        if (connect is None or _truthy(connect)) and (slot is None or _truthy(slot)):
            return "alone", "CREATE SUBSCRIPTION ... WITH (create_slot = true)"
    if top == "DropSubscriptionStmt":  # refused in a block while the subscription has a slot
        return "alone", "DROP SUBSCRIPTION"
    if top == "AlterSubscriptionStmt":  # from PostgreSQL's source: refresh needs a connection
        kind = str(f.get("kind", ""))
        refresh = _option(f.get("options"), "refresh")
        if kind.endswith("REFRESH") or (
            kind.endswith("PUBLICATION") and (refresh is None or _truthy(refresh))
        ):
            return "alone", "ALTER SUBSCRIPTION with refresh"
    if top == "CallStmt":
        return "top_level", "CALL"
    if top == "LockStmt":
        return "in_block", "LOCK TABLE"
    if top == "DeclareCursorStmt" and not int(f.get("options", 0)) & _CURSOR_OPT_HOLD:
        return "in_block", "DECLARE CURSOR"
    return "anywhere", ""


# -- the analysis --------------------------------------------------------------------------


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


def _statement_tokens(
    text: _Text, tokens: list[_Token], starts: list[int], raw: dict[str, Any]
) -> list[_Token]:
    location = int(raw.get("stmt_location", 0))
    length = int(raw.get("stmt_len", 0))
    begin = text.char(location)
    end = text.char(location + length) if length else len(text.text)
    inside = tokens[bisect_right(starts, begin - 1) : bisect_right(starts, end - 1)]
    return [t for t in inside if t.kind != _SEMICOLON and t.end <= end]


def _scs_findings(w: _Walk, at_of: Callable[[_Token], _At]) -> None:
    for t in w.tokens:
        if t.kind == _USCONST:
            message = "a U&'...' string is an error when standard_conforming_strings is off"
        elif t.kind == _SCONST and t.text.startswith("'") and "\\" in t.text:
            message = (
                "this '...' string has a backslash, which means something else when "
                "standard_conforming_strings is off; write E'...' for escapes, or $$...$$"
            )
        else:
            continue
        w.find("scs_dependent", message, at_of(t), w.span(t.start, t.end))


def _walk_text(w: _Walk, text: _Text, at: _At, prefix: str) -> None:
    """A function body the root body creates: every statement counts as `at`'s statement."""
    try:
        tokens, raws = _load(text)
    except _Refused as refused:
        span = w.span(refused.at, refused.end)
        w.error = Problem(refused.kind, prefix + refused.message, span)
        return
    w.use(text, tokens)
    for raw in raws:
        w.walk(raw["stmt"], at)
    _scs_findings(w, lambda token: at)


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
    w = _Walk(text, lambda offset: offset)
    w.use(text, tokens)
    starts = [t.start for t in tokens]
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
