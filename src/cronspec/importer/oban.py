"""Oban crontab entries (read from an Elixir config by real Elixir, `elixir.py`) to app specs.

Each literal entry `{expression, Worker}` or `{expression, Worker, opts}` of an
`Oban.Plugins.Cron` crontab becomes a `kind: app`, `executor: oban` spec with the worker and
the options cronspec has (`args`, `queue`, `priority`, `max_attempts`, `tags`, `meta`,
`unique`). The expression is read
the way Oban reads it (names in upper case only, weekdays 0-6, both day fields must match,
which the spec says as `day_match: all`) and kept as written when cronspec reads it alike.
Entries of one worker with the same options are one task with several schedules.

Listed with the reason, and not imported: entries that are not literals (function calls,
module attributes, variables: nothing is evaluated), expressions Oban rejects (its crontab
would not start) or cronspec refuses, options cronspec has no field for (`replace`,
`schedule_in`, ...: the spec would drop them), args and meta Oban cannot store as JSON, and
every entry when the crontab's zone is not the project's (Oban has one zone for the whole
crontab). An option's value the spec refuses is listed with the spec's own message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import schedule as sched
from ..diagnostics import Diagnostic
from ..model import Settings
from ..spec import MAX_NAME
from .crontab import Atom, CronPlugin, Located, MapLiteral, ObanCrontab
from .specs import Conversion, Listed, Written, compile_draft, first_error, render_exactly

# Oban's options cronspec has, in the spec's order
OPTIONS = ("args", "queue", "priority", "max_attempts", "tags", "meta", "unique")
_UNIQUE = ("period", "fields", "keys", "states", "timestamp")  # ObanUnique.options()' order
_NICKNAMES = {
    "@annually": "0 0 1 1 *",
    "@yearly": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@midnight": "0 0 * * *",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


# -- entries to specs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    where: Located
    expr: str
    worker: str
    options: tuple[tuple[str, Any], ...]  # in OPTIONS order; args as JSON data


def _json(value: Any) -> Any:
    """Args as Oban stores them (JSON: atoms as their names); ValueError when it cannot."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Atom):
        return value.name
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, MapLiteral):
        out: dict[str, Any] = {}
        for key, item in value.pairs:
            if not isinstance(key, str | Atom):
                raise ValueError("a map key that is not a string or an atom")
            name = key if isinstance(key, str) else key.name
            if name in out:
                raise ValueError(f"the key `{name}` twice")
            out[name] = _json(item)
        return out
    raise ValueError("a tuple, which JSON cannot hold")


def _option(key: str, value: Any) -> Any:
    if key in ("args", "meta"):
        if not isinstance(value, MapLiteral):
            raise ValueError(f"`{key}` is not a map")
        try:
            return _json(value)
        except ValueError as exc:
            raise ValueError(f"`{key}` hold {exc}; Oban stores {key} as JSON") from None
    if key == "tags":
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise ValueError("`tags` is not a list of strings")
        return value
    if key == "unique":
        return _unique(value)
    if key == "queue":
        if isinstance(value, Atom | str):
            return value.name if isinstance(value, Atom) else value
        raise ValueError("`queue` is not an atom or a string")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`{key}` is not an integer")
    return value


def _unique(value: Any) -> dict[str, Any]:
    """Oban's `unique: [period: 300, fields: [:worker], ...]` as the spec's mapping (atoms as
    their names); what the spec does not take is then the spec's error, listed."""
    if not isinstance(value, list) or not all(
        isinstance(o, tuple) and len(o) == 2 and isinstance(o[0], Atom) for o in value
    ):
        raise ValueError("`unique` is not a keyword list")
    out: dict[str, Any] = {}
    for key, item in value:
        try:
            out[key.name] = _json(item)
        except ValueError as exc:
            raise ValueError(f"`unique`'s `{key.name}` holds {exc}") from None
    return out


def _comparable(options: Iterable[tuple[str, Any]]) -> str:
    """Options as `ObanJob.opts` gives them (unique as ordered pairs), to compare."""
    out = dict(options)
    if isinstance(out.get("unique"), dict):
        unique = out["unique"]
        out["unique"] = [[k, unique[k]] for k in _UNIQUE if k in unique]
    return json.dumps(out, sort_keys=True)


