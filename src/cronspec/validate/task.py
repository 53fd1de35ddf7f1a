"""One spec document to a validated `model.Task`, or diagnostics that point into the YAML.

pydantic checks shapes and types (`schema.py` says its errors in YAML's terms); this module
checks the rules that span several fields, and `validate_all` the one that spans files.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from ..diagnostics import Diagnostic, Origin, error, position, printable
from ..load.source import Document, Path, text_origin
from ..model import JsonObject, ObanUnique, Task
from ..spec import APP_ONLY_FIELDS, RESERVED_META, SQL_ONLY_FIELDS, TaskSpec, UniqueSpec
from .policy import task_policy
from .schedules import task_schedules
from .schema import schema_diagnostics

# Control characters, line separators and invisible or bidirectional formatting characters
# ("Trojan Source"): they could make what a reviewer reads differ from what runs. By Unicode
# category (controls, format characters such as U+200D and U+00AD, separators, surrogates),
# plus the letters and marks that render as nothing.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
_VISIBLE_ASCII = re.compile(r"[\x20-\x7e\n\t]*")  # none of these is Cc, Cf, Zl, Zp or Cs


def validate_all(
    items: Iterable[Document | Diagnostic], project_timezone: str
) -> tuple[list[Task], list[Diagnostic]]:
    """Documents to tasks, in order; diagnostics of reading pass through. A task name defined
    by two files is an error at the second."""
    diags: list[Diagnostic] = []
    tasks: list[Task] = []
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, Diagnostic):
            diags.append(item)
            continue
        task, task_diags = validate(item, project_timezone)
        diags.extend(task_diags)
        if task is None:
            continue
        if task.name in seen:
            diags.append(
                error(
                    "S206",
                    f"task `{task.name}` is also defined in {seen[task.name]}",
                    task.span("name"),
                )
            )
            continue
        seen[task.name] = task.path
        tasks.append(task)
    return tasks, diags


def validate(doc: Document, project_timezone: str) -> tuple[Task | None, list[Diagnostic]]:
    """The task a document defines, or None; diagnostics either way (warnings with a task)."""
    try:
        spec = TaskSpec.model_validate(doc.data)
    except ValidationError as exc:
        return None, [*schema_diagnostics(doc, exc), *_schedules_anyway(doc, exc)]
    diags = [*_field_rules(doc, spec), *_kind_rules(doc, spec)]
    zone = spec.timezone if spec.timezone is not None else project_timezone
    if bad := _zone_problem(zone, project_timezone):
        diags.append(error("C306", bad, doc.source.span(("timezone",))))
    schedules, schedule_diags = task_schedules(doc, spec.schedule, spec.day_match)
    diags.extend(schedule_diags)
    policy, policy_diags = task_policy(doc, spec)
    diags.extend(policy_diags)
    if any(d.is_error for d in diags):
        return None, diags
    # white space around the body removed, one final newline; inside it nothing changes (a
    # multi-line string literal keeps its trailing spaces)
    sql = spec.sql.strip() + "\n" if spec.sql is not None else None
    task = Task(
        name=spec.name,
        path=doc.path,
        description=_lines(spec.description),
        kind=spec.kind,
        executor=spec.executor,
        schedules=schedules,
        sql=sql,
        sql_origin=text_origin(doc, ("sql",)) if sql is not None else Origin(doc.path),
        needs=tuple(sorted(spec.needs)),
        worker=spec.worker,
        args=JsonObject.of(spec.args) if spec.args is not None else None,
        queue=spec.queue,
        priority=spec.priority,
        max_attempts=spec.max_attempts,
        enabled=spec.enabled,
        timezone=zone,
        day_match=spec.day_match,
        database=spec.database,
        spans=tuple((str(k[0]), span) for k, span in doc.source.keys.items() if len(k) == 1),
        run_as=spec.run_as,
        reaches=tuple(sorted(spec.reaches)),
        policy=policy,
        tags=tuple(spec.tags or ()),
        meta=JsonObject.of(spec.meta) if spec.meta else None,
        unique=_unique(spec.unique),
    )
    return task, diags


def _unique(spec: UniqueSpec | None) -> ObanUnique | None:
    if spec is None:
        return None
    return ObanUnique(
        spec.period,
        tuple(spec.fields) if spec.fields is not None else None,
        tuple(spec.keys) if spec.keys is not None else None,
        tuple(spec.states) if spec.states is not None else None,
        spec.timestamp,
    )


def _field_rules(doc: Document, spec: TaskSpec) -> list[Diagnostic]:
    """Rules on one field that pydantic does not check: the name is the file's, the text is
    visible, `needs` has no repeats, `args` is JSON."""
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
    if bad := _check_text(doc, ("description",), spec.description, "`description`"):
        diags.append(bad)
    if len(set(spec.needs)) != len(spec.needs):
        diags.append(error("S204", "`needs` lists a capability twice", span(("needs",))))
    if len(set(spec.reaches)) != len(spec.reaches):
        diags.append(error("S204", "`reaches` lists a capability twice", span(("reaches",))))
    if spec.args is not None:
        diags.extend(_check_args(doc, spec.args, ("args",)))
    for name, value in (spec.settings or {}).items():
        if bad := _check_text(doc, ("settings", name), value, f"`settings.{name}`"):
            diags.append(bad)
    if spec.meta is not None:
        diags.extend(_check_args(doc, spec.meta, ("meta",)))
        diags.extend(_check_meta_keys(doc, spec.meta))
    diags.extend(_check_tags(doc, spec.tags or []))
    period = spec.unique.period if spec.unique else None
    if isinstance(period, int) and not 1 <= period <= 10**9:
        diags.append(
            error(
                "S204",
                f"`unique.period` is {period}: Oban takes a positive number of seconds (at most "
                "10^9 here) or `infinity`",
                doc.source.span(("unique", "period")),
            )
        )
    for i, key in enumerate(spec.unique.keys or [] if spec.unique else []):
        if key in ("nil", "true", "false"):  # Elixir reads `:nil` as nil, which Oban keys as ""
            diags.append(
                error(
                    "S204",
                    f"`unique.keys`: `{key}` is an Elixir literal, not a key name",
                    doc.source.span(("unique", "keys", i)),
                )
            )
    return diags


def _check_tags(doc: Document, tags: list[str]) -> list[Diagnostic]:
    """Tags as Oban stores them (it trims, lowercases and drops repeats): what the spec says
    is what `oban_jobs.tags` holds."""
    diags: list[Diagnostic] = []
    seen: set[str] = set()
    for i, tag in enumerate(tags):
        where = doc.source.span(("tags", i))
        stored = tag.strip().lower()
        if bad := _check_text(doc, ("tags", i), tag, "a tag"):
            diags.append(bad)
        elif stored != tag:
            diags.append(
                error("S204", f"Oban stores the tag `{tag}` as `{stored}`: write that", where)
            )
        elif tag in seen:
            diags.append(error("S204", f"the tag `{tag}` is listed twice", where))
        seen.add(stored)
    return diags


def _check_meta_keys(doc: Document, meta: dict[str, Any]) -> list[Diagnostic]:
    return [
        error(
            "S204",
            f"`meta.{key}` is "
            + (
                "Oban's own (the Cron plugin's mark of a scheduled job)"
                if key.startswith("cron") and not key.startswith("cronspec")
                else "cronspec's own (it names the task, and the deploy of a @startup job)"
            )
            + "; use another key",
            doc.source.span(("meta", key), key=True),
        )
        for key in meta
        if key in RESERVED_META or key.startswith("cronspec_")
    ]


def _kind_rules(doc: Document, spec: TaskSpec) -> list[Diagnostic]:
    """What each kind requires, and the keys that do not apply to it."""
    diags: list[Diagnostic] = []
    span = doc.source.span
    if spec.kind == "sql":
        if spec.sql is None or not spec.sql.strip():
            diags.append(error("S208", "`kind: sql` needs a `sql:` body", span(("kind",))))
        elif bad := _check_text(doc, ("sql",), spec.sql, "`sql`"):
            diags.append(bad)
        for key in APP_ONLY_FIELDS:
            if key in doc.data and key != "worker":  # a worker may run it on Oban
                diags.append(
                    error(
                        "S207",
                        f"`{key}` applies to tasks run on Oban; a SQL task has no Oban job options",
                        span((key,), key=True),
                    )
                )
        return diags
    for key in (*SQL_ONLY_FIELDS, "database"):
        if key in doc.data:
            diags.append(
                error("S207", f"`{key}` applies to `kind: sql` only", span((key,), key=True))
            )
    if spec.worker is None:
        diags.append(
            error("S208", "`kind: app` needs `worker:` (the Oban worker module)", span(("kind",)))
        )
    return diags


def _schedules_anyway(doc: Document, exc: ValidationError) -> list[Diagnostic]:
    """The schedules' own diagnostics when another key of the spec is refused, so that fixing
    that key does not reveal a second wave of errors."""
    refused = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    schedule, day_match = doc.data.get("schedule"), doc.data.get("day_match")
    if refused & {"schedule", "day_match"} or schedule is None:
        return []
    return task_schedules(doc, schedule, day_match)[1]


def _lines(text: str) -> str:
    """A description as the outputs show it: outer blank lines and trailing spaces dropped,
    its lines kept (a YAML block scalar makes several natural)."""
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def _zone_problem(zone: str, project_zone: str) -> str | None:
    """Why `zone` (a task's `timezone`) is not a zone, or None."""
    if not zone:
        return (
            "`timezone` is empty; write an IANA name such as `Europe/Berlin`, or remove the key "
            f"to use the project's zone (`{project_zone}`)"
        )
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return (
            f"unknown time zone `{printable(zone)}`; use an IANA name such as `UTC` or "
            "`Europe/Berlin`"
        )
    return None


def _check_text(doc: Document, loc: Path, value: str, what: str) -> Diagnostic | None:
    """S209 at the first invisible or control character (line breaks and tabs are text)."""
    if _VISIBLE_ASCII.fullmatch(value):  # the common case, without a lookup per character
        return None
    for offset, char in enumerate(value):
        if char in "\n\t" or (
            unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _INVISIBLE
        ):
            continue
        name = unicodedata.name(char, "")
        origin = text_origin(doc, loc)
        if origin.grid is not None:  # it maps the text as validation keeps it, stripped
            text, offset = value.strip(), max(offset - (len(value) - len(value.lstrip())), 0)
        else:
            text = value
        line, col = position(text, offset)
        return error(
            "S209",
            f"{what} contains an invisible or control character (U+{ord(char):04X}"
            + (f" {name}" if name else "")
            + "); remove it",
            origin.span(line, col, line, col + 1),
        )
    return None


def _nul(doc: Document, loc: Path, what: str) -> Diagnostic:
    return error(
        "S204",
        f"`{loc[0]}` {what}s cannot contain U+0000 (NUL): PostgreSQL's jsonb, where Oban stores "
        f"`{loc[0]}`, has no such character; remove it",
        doc.source.span(loc, key=what == "key"),
    )


def _check_args(doc: Document, value: Any, loc: Path) -> list[Diagnostic]:
    if isinstance(value, float) and not math.isfinite(value):
        return [error("S204", f"`{loc[0]}` values must be finite numbers", doc.source.span(loc))]
    if isinstance(value, dict):
        found = [d for key, item in value.items() for d in _check_args(doc, item, (*loc, key))]
        # PostgreSQL's jsonb, where Oban keeps args and meta, has no U+0000, in keys either
        nul_keys = [key for key in value if isinstance(key, str) and "\0" in key]
        return [_nul(doc, (*loc, key), "key") for key in nul_keys] + found
    if isinstance(value, list):
        return [d for i, item in enumerate(value) for d in _check_args(doc, item, (*loc, i))]
    if isinstance(value, str) and "\0" in value:
        return [_nul(doc, loc, "value")]
    if value is None or isinstance(value, bool | int | float | str):
        return []
    return [
        error(
            "S203",
            f"`{loc[0]}` holds {type(value).__name__}, which is not JSON; quote it",
            doc.source.span(loc),
        )
    ]
