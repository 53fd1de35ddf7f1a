"""Spec documents to validated `Task` values, or diagnostics that point into the YAML.

pydantic checks shapes and types; this module maps its errors back to YAML positions, adds what
YAML made of the text (`12:30` read as 750), and checks the rules that span several fields.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from . import schedule as sched
from .diagnostics import Diagnostic, Origin, Span, error, warning
from .source import Document, Path, block_scalar_origin
from .spec import APP_ONLY_FIELDS, SPEC_FIELDS, SQL_ONLY_FIELDS, TaskSpec

# Control characters, line separators and invisible or bidirectional formatting characters
# ("Trojan Source"): they could make what a reviewer reads differ from what runs.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


@dataclass(frozen=True)
class TaskSchedule:
    schedule: sched.Schedule
    span: Span  # where the schedule text starts in the spec


@dataclass(frozen=True)
class Task:
    name: str
    path: str
    description: str
    kind: Literal["sql", "app"]
    executor: Literal["auto", "pg_cron", "oban"]
    schedules: tuple[TaskSchedule, ...]
    sql: str | None
    sql_origin: tuple[int, int, bool]  # where line 1 of the body is in the file; exact mapping?
    needs: tuple[str, ...]
    worker: str | None
    args: Mapping[str, Any] | None
    queue: str | None
    priority: int | None
    max_attempts: int | None
    enabled: bool
    timezone: str
    day_match: Literal["any", "all"] | None
    database: str | None
    spans: Mapping[str, Span]  # key positions, for diagnostics about a field

    def span(self, key: str) -> Span:
        return self.spans.get(key, Span(self.path, 1, 1))

    def body_span(self, line: int, col: int) -> Span:
        """A position inside the SQL body as a position in the spec file."""
        first_line, first_col, exact = self.sql_origin
        if not exact:
            return Span(self.path, first_line, first_col)
        return Span(self.path, first_line + line - 1, first_col + col - 1)


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "float_type": "a number",
}


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
    info = TaskSpec.model_fields[field]
    annotation = str(info.annotation)
    if field == "schedule":
        return "a string or a list of strings"
    for word, text in (
        ("list", "a list"),
        ("dict", "a mapping"),
        ("bool", "true or false"),
        ("int", "an integer"),
        ("str", "a string"),
        ("Literal", "one of the allowed words"),
    ):
        if word in annotation:
            return text
    return "another type"


def _schema_diagnostics(doc: Document, exc: ValidationError) -> list[Diagnostic]:
    diags: dict[Path, Diagnostic] = {}
    for err in exc.errors():
        loc = _real_loc(doc.data, tuple(err["loc"]))
        kind = err["type"]
        field = str(loc[0]) if loc else str(err["loc"][0]) if err["loc"] else ""
        if kind == "missing":
            name = str(err["loc"][0])
            diag = error(
                "S201",
                f"missing required key `{name}`: {TaskSpec.model_fields[name].description}",
                Span(doc.path, 1, 1),
            )
            loc = (name,)
        elif kind == "extra_forbidden":
            key = str(err["loc"][-1])
            close = difflib.get_close_matches(key, SPEC_FIELDS, n=1, cutoff=0.6)
            hint = (
                f"; did you mean `{close[0]}`?"
                if close
                else (f"; known keys: {', '.join(SPEC_FIELDS)}")
            )
            loc = tuple(err["loc"])
            diag = error("S202", f"unknown key `{key}`{hint}", doc.source.span(loc, key=True))
        elif kind in _TYPE_WORDS or (kind.endswith("_type") and loc in doc.source.scalars):
            diag = _type_error(doc, loc, field, kind)
        else:
            message = err["msg"]
            if kind == "literal_error":
                message = f"`{field}` {message[0].lower()}{message[1:]}"
            elif kind == "string_pattern_mismatch" and field == "name":
                message = (
                    "`name` must be lowercase letters, digits, `-` and `_`, starting "
                    "with a letter or digit"
                )
            elif kind == "string_pattern_mismatch":
                message = f"`{field}` has characters it cannot have: {message}"
            else:
                message = f"`{'.'.join(map(str, loc)) or field}`: {message}"
            diag = error("S204", message, doc.source.span(loc))
        previous = diags.get(loc)
        if previous is None or len(diag.message) < len(previous.message):
            diags[loc] = diag
    return list(diags.values())


def _type_error(doc: Document, loc: Path, field: str, kind: str) -> Diagnostic:
    scalar = doc.source.scalars.get(loc)
    expected = _expected(field) if len(loc) == 1 else _TYPE_WORDS.get(kind, "another type")
    where = "`" + ".".join(map(str, loc)) + "`"
    if scalar is not None:
        read = scalar.kind
        value_text = scalar.raw
        if scalar.tag == "tag:yaml.org,2002:int" and not value_text.lstrip("-").isdigit():
            read = f"an integer ({int(doc_value(doc, loc))})"
        fix = " quote it" if expected == "a string" or field == "schedule" else ""
        return error(
            "S203",
            f"{where} must be {expected}; YAML read `{value_text}` as {read}"
            + (f":{fix}" if fix else ""),
            doc.source.span(loc),
        )
    return error("S203", f"{where} must be {expected}", doc.source.span(loc))


def doc_value(doc: Document, loc: Path) -> Any:
    node: Any = doc.data
    for part in loc:
        node = node[part]
    return node


def _check_text(doc: Document, loc: Path, value: str, what: str) -> Diagnostic | None:
    match = _CONTROL.search(value)
    if match:
        return error(
            "S209",
            f"{what} contains an invisible or control character (U+{ord(match.group()):04X})",
            doc.source.span(loc),
        )
    return None


def _check_args(doc: Document, value: Any, loc: Path) -> list[Diagnostic]:
    if isinstance(value, float) and not math.isfinite(value):
        return [error("S204", "`args` values must be finite numbers", doc.source.span(loc))]
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            out.extend(_check_args(doc, item, (*loc, key)))
        return out
    if isinstance(value, list):
        return [d for i, item in enumerate(value) for d in _check_args(doc, item, (*loc, i))]
    if value is None or isinstance(value, bool | int | float | str):
        return []
    return [
        error(
            "S203",
            f"`args` holds {type(value).__name__}, which is not JSON; quote it",
            doc.source.span(loc),
        )
    ]


def validate(doc: Document, project_timezone: str) -> tuple[Task | None, list[Diagnostic]]:
    try:
        spec = TaskSpec.model_validate(doc.data)
    except ValidationError as exc:
        return None, _schema_diagnostics(doc, exc)
    diags: list[Diagnostic] = []
    span = doc.source.span
    stem = PurePosixPath(doc.path).stem
    if spec.name != stem:
        diags.append(
            error(
                "S205",
                f"`name: {spec.name}` differs from the file name `{stem}`; "
                "they must be equal (one task per file)",
                span(("name",)),
            )
        )
    if "\n" in spec.description.strip():
        diags.append(error("S209", "`description` must be one line", span(("description",))))
    elif bad := _check_text(doc, ("description",), spec.description, "`description`"):
        diags.append(bad)
    if spec.kind == "sql":
        if spec.sql is None or not spec.sql.strip():
            diags.append(error("S208", "`kind: sql` needs a `sql:` body", span(("kind",))))
        elif bad := _check_text(doc, ("sql",), spec.sql.replace("\t", " "), "`sql`"):
            diags.append(bad)
        for key in APP_ONLY_FIELDS:
            if key in doc.data and key != "worker":
                diags.append(
                    error(
                        "S207",
                        f"`{key}` applies to tasks run on Oban; a SQL task has no Oban job options",
                        span((key,), key=True),
                    )
                )
    else:
        for key in (*SQL_ONLY_FIELDS, "database"):
            if key in doc.data:
                diags.append(
                    error("S207", f"`{key}` applies to `kind: sql` only", span((key,), key=True))
                )
        if spec.worker is None:
            diags.append(
                error(
                    "S208", "`kind: app` needs `worker:` (the Oban worker module)", span(("kind",))
                )
            )
    if len(set(spec.needs)) != len(spec.needs):
        diags.append(error("S204", "`needs` lists a capability twice", span(("needs",))))
    if spec.args is not None:
        diags.extend(_check_args(doc, spec.args, ("args",)))
    zone_name = spec.timezone or project_timezone
    try:
        ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        where = span(("timezone",)) if spec.timezone else Span(doc.path, 1, 1)
        diags.append(
            error(
                "C306",
                f"unknown time zone `{zone_name}`; use an IANA name such as "
                "`UTC` or `Europe/Berlin`",
                where,
            )
        )
    schedules, schedule_diags = _schedules(doc, spec)
    diags.extend(schedule_diags)
    if any(d.is_error for d in diags):
        return None, diags
    sql = _normalize_body(spec.sql) if spec.sql is not None else None
    task = Task(
        name=spec.name,
        path=doc.path,
        description=spec.description.strip(),
        kind=spec.kind,
        executor=spec.executor,
        schedules=schedules,
        sql=sql,
        sql_origin=block_scalar_origin(doc, ("sql",)) if sql is not None else (1, 1, False),
        needs=tuple(sorted(spec.needs)),
        worker=spec.worker,
        args=spec.args,
        queue=spec.queue,
        priority=spec.priority,
        max_attempts=spec.max_attempts,
        enabled=spec.enabled,
        timezone=zone_name,
        day_match=spec.day_match,
        database=spec.database,
        spans={
            str(k[0]): Span(doc.path, *pos) for k, pos in doc.source.keys.items() if len(k) == 1
        },
    )
    return task, diags


def _normalize_body(body: str) -> str:
    """White space around the body removed, one final newline; inside it, nothing changes
    (a multi-line string literal keeps its trailing spaces)."""
    return body.strip() + "\n"


def _schedules(doc: Document, spec: TaskSpec) -> tuple[tuple[TaskSchedule, ...], list[Diagnostic]]:
    texts = [spec.schedule] if isinstance(spec.schedule, str) else list(spec.schedule)
    locs: list[Path] = (
        [("schedule",)]
        if isinstance(spec.schedule, str)
        else [("schedule", i) for i in range(len(texts))]
    )
    diags: list[Diagnostic] = []
    out: list[TaskSchedule] = []
    if not texts:
        return (), [
            error(
                "C301",
                "`schedule` is an empty list; give at least one schedule",
                doc.source.span(("schedule",)),
            )
        ]
    seen: dict[sched.Meaning, str] = {}
    for text, loc in zip(texts, locs, strict=True):
        start = doc.source.span(loc)
        scalar = doc.source.scalars.get(loc)
        quote = 1 if scalar is not None and scalar.style in {"'", '"'} else 0
        origin = Origin(doc.path, start.line, start.col + quote)
        parsed = sched.parse(text, spec.day_match, origin)
        if isinstance(parsed, Diagnostic):
            diags.append(parsed)
            continue
        key = parsed.meaning
        where = Span(doc.path, start.line, start.col + quote)
        if key in seen:
            diags.append(
                error("C308", f"`{text}` repeats `{seen[key]}`, which means the same", where)
            )
            continue
        seen[key] = text
        out.append(TaskSchedule(parsed, where))
    if (
        spec.day_match is not None
        and not diags
        and not any(s.schedule.form is not None and s.schedule.form.restricted_days for s in out)
    ):
        diags.append(
            warning(
                "C309",
                "`day_match` has no effect: no schedule of this task "
                "restricts both day-of-month and day-of-week",
                doc.source.span(("day_match",)),
            )
        )
    return tuple(out), diags