def _entry(where: Located) -> _Entry | str:
    value = where.value
    shape = "it is not `{expression, Worker}` or `{expression, Worker, opts}`"
    if not isinstance(value, tuple) or len(value) not in (2, 3):
        return shape
    expr, worker = value[0], value[1]
    if not isinstance(expr, str):
        return "its cron expression is not a string"
    if not isinstance(worker, Atom) or not worker.name.startswith("Elixir."):
        return "its worker is not a module name"
    opts = value[2] if len(value) == 3 else []
    if not isinstance(opts, list) or not all(
        isinstance(o, tuple) and len(o) == 2 and isinstance(o[0], Atom) for o in opts
    ):
        return "its options are not a keyword list"
    given: dict[str, Any] = {}
    for key_atom, item in opts:
        key = key_atom.name
        if key in given:
            return f"it gives option `{key}` twice"
        if key not in OPTIONS:
            return (
                f"cronspec has no field for option `{key}` (it keeps {', '.join(OPTIONS)}), so "
                "the spec would drop it"
            )
        try:
            given[key] = _option(key, item)
        except ValueError as exc:
            return str(exc)
    for empty in ("args", "meta", "tags"):
        if given.get(empty) in ({}, []):
            del given[empty]  # the same job as none
    options = tuple((k, given[k]) for k in OPTIONS if k in given)
    return _Entry(where, expr, worker.name.removeprefix("Elixir."), options)


def _translate(field: str, names: tuple[str, ...], first: int) -> str:
    for number, name in enumerate(names, start=first):  # Oban: upper case only
        field = field.replace(name, str(number))
    return field


def _oban_reads(expr: str) -> sched.Meaning | str:
    """What Oban's parser makes of `expr`, or why it rejects it (v2.23.1's rules)."""
    if expr == "@reboot":
        return sched.Reboot()
    text = _NICKNAMES.get(expr, expr)
    parts = re.split(r"[ \t\n\r\f\v]+", text.strip(" \t\n\r\f\v"))
    if text.startswith("@") or len(parts) != 5:
        return f"Oban rejects `{expr}`"
    parts[3] = _translate(parts[3], _MONTHS, 1)
    parts[4] = _translate(parts[4], _DAYS, 0)
    read = sched.reparse(" ".join(parts), sched.OBAN)
    if isinstance(read, sched.Unreadable):
        if re.search("[a-z]", text):
            why = "it reads month and weekday names in upper case only"
        elif re.search(r"(^|[,-])7($|[,/-])", parts[4]):
            why = "its weekdays are 0-6; Sunday is 0"
        else:
            why = read.reason.replace("Oban 2.23 ", "")
        return f"Oban rejects `{expr}` ({why})"
    return read


def _schedule(expr: str) -> tuple[sched.Meaning, str | None] | str:
    """The meaning Oban gives `expr` and the `day_match` that says it, or why not imported."""
    oban = _oban_reads(expr)
    day_match = None
    parsed = sched.parse(expr)
    if isinstance(parsed, Diagnostic) and parsed.code == "C305":
        day_match = "all"  # Oban fires only when both day fields match
        parsed = sched.parse(expr, "all")
    if isinstance(parsed, Diagnostic):  # cronspec's reason says what each executor does
        return parsed.message
    if isinstance(oban, str):
        return f"{oban}, so its crontab never started: fix the entry first"
    if parsed.meaning != oban:
        return f"cronspec reads `{expr}` other than Oban does"
    return oban, day_match


def task_name(worker: str) -> str:
    """A task name from a worker module: `MyApp.Workers.DailyReport` -> `daily-report`."""
    last = worker.rsplit(".", 1)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", last).lower()
    name = re.sub(r"[^a-z0-9]+", "-", words).strip("-") or "job"
    return name[:MAX_NAME].rstrip("-")


def _zone_problem(plugin: CronPlugin, settings: Settings) -> str | None:
    zone = plugin.timezone
    if zone is None:
        tz = "Etc/UTC"  # Oban's default
    elif zone.not_literal is not None or not isinstance(zone.value, str):
        what = zone.not_literal or "not a string"
        return f"the crontab's `timezone` is not a literal ({what}), so its zone is unknown"
    else:
        tz = zone.value
    if sched.same_zone(tz, settings.timezone):
        return None
    return (
        f"the crontab runs in `{tz}` (its plugin's `timezone`) and this project's schedules "
        f"mean `{settings.timezone}`; Oban has one zone for the whole crontab: set "
        f'`timezone = "{tz}"` in cronspec.toml and import again'
    )


@dataclass
class _Task:
    entries: list[_Entry]
    day_match: str | None
    meanings: list[sched.Meaning]


def _where(path: str, item: Located) -> str:
    return f"{path}:{item.line}:{item.column}"


