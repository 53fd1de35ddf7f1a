"""A schedule compiled for an executor: checked, moved to the executor's zone, written, read
back the way the executor reads it, and compared, in one call (`compile_schedule`).

The text written is the same for every target that accepts the schedule: numbers only (Oban
reads names in uppercase only), weekday 7 written as 0, `A/S` as `A-top/S`, single spaces, and
each day field keeping whether it starts with `*` (on pg_cron that decides the day rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from ..diagnostics import Diagnostic, Span, error
from .model import (
    ALL_DOMS,
    ALL_DOWS,
    DAYS_IN_MONTH,
    DOM,
    DOW,
    FIELDS,
    Cron,
    CronForm,
    FieldSpec,
    Item,
    Reboot,
    Schedule,
    Seconds,
    Startup,
    Target,
    consecutive,
)
from .zones import fixed_offset, same_zone, shift_to_utc


@dataclass(frozen=True)
class Emitted:
    """What an executor gets for a schedule: the text, and the schedule it runs (the spec's,
    moved to UTC where pg_cron 1.4 needs it)."""

    text: str
    runs_as: Schedule


@dataclass(frozen=True)
class Unreadable:
    """Text an executor rejects or reads as something else, and why."""

    reason: str


def compile_schedule(
    schedule: Schedule, target: Target, *, zone: str, project_zone: str, at: Span
) -> Emitted | Diagnostic:
    """`schedule`, meant in `zone`, as `target` must be given it, or why it cannot be.

    Refusals are diagnostics at `at`, the schedule's place in its spec. Text that does not
    read back as the schedule's meaning is a cronspec bug (AssertionError).
    """
    problem = check_target(schedule, target, at)
    if problem is not None:
        return problem
    runs_as = schedule
    if not same_zone(zone, target.zone(project_zone)):
        refusal = zone_refusal(target, zone, project_zone)
        if refusal is None:  # pg_cron 1.4 in a fixed-offset zone: shift to UTC when exact
            offset = fixed_offset(ZoneInfo(zone))
            moved = shift_to_utc(schedule, offset) if offset is not None else None
            if moved is None:
                refusal = _gmt_refusal(target, zone, fixed=offset is not None)
            else:
                runs_as = moved
        if refusal is not None:
            return error("C306", refusal, at)
    text = emit(runs_as)
    read = reparse(text, target)
    if read != runs_as.meaning:
        raise AssertionError(
            f"bug: emitted `{text}` means something else on {target.label} than `{schedule.text}`"
        )
    return Emitted(text, runs_as)


def zone_refusal(target: Target, zone: str, project_zone: str) -> str | None:
    """Why `target`, which runs in one zone, cannot run a task meant in another; None where it
    can (the same zone, or pg_cron 1.4, whose GMT a fixed-offset schedule may be shifted to)."""
    if same_zone(zone, target.zone(project_zone)) or not target.timezone_setting:
        return None
    if target.executor == "oban":
        return (
            f"Oban's cron zone is plugin-wide (the project's `{project_zone}`); this task asks "
            f"for `{zone}`; drop its `timezone`"
        )
    return (
        f"pg_cron runs every job in one zone (`cron.timezone`, the project's `{project_zone}`); "
        f"this task asks for `{zone}`; drop its `timezone` or run it on Oban"
    )


def _gmt_refusal(target: Target, zone: str, *, fixed: bool) -> str:
    if not fixed:
        return (
            f"{target.label} ignores `cron.timezone` and runs every job in GMT, and `{zone}` "
            "has daylight-saving changes, so no UTC schedule means the same all year; use UTC "
            'times, or set `[pg_cron] version = "1.5"` (or later) if the server runs it'
        )
    return (
        f"{target.label} runs every job in GMT, and this schedule in `{zone}` cannot be written "
        "exactly in UTC cron fields (its times move across midnight onto other days, or to "
        "minutes the fields cannot list); write it in UTC"
    )


def check_target(schedule: Schedule, target: Target, at: Span | None = None) -> Diagnostic | None:
    """Why `target` cannot run `schedule` as the spec means it, with what would work instead.

    The diagnostic is at `at`, the schedule's place in its spec (by default, `<schedule>`).
    """
    at = at or Span("<schedule>")
    meaning = schedule.meaning
    where = target.label
    shown = schedule.text.strip(" \t")
    if isinstance(meaning, Reboot) and shown == "@restart" and target.executor == "oban":
        return error(
            "C303",
            f"`@restart` is pg_cron's name for `@reboot` (the database server's start); {where} "
            "rejects it; write `@reboot` (a node becoming Oban's leader) or `@startup` (every "
            "deploy), or run the task on pg_cron",
            at,
        )
    if isinstance(meaning, Seconds):
        if target.executor == "oban":
            return error(
                "C303",
                f"`{shown}`: {where} has no seconds schedules (its finest grain is one minute); "
                "use `* * * * *` or run the task on pg_cron 1.5+",
                at,
            )
        if not target.seconds:
            return error(
                "C303",
                f"`{shown}`: {where} has no seconds schedules (added in pg_cron 1.5); set "
                '`[pg_cron] version = "1.5"` if the server runs it, or use `* * * * *`',
                at,
            )
        return None
    form = schedule.form
    if form is None:
        return None
    if form.last_dom and not target.last_day:
        if target.executor == "oban":
            return error(
                "C303",
                f"`{shown}`: {where} has no last-day-of-month syntax (`$` is pg_cron 1.6+); run "
                "the task on pg_cron 1.6, or schedule days `28-31` and have the worker skip "
                "days that are not the last",
                at,
            )
        return error(
            "C303",
            f"`{shown}`: {where} has no `$` (last day of the month, added in pg_cron 1.6); set "
            '`[pg_cron] version = "1.6"` if the server runs it, or schedule days `28-31` and '
            "test for the last day in the SQL",
            at,
        )
    native = "any" if target.day_rule == "vixie" else "all"
    if form.restricted_days and form.day_rule != native:
        alternative = (
            "run it on Oban (`executor: oban`)"
            if native == "any"
            else "run it on pg_cron (`executor: pg_cron`)"
        )
        rule_words = "either" if native == "any" else "both"
        same = _without_day_question(form)
        hint = f"; the same schedule without the question is `{same}`" if same else ""
        return error(
            "C305",
            f"`{shown}` with day_match: {form.day_rule}: {where} fires when {rule_words} of "
            "day-of-month and day-of-week match, and cronspec will not emit a schedule that "
            f"means something else; {alternative}, or restrict only one of the two day "
            f"fields{hint}",
            at,
        )
    return None


def emit(schedule: Schedule) -> str:
    """The text every executor that accepts `schedule` reads as exactly what it means
    (check it with `check_target` first: this does not)."""
    meaning = schedule.meaning
    if isinstance(meaning, Seconds):
        return f"{meaning.every} seconds"
    if isinstance(meaning, Reboot):
        return "@reboot"
    if isinstance(meaning, Startup) or schedule.form is None:
        raise ValueError("@startup is cronspec's own trigger, never emitted as a schedule")
    form = schedule.form
    return " ".join(
        "$" if (spec is DOM and form.last_dom) else _render_field(items, spec)
        for spec, items in zip(FIELDS, form.items, strict=True)
    )


def _render_values(values: list[int] | tuple[int, ...]) -> str:
    parts: list[str] = []
    for a, b in consecutive(values):
        if b - a >= 2:
            parts.append(f"{a}-{b}")
        else:
            parts.extend(str(v) for v in range(a, b + 1))
    return ",".join(parts)


def _render_item(item: Item, spec: FieldSpec) -> str:
    step = f"/{item.step}" if item.step else ""
    if item.start is None:
        # `*/S` keeps its `*` (it decides the day rule on pg_cron). On weekdays pg_cron steps
        # over 0-7 and Oban over 0-6: the value sets differ only by 7, which is Sunday = 0.
        return "*" + step
    if spec.top < spec.high and (item.start > spec.top or (item.end or 0) > spec.top):
        # weekday 7 is Sunday on pg_cron but rejected by Oban: write the values out
        return _render_values(item.meaning(spec))
    if item.open_end:  # `A/S` is rejected by pg_cron: write the range out
        if item.start == spec.top:
            return str(item.start)
        return f"{item.start}-{spec.top}{step}"
    if item.end is None or item.end == item.start:
        return str(item.start)
    return f"{item.start}-{item.end}{step}"


def _render_field(items: tuple[Item, ...], spec: FieldSpec) -> str:
    values = {v for item in items for v in item.meaning(spec)}
    if len(items) > 1 and values == set(range(spec.low, spec.top + 1)):
        # a list that covers the field (`10,*`): one item, keeping whether it starts with `*`
        # (on pg_cron that decides the day rule)
        return "*" if items[0].start is None or spec not in (DOM, DOW) else f"{spec.low}-{spec.top}"
    rendered: list[str] = []
    for item in items:
        text = _render_item(item, spec)
        if text not in rendered:
            rendered.append(text)
    return ",".join(rendered)


def _without_day_question(form: CronForm) -> str | None:
    """When one day field covers everything, the same schedule without the day rule question."""
    if form.last_dom:
        return None
    fields = [_render_field(items, spec) for spec, items in zip(FIELDS, form.items, strict=True)]
    every_dom, every_dow = form.values(DOM) == ALL_DOMS, form.values(DOW) == ALL_DOWS
    if form.day_rule == "any" and (every_dom or every_dow):
        fields[2] = fields[4] = "*"
    elif form.day_rule == "all" and every_dom:
        fields[2] = "*"
    elif form.day_rule == "all" and every_dow:
        fields[4] = "*"
    else:
        return None
    return " ".join(fields)


_STRICT_ITEM = re.compile(r"^(\*|[0-9]+(?:-[0-9]+)?)(?:/([0-9]+))?$")


@lru_cache(maxsize=4096)  # many tasks share a schedule: the same text reads the same
def reparse(text: str, target: Target) -> Cron | Seconds | Reboot | Unreadable:
    """Read emitted text the way `target` does (the strict subset it is known to accept)."""
    if text == "@reboot":
        return Reboot()
    seconds = re.fullmatch(r"([1-9][0-9]?) seconds", text)
    if seconds:
        if not target.seconds or int(seconds.group(1)) > 59:
            return Unreadable(f"{target.label} rejects `{text}`")
        return Seconds(int(seconds.group(1)))
    fields = text.split(" ")
    if len(fields) != 5 or any(not f for f in fields):
        return Unreadable(f"{target.label} would misread `{text}`")
    last_dom = fields[2] == "$"
    if last_dom and not target.last_day:
        return Unreadable(f"{target.label} rejects `$`")
    read: list[tuple[int, ...]] = []
    for spec, part in zip(FIELDS, fields, strict=True):
        if spec is DOM and last_dom:
            read.append(ALL_DOMS)
            continue
        values = _read_field(part, spec, target)
        if isinstance(values, Unreadable):
            return values
        read.append(values)
    starred = fields[2].startswith("*") or fields[4].startswith("*")
    rule: Literal["all", "any"] = "all" if target.day_rule == "and" or starred else "any"
    # Oban 2.23: unless either field is `*`, some day of the one must exist in the other
    exists = any(d <= DAYS_IN_MONTH[m - 1] for m in read[3] for d in read[2])
    if target.checks_dates and "*" not in (fields[2], fields[3]) and not exists:
        return Unreadable(f"{target.label} rejects `{text}`: no such day in these months")
    return Cron(read[0], read[1], read[2], read[3], read[4], rule, last_dom)


def _read_field(part: str, spec: FieldSpec, target: Target) -> tuple[int, ...] | Unreadable:
    """One emitted field read the way `target`'s own parser reads it (digits only)."""
    oban = target.executor == "oban"
    high = spec.top if oban else spec.high  # Oban reads weekdays 0-6, pg_cron 0-7
    values: set[int] = set()
    for item in part.split(","):
        match = _STRICT_ITEM.match(item)
        if not match:
            return Unreadable(f"{target.label} would misread `{item}`")
        head, step_text = match.groups()
        step = 1
        if step_text is not None:
            if oban and not re.fullmatch(r"[1-9][0-9]?", step_text):
                return Unreadable(f"{target.label} rejects the step in `{item}`")
            step = int(step_text)
            if not oban and not 1 <= step <= spec.max_step:
                return Unreadable(f"{target.label} rejects or misreads `{item}`")
        if head == "*":
            lo, hi = spec.low, high
        elif "-" in head:
            lo, hi = (int(v) for v in head.split("-"))
        elif step_text is not None:
            if not oban:
                return Unreadable(f"{target.label} rejects `{item}` (A/S)")
            lo, hi = int(head), high
        else:
            lo = hi = int(head)
        if hi < lo:
            return Unreadable(f"{target.label} rejects or never runs `{item}`")
        stepped = range(lo, hi + 1, step)
        # Oban 2.18 checks the values a range steps to, 2.23 (and pg_cron) the range's ends
        ends = (stepped[0], stepped[-1]) if oban and not target.checks_dates else (lo, hi)
        if not all(spec.low <= v <= high for v in ends):
            return Unreadable(f"{target.label} rejects `{item}`")
        values.update(stepped)
    return tuple(sorted({spec.fold(v) for v in values}))
