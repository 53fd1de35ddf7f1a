"""What the walk does at each kind of node: calls, function bodies (analysed as PostgreSQL will
analyse them), DO, transaction control, settings, COPY, DROP, what defines outside data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .catalog import _DEFINES_OUTSIDE, _FUNCTION_OPTIONS, _NAMING_ONLY, _PARSE_SETTINGS
from .model import Problem, Relation
from .native import _SCONST, _USCONST, _load, _Refused, _Text, _Token
from .tree import _DROPPABLE, _names, _option, _split
from .walk import Visitor, _At, _Walk

_MAX_BODY_DEPTH = 8  # CREATE FUNCTION bodies inside CREATE FUNCTION bodies


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

    inner = _Walk(w.root, to_root, w.visit)
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
        capability = "server_programs"
    elif d.get("filename") is None:  # no capability accepts it: a pg_cron job has no client
        message = "COPY to or from the client needs a client; a pg_cron job has none"
        capability = ""
    else:
        message = "COPY to or from a server file reaches the server's file system"
        capability = "server_files"
    w.find("outside", message, at, at.span, "COPY", capability)


def _drop(w: _Walk, d: dict[str, Any], at: _At) -> None:
    if d.get("removeType") not in _DROPPABLE:
        return
    for item in d.get("objects") or ():
        schema, name = _split(_names(item.get("List", {}).get("items")))
        missing_ok = bool(d.get("missing_ok"))
        w.relations.append(Relation(schema, name, at.index, at.span, "drops", False, missing_ok))


def _defines_outside(why: tuple[str, str]) -> Visitor:
    def visit(w: _Walk, d: dict[str, Any], at: _At) -> None:
        w.find("outside", why[0], at, at.span, at.top, why[1])

    return visit


_VISIT: dict[str, Visitor] = {
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
