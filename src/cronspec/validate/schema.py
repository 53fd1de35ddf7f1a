"""pydantic's errors on a spec as diagnostics at YAML positions, saying what YAML read.

pydantic reports locations through union branches (`schedule.list[str].1`) and types by its
own names; a reader wants the key as written, its line, and "YAML read `12:30` as an integer
(750): quote it".
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostic, Span, error, printable
from ..load.source import Document, Path
from ..spec import SPEC_FIELDS, WORKER_PATTERN, RetrySpec, TaskSpec, UniqueSpec

_YES = frozenset({"y", "yes", "on"})

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "float_type": "a number",
}
# The spec's nested mappings, for their own keys' messages.
_NESTED: dict[str, type[BaseModel]] = {"unique": UniqueSpec, "retry": RetrySpec}


def schema_diagnostics(doc: Document, exc: ValidationError) -> list[Diagnostic]:
    """One diagnostic per location pydantic refused (the shortest message where several)."""
    diags: dict[Path, Diagnostic] = {}
    for err in exc.errors():
        loc = _real_loc(doc.data, tuple(err["loc"]))
        kind = err["type"]
        field = str(loc[0]) if loc else str(err["loc"][0]) if err["loc"] else ""
        if kind == "missing" and len(err["loc"]) == 2 and str(err["loc"][0]) in _NESTED:
            parent, name = str(err["loc"][0]), str(err["loc"][1])
            about = _NESTED[parent].model_fields[name].description
            diag = error(
                "S201",
                f"missing required key `{parent}.{name}`: {about}",
                doc.source.span((parent,)),
            )
            loc = (parent, name)
        elif kind == "missing":
            name = str(err["loc"][0])
            diag = error(
                "S201",
                f"missing required key `{name}`: {TaskSpec.model_fields[name].description}",
                Span.at(doc.path, 1, 1, 0),
            )
            loc = (name,)
        elif kind == "extra_forbidden":
            key = str(err["loc"][-1])
            # a key of a nested mapping (`unique`, `retry`) is one of that mapping's
            nested = _NESTED.get(str(err["loc"][0])) if len(err["loc"]) > 1 else None
            fields = tuple(nested.model_fields) if nested else SPEC_FIELDS
            close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
            hint = (
                f"; did you mean `{close[0]}`?" if close else f"; known keys: {', '.join(fields)}"
            )
            loc = tuple(err["loc"])
            diag = error("S202", f"unknown key `{key}`{hint}", doc.source.span(loc, key=True))
        elif kind in _TYPE_WORDS or (kind.endswith("_type") and loc in doc.source.scalars):
            diag = _type_error(doc, loc, field, kind)
        else:
            message = _value_message(err["msg"], kind, field, loc, err.get("input"))
            diag = error("S204", message, doc.source.span(loc))
        previous = diags.get(loc)
        if previous is None or len(diag.message) < len(previous.message):
            diags[loc] = diag
    return list(diags.values())


def _value_message(message: str, kind: str, field: str, loc: Path, value: Any = None) -> str:
    if kind == "literal_error":
        return f"`{field}` {message[0].lower()}{message[1:]}"
    if kind == "string_pattern_mismatch" and field in _PATTERN_WORDS:
        return _PATTERN_WORDS[field] + (_worker_guess(value) if field == "worker" else "")
    if kind == "string_pattern_mismatch":
        return f"`{field}` has characters it cannot have: {message}"
    return f"`{'.'.join(map(str, loc)) or field}`: {message}"


_PATTERN_WORDS = {
    "name": "`name` must be lowercase letters, digits, `-` and `_`, starting with a letter or "
    "digit",
    "worker": "`worker` must be an Elixir module name such as `MyApp.Workers.Cleanup`: parts "
    "joined by `.`, each a capital letter followed by letters, digits or `_`",
    "queue": "`queue` must be an Oban queue name such as `maintenance`: lowercase letters, "
    "digits and `_`, not starting with a digit",
    "database": "`database` must be a database name such as `analytics`: letters, digits, `_` "
    "and `-`, starting with a letter or `_`",
}


def _worker_guess(value: Any) -> str:
    """`; did you mean `MyApp.Worker`?` for `my_app.worker`, when the guess is a module name."""
    if not isinstance(value, str):
        return ""
    parts = [p for p in re.split(r"[.:/\\]+", value.strip()) if p]
    guess = ".".join(
        "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\-\s]+", p)) for p in parts
    )
    if guess != value and re.fullmatch(WORKER_PATTERN, guess):
        return f"; did you mean `{guess}`?"
    return ""


def _real_loc(data: Any, loc: tuple[int | str, ...]) -> Path:
    """pydantic locations include union branches (`str`, `list[str]`); keep the data path."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
    return tuple(out)


def _expected(field: str) -> str:
    if field == "schedule":
        return "a string or a list of strings"
    annotation = str(TaskSpec.model_fields[field].annotation)
    for word, text in (
        ("list", "a list"),
        ("dict", "a mapping"),
        ("bool", "true or false"),
        ("int", "an integer"),
        ("str", "a string"),
        ("Literal", "one of the allowed words"),
    ):
        if re.search(rf"\b{word}\b", annotation):  # `int` is no integer in `StringConstraints`
            return text
    return "another type"


def _type_error(doc: Document, loc: Path, field: str, kind: str) -> Diagnostic:
    scalar = doc.source.scalars.get(loc)
    expected = _expected(field) if len(loc) == 1 else _TYPE_WORDS.get(kind, "another type")
    where = "`" + ".".join(map(str, loc)) + "`"
    if scalar is None:
        return error("S203", f"{where} must be {expected}", doc.source.span(loc))
    if scalar.tag == "tag:yaml.org,2002:bool" and field == "enabled" and len(loc) == 1:
        meant = "true" if scalar.raw.lower() in _YES else "false"
        return error(
            "S203",
            f"`enabled` must be true or false; `{printable(scalar.raw)}` is YAML 1.1's word for "
            f"{meant}, which YAML 1.2 reads as text, so cronspec takes neither: write "
            f"`enabled: {meant}`",
            doc.source.span(loc),
        )
    read = scalar.kind
    if scalar.tag == "tag:yaml.org,2002:int" and not scalar.raw.lstrip("-").isdigit():
        read = f"an integer ({int(_value_at(doc.data, loc))})"
    fix = ": quote it" if expected == "a string" or field == "schedule" else ""
    return error(
        "S203",
        f"{where} must be {expected}; YAML read `{scalar.raw}` as {read}{fix}",
        doc.source.span(loc),
    )


def _value_at(data: Any, loc: Path) -> Any:
    node: Any = data
    for part in loc:
        node = node[part]
    return node