def _draft(name: str, task: _Task, path: str) -> list[tuple[str, Any]]:
    first = task.entries[0]
    lines = [str(e.where.line) for e in task.entries]
    at = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(lines)}"
    schedules = [e.expr for e in task.entries]
    draft: list[tuple[str, Any]] = [
        ("name", name),
        ("description", f"Imported from the Oban crontab in {path}, {at}."),
        ("kind", "app"),
        ("schedule", schedules[0] if len(schedules) == 1 else schedules),
        ("executor", "oban"),
        ("worker", first.worker),
        *first.options,
    ]
    if task.day_match is not None:
        draft.append(("day_match", task.day_match))
    return draft


def _convert(name: str, task: _Task, path: str, folder: str, settings: Settings) -> Written | str:
    spec_path = f"{folder}/{name}.yaml"
    text = render_exactly(spec_path, _draft(name, task, path))
    plan, diags = compile_draft(spec_path, text, settings)
    if plan is None:
        return first_error(diags)
    want = _comparable(task.entries[0].options)
    jobs = plan.oban_jobs
    if len(jobs) != len(task.entries) or any(_comparable(j.opts) != want for j in jobs):
        return "cronspec would change its options"
    sources = ", ".join(f"{_where(path, e.where)} ({e.worker})" for e in task.entries)
    return Written(name, text, sources)


def from_oban(
    crontab: ObanCrontab,
    settings: Settings,
    *,
    folder: str,
    existing: Mapping[str, str] | None = None,
    force: bool = False,
) -> Conversion:
    """App specs for the crontab's literal entries, to be written in `folder`.

    `existing` maps task names the folder has specs for to their file names (see
    `from_pg_cron`).
    """
    path = crontab.path
    if not any(p.crontab is not None for p in crontab.plugins):
        return Conversion(error=f"{path}: no `{{Oban.Plugins.Cron, crontab: [...]}}` in the file")
    listed: list[tuple[Located, Listed]] = []
    tasks: dict[str, list[_Task]] = {}  # by worker and options
    for plugin in crontab.plugins:
        if plugin.crontab is None:
            continue
        if plugin.crontab.not_literal is not None:
            listed.append(
                (
                    plugin.crontab,
                    Listed(
                        _where(path, plugin.crontab),
                        f"the crontab is not a literal list ({plugin.crontab.not_literal}): "
                        "cronspec evaluates nothing, and imports none of it",
                    ),
                )
            )
            continue
        zone = _zone_problem(plugin, settings)
        for item in plugin.entries:
            where = _where(path, item)
            if item.not_literal is not None:
                listed.append((item, Listed(where, f"not a literal ({item.not_literal})")))
                continue
            entry = _entry(item)
            if isinstance(entry, str):
                listed.append((item, Listed(where, entry)))
                continue
            where = f"{where} ({entry.worker})"
            read = _schedule(entry.expr) if zone is None else zone
            if isinstance(read, str):
                listed.append((item, Listed(where, read)))
                continue
            meaning, day_match = read
            key = json.dumps([entry.worker, entry.options], sort_keys=True)
            for task in tasks.setdefault(key, []):
                if meaning not in task.meanings:  # a repeated schedule is a task of its own
                    task.entries.append(entry)
                    task.meanings.append(meaning)
                    task.day_match = task.day_match or day_match
                    break
            else:
                tasks[key].append(_Task([entry], day_match, [meaning]))
    return _write_out(tasks.values(), listed, path, folder, settings, existing or {}, force)


def _write_out(
    groups: Iterable[list[_Task]],
    listed: list[tuple[Located, Listed]],
    path: str,
    folder: str,
    settings: Settings,
    existing: Mapping[str, str],
    force: bool,
) -> Conversion:
    specs: list[Written] = []
    used: set[str] = set()
    ordered = sorted(
        (t for group in groups for t in group),
        key=lambda t: (t.entries[0].where.line, t.entries[0].where.column),
    )
    for task in ordered:
        base = task_name(task.entries[0].worker)
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base[: MAX_NAME - len(str(n)) - 1]}-{n}"
        used.add(name)
        filename = existing.get(name)
        problem: str | None = None
        if filename is not None and (not force or not filename.endswith(".yaml")):
            problem = (
                f"{folder}/{filename} exists; --force replaces it"
                if filename.endswith(".yaml")
                else f"{folder}/{filename} defines task `{name}`"
            )
        result = _convert(name, task, path, folder, settings) if problem is None else problem
        if isinstance(result, Written):
            specs.append(result)
        else:
            listed.extend(
                (e.where, Listed(f"{_where(path, e.where)} ({e.worker})", result))
                for e in task.entries
            )
    ordered_listed = sorted(listed, key=lambda pair: (pair[0].line, pair[0].column))
    return Conversion(tuple(specs), tuple(item for _, item in ordered_listed), ())
