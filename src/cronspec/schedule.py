"""The schedule language: parse, normalize, emit per executor, describe, and compute next runs.

cronspec owns the meaning of a schedule. Every schedule is parsed into a `Cron` whose fields are
explicit sets of values plus the one bit of syntax that changes meaning on pg_cron: whether a day
field starts with `*` (Vixie cron's rule, which pg_cron follows: when neither day field starts
with `*`, a day matches if *either* matches; Oban always needs *both*). Emission writes the text
each executor reads as exactly that meaning, and `reparse` checks it under the executor's own
rules before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

# ----------------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Target:
    """An executor at a version, with the syntax it accepts."""

    executor: Literal["pg_cron", "oban"]
    version: str

    @property
    def label(self) -> str:
        return f"pg_cron {self.version}" if self.executor == "pg_cron" else f"Oban {self.version}"

    @property
    def seconds(self) -> bool:
        return self.executor == "pg_cron" and self.version >= "1.5"

    @property
    def last_day(self) -> bool:
        return self.executor == "pg_cron" and self.version >= "1.6"

    @property
    def timezone_setting(self) -> bool:
        """pg_cron 1.4 accepts `cron.timezone` but ignores it: every job runs in GMT."""
        return self.executor == "oban" or self.version >= "1.5"

    @property
    def day_rule(self) -> Literal["vixie", "and"]:
        return "vixie" if self.executor == "pg_cron" else "and"


OBAN = Target("oban", "2.23")


def pg_cron(version: str) -> Target:
    return Target("pg_cron", version)


# ----------------------------------------------------------------------------------------------
# Model


@dataclass(frozen=True)
class FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] is the value low + i (months) or i (weekdays)


MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DOM = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec(
    "month", 1, 12,
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
)
DOW = FieldSpec("day-of-week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
FIELDS = (MINUTE, HOUR, DOM, MONTH, DOW)

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # leap years count

NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class Item:
    """One comma-separated part of a field: `*`, `*/S`, `A`, `A-B`, `A-B/S` or `A/S`."""

    start: int | None  # None for `*`
    end: int | None  # None for a single value or `A/S` (to the field's end)
    step: int | None
    open_end: bool = False  # `A/S`

    def values(self, spec: FieldSpec, high: int | None = None) -> list[int]:
        top = spec.high if high is None else high
        if self.start is None:
            lo, hi = spec.low, top
        elif self.open_end:
            lo, hi = self.start, top
        else:
            lo = self.start
            hi = self.start if self.end is None else self.end
        return list(range(lo, hi + 1, self.step or 1))


@dataclass(frozen=True)
class Cron:
    """A cron schedule as values: what it means, independent of how it was written."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    doms: tuple[int, ...]
    months: tuple[int, ...]
    dows: tuple[int, ...]  # 0-6, Sunday = 0
    dom_star: bool  # the day-of-month field starts with `*`
    dow_star: bool
    day_rule: Literal["all", "any"]  # how the two day fields combine
    last_dom: bool = False  # `$`: the last day of the month
    items: tuple[tuple[Item, ...], ...] = ()

    @property
    def restricted_days(self) -> bool:
        return not self.dom_star and not self.dow_star

    def day_matches(self, day: date) -> bool:
        if self.last_dom:
            dom_ok = (day + timedelta(days=1)).day == 1
        else:
            dom_ok = day.day in self.doms
        dow_ok = (day.isoweekday() % 7) in self.dows
        if self.day_rule == "any":
            return dom_ok or dow_ok
        return dom_ok and dow_ok


@dataclass(frozen=True)
class Seconds:
    every: int


@dataclass(frozen=True)
class Reboot:
    """The executor's own start: database server start (pg_cron), leader node start (Oban)."""


@dataclass(frozen=True)
class Startup:
    """cronspec's own trigger: once at every deploy."""


Meaning = Cron | Seconds | Reboot | Startup


@dataclass(frozen=True)
class Schedule:
    text: str  # as written in the spec
    meaning: Meaning


class ScheduleError(ValueError):
    """A schedule cronspec refuses, with the reason; `column` is 1-based inside the text."""

    def __init__(self, code: str, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.column = column


# ----------------------------------------------------------------------------------------------
# Parsing

_SECONDS = re.compile(r"^(\d+)\s+seconds?$")
_ITEM = re.compile(r"^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")


def _value(token: str, spec: FieldSpec, column: int) -> int:
    if token.isdigit():
        number = int(token)
        if not spec.low <= number <= spec.high:
            raise ScheduleError(
                "C302",
                f"{spec.name} value {number} is out of range {spec.low}-{spec.high}",
                column,
            )
        return number
    lowered = token.lower()
    if spec.names and lowered in spec.names:
        index = spec.names.index(lowered)
        return index + 1 if spec is MONTH else index
    if spec.names:
        raise ScheduleError(
            "C301",
            f"`{token}` is not a {spec.name} value: use {spec.low}-{spec.high} or a "
            f"three-letter name ({', '.join(spec.names[:3])}, ...)",
            column,
        )
    raise ScheduleError("C301", f"`{token}` is not a {spec.name} value ({spec.low}-{spec.high})",
                        column)


def _special(text: str, column: int, spec: FieldSpec) -> ScheduleError | None:
    checks = (
        ("#", "`#` (nth weekday of the month) is not supported by pg_cron (it silently drops "
              "`#N`) or Oban; list the days instead"),
        ("?", "`?` is Quartz syntax; write `*`"),
        (".", "decimal values are not cron syntax (pg_cron silently drops the fraction)"),
    )
    for char, message in checks:
        if char in text:
            return ScheduleError("C301", message, column + text.index(char))
    upper = text.upper()
    if upper in {"L", "W", "LW"} or re.fullmatch(r"\d+[LW]", upper) or upper.endswith("L"):
        hint = "; pg_cron 1.6 accepts `$` as the whole day-of-month field" if spec is DOM else ""
        return ScheduleError("C301", f"`{text}` (last/weekday markers L and W) is not supported "
                                     f"by pg_cron or Oban{hint}", column)
    if upper == "H" or upper.startswith("H("):
        return ScheduleError("C301", "`H` (hashed values) is Jenkins syntax, not cron", column)
    return None


def _parse_field(text: str, spec: FieldSpec, column: int) -> tuple[tuple[int, ...], tuple[Item, ...]]:
    special = _special(text, column, spec)
    if special:
        raise special
    values: set[int] = set()
    items: list[Item] = []
    offset = 0
    for part in text.split(","):
        col = column + offset
        offset += len(part) + 1
        if not part:
            raise ScheduleError("C301", f"empty list element in {spec.name} field `{text}`", col)
        match = _ITEM.match(part)
        if not match:
            raise ScheduleError("C301", f"`{part}` is not valid in the {spec.name} field", col)
        star, first, last, step_text = match.groups()
        step = int(step_text) if step_text is not None else None
        if step is not None and not 1 <= step <= spec.high:
            raise ScheduleError(
                "C302",
                f"step /{step} in `{part}` is outside 1-{spec.high} for the {spec.name} field "
                "(pg_cron 1.4 would accept it and never step, 1.6 rejects it)",
                col,
            )
        if star:
            item = Item(None, None, step)
        else:
            start = _value(first, spec, col)
            end = _value(last, spec, col) if last is not None else None
            if end is not None and end < start:
                raise ScheduleError(
                    "C302",
                    f"reversed range `{part}` in the {spec.name} field: pg_cron accepts it and "
                    f"never fires, Oban rejects it; write `{last}-{first}` or a list",
                    col,
                )
            open_end = step is not None and end is None
            item = Item(start, end, step, open_end)
        items.append(item)
        field_values = item.values(spec, 6 if spec is DOW and item.open_end else None)
        if spec is DOW:
            field_values = [v % 7 for v in field_values]
        values.update(field_values)
    return tuple(sorted(values)), tuple(items)


def _cron(text: str, day_match: Literal["any", "all"] | None, offset: int) -> Cron:
    fields = text.split()
    if len(fields) != 5:
        if len(fields) == 6:
            raise ScheduleError(
                "C301",
                "6 fields: cron has no seconds field here; pg_cron silently ignores the 6th "
                "field (`*/10 * * * * *` would run every 10 minutes) and Oban rejects it; use "
                "5 fields, or `N seconds` on pg_cron 1.5+",
                offset + 1,
            )
        raise ScheduleError(
            "C301",
            f"expected 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}",
            offset + 1,
        )
    columns = []
    position = 0
    for part in fields:
        position = text.index(part, position)
        columns.append(offset + position + 1)
        position += len(part)
    last_dom = fields[2] == "$"
    parsed = []
    for spec, part, column in zip(FIELDS, fields, columns, strict=True):
        if spec is DOM and last_dom:
            parsed.append((tuple(range(1, 32)), (Item(None, None, None),)))
            continue
        if "$" in part:
            raise ScheduleError("C301", "`$` (last day of the month) is allowed only as the whole "
                                        "day-of-month field, e.g. `0 12 $ * *`", column)
        parsed.append(_parse_field(part, spec, column))
    (minutes, m_items), (hours, h_items), (doms, d_items), (months, mo_items), (dows, w_items) = (
        parsed
    )
    dom_star = fields[2].startswith("*")
    dow_star = fields[4].startswith("*")
    if last_dom:
        dom_star = False
    if dom_star or dow_star:
        rule: Literal["all", "any"] = "all"
    elif day_match is None:
        raise ScheduleError(
            "C305",
            f"both day-of-month (`{fields[2]}`) and day-of-week (`{fields[4]}`) are restricted: "
            "pg_cron fires when either matches, Oban only when both do; say which you mean "
            "with `day_match: any` or `day_match: all`",
            columns[2],
        )
    else:
        rule = day_match
    cron = Cron(minutes, hours, doms, months, dows, dom_star, dow_star, rule, last_dom,
                (m_items, h_items, d_items, mo_items, w_items))
    if not _can_fire(cron):
        raise ScheduleError(
            "C304",
            f"`{text.strip()}` can never fire: no month in it has such a day",
            columns[2],
        )
    return cron


def _can_fire(cron: Cron) -> bool:
    if cron.last_dom:
        return True
    if cron.day_rule == "any" and cron.dows:
        return True
    return any(d <= DAYS_IN_MONTH[m - 1] for m in cron.months for d in cron.doms)


def parse(text: str, day_match: Literal["any", "all"] | None = None) -> Schedule:
    """Parse one schedule in cronspec's language (a superset of what each executor reads)."""
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    if not stripped:
        raise ScheduleError("C301", "empty schedule")
    if any(ord(c) < 32 and c not in " \t" for c in text):
        raise ScheduleError("C301", "schedule contains a control character (newline?)")
    if stripped.startswith("@"):
        return Schedule(text, _nickname(stripped, day_match, offset))
    seconds = _SECONDS.match(stripped)
    if seconds:
        every = int(seconds.group(1))
        if not 1 <= every <= 59 or not stripped.endswith("seconds"):
            raise ScheduleError("C302", "`N seconds` takes N from 1 to 59 (`30 seconds`); for "
                                        "longer intervals use cron fields", offset + 1)
        return Schedule(text, Seconds(every))
    return Schedule(text, _cron(stripped, day_match, offset))


def _nickname(text: str, day_match: Literal["any", "all"] | None, offset: int) -> Meaning:
    word, _, rest = text.partition(" ")
    if word.lower() == "@every":
        raise ScheduleError("C301", "`@every` is not cron syntax; write `*/N` in the minute "
                                    "field, or `N seconds` on pg_cron 1.5+", offset + 1)
    if rest.strip():
        raise ScheduleError("C301", f"unexpected text after `{word}`; pg_cron would silently "
                                    "ignore it", offset + len(word) + 2)
    if word == "@startup":
        return Startup()
    if word == "@reboot":
        return Reboot()
    if word in NICKNAMES:
        return _cron(NICKNAMES[word], day_match, 0)
    lower = word.lower()
    if lower in NICKNAMES or lower in {"@reboot", "@startup"}:
        raise ScheduleError("C301", f"`{word}`: nicknames are lowercase on pg_cron and Oban; "
                                    f"write `{lower}`", offset + 1)
    if lower == "@restart":
        raise ScheduleError("C303", "`@restart` is pg_cron-only; write `@reboot` (the "
                                    "executor's own start) or `@startup` (every deploy)",
                            offset + 1)
    raise ScheduleError(
        "C301",
        f"unknown nickname `{word}`; known: {', '.join(sorted(NICKNAMES))}, @reboot, @startup",
        offset + 1,
    )


# ----------------------------------------------------------------------------------------------
# Emission


def _render_item(item: Item, spec: FieldSpec, target: Target) -> str:
    step = f"/{item.step}" if item.step else ""
    if item.start is None:
        return "*" + step
    if item.open_end:  # `A/S` is Oban-only syntax: write the range out
        high = 6 if spec is DOW else spec.high
        return f"{item.start}-{high}{step}"
    if spec is DOW and (item.start == 7 or (item.end or 0) == 7):
        # weekday 7 is Sunday on pg_cron but rejected by Oban: write the values out
        values = sorted({v % 7 for v in item.values(spec)})
        return ",".join(str(v) for v in values)
    if item.end is None:
        return str(item.start)
    return f"{item.start}-{item.end}{step}"


def emit(schedule: Schedule, target: Target) -> str:
    """The text `target` reads as exactly what `schedule` means. Call `check_target` first."""
    meaning = schedule.meaning
    if isinstance(meaning, Seconds):
        return f"{meaning.every} seconds"
    if isinstance(meaning, Reboot):
        return "@reboot"
    if isinstance(meaning, Startup):
        raise ValueError("@startup is cronspec's own trigger, never emitted as a schedule")
    parts = []
    for spec, items in zip(FIELDS, meaning.items, strict=True):
        if spec is DOM and meaning.last_dom:
            parts.append("$")
            continue
        parts.append(",".join(_render_item(item, spec, target) for item in items))
    return " ".join(parts)


def check_target(schedule: Schedule, target: Target) -> ScheduleError | None:
    """Why `target` cannot run `schedule` as the spec means it, with what would work instead."""
    meaning = schedule.meaning
    where = target.label
    if isinstance(meaning, Seconds):
        if target.executor == "oban":
            return ScheduleError("C303", f"`{schedule.text.strip()}`: {where} has no seconds "
                                         "schedules (its finest grain is one minute); use `* * * "
                                         "* *` or run the task on pg_cron 1.5+")
        if not target.seconds:
            return ScheduleError("C303", f"`{schedule.text.strip()}`: {where} has no seconds "
                                         "schedules (added in pg_cron 1.5); set `[pg_cron] "
                                         "version = \"1.5\"` if the server runs it, or use `* * "
                                         "* * *`")
        return None
    if not isinstance(meaning, Cron):
        return None
    if meaning.last_dom and not target.last_day:
        return ScheduleError("C303", f"`$` (last day of the month) is not supported by {where} "
                                     "(pg_cron 1.6+ only); list the days, e.g. `28-31` with a "
                                     "check in the SQL, or target pg_cron 1.6")
    if meaning.restricted_days:
        native = "any" if target.day_rule == "vixie" else "all"
        if meaning.day_rule != native:
            alternative = ("run it on Oban (`executor: oban`)" if native == "any"
                           else "run it on pg_cron (`executor: pg_cron`)")
            rule_words = "either" if native == "any" else "both"
            return ScheduleError(
                "C305",
                f"`{schedule.text.strip()}` with day_match: {meaning.day_rule}: {where} fires "
                f"when {rule_words} of day-of-month and day-of-week match, and cronspec will not "
                f"emit a schedule that means something else; {alternative}, or restrict only "
                "one of the two day fields",
            )
    return None


def reparse(text: str, target: Target) -> Cron | Seconds | Reboot:
    """Read emitted text the way `target` does (the strict subset it is known to accept)."""
    if text == "@reboot":
        return Reboot()
    seconds = _SECONDS.match(text)
    if seconds:
        if not target.seconds:
            raise ScheduleError("C303", f"{target.label} rejects `{text}`")
        return Seconds(int(seconds.group(1)))
    fields = text.split(" ")
    if len(fields) != 5 or any(not f for f in fields):
        raise ScheduleError("C301", f"{target.label} would misread `{text}`")
    for spec, part in zip(FIELDS, fields, strict=True):
        for item in part.split(","):
            if spec is DOM and part == "$":
                if not target.last_day:
                    raise ScheduleError("C303", f"{target.label} rejects `$`")
                continue
            match = _ITEM.match(item)
            if not match or not all(t is None or t.isdigit() for t in match.groups()[1:3]):
                raise ScheduleError("C301", f"{target.label} would misread `{item}`")
            if match.group(4) and match.group(2) and not match.group(3):
                raise ScheduleError("C301", f"{target.label} rejects `{item}` (A/S)")
            if target.executor == "oban" and spec is DOW and "7" in re.split(r"[-/]", item)[:2]:
                raise ScheduleError("C301", f"{target.label} rejects weekday 7")
    star = fields[2].startswith("*") or fields[4].startswith("*")
    rule: Literal["all", "any"] = "all" if target.day_rule == "and" or star else "any"
    return _cron(text, rule, 0)


def same_meaning(a: Meaning, b: Meaning) -> bool:
    if isinstance(a, Cron) and isinstance(b, Cron):
        return (a.minutes, a.hours, a.months, a.last_dom) == (b.minutes, b.hours, b.months,
                                                              b.last_dom) and _same_days(a, b)
    return a == b


def _same_days(a: Cron, b: Cron) -> bool:
    if a.last_dom or b.last_dom:
        return (a.last_dom, a.dows, a.day_rule) == (b.last_dom, b.dows, b.day_rule)
    full_dom = tuple(range(1, 32))
    full_dow = tuple(range(7))

    def days(c: Cron) -> tuple[tuple[int, ...], tuple[int, ...], str]:
        if c.day_rule == "any" and (c.doms == full_dom or c.dows == full_dow):
            return full_dom, full_dow, "all"
        return c.doms, c.dows, c.day_rule

    return days(a) == days(b)


# ----------------------------------------------------------------------------------------------
# Words and next runs


def _list_words(values: tuple[int, ...], names: tuple[str, ...] | None = None) -> str:
    words = [names[v] if names else str(v) for v in values]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _step_of(items: tuple[Item, ...], spec: FieldSpec) -> int | None:
    if len(items) == 1 and items[0].start is None and items[0].step:
        return items[0].step
    return None


def _time_words(meaning: Cron) -> str:
    if len(meaning.minutes) == 1 and len(meaning.hours) <= 4:
        times = tuple(f"{h:02d}:{meaning.minutes[0]:02d}" for h in meaning.hours)
        return "at " + _list_words(tuple(range(len(times))), times)
    minute_step = _step_of(meaning.items[0], MINUTE)
    if len(meaning.minutes) == 60:
        minutes = "every minute"
    elif minute_step:
        minutes = f"every {minute_step} minutes"
    else:
        minutes = f"at minute {_list_words(meaning.minutes)}"
    hour_step = _step_of(meaning.items[1], HOUR)
    if len(meaning.hours) == 24:
        hours = "of every hour" if minutes.startswith("at") else ""
    elif hour_step:
        hours = f"every {hour_step} hours"
    else:
        hours = f"past hour {_list_words(meaning.hours)}"
    return f"{minutes} {hours}".strip()


def describe(schedule: Schedule) -> str:
    """The schedule in words, e.g. `at 07:00, on Sunday`."""
    meaning = schedule.meaning
    if isinstance(meaning, Startup):
        return "once at every deploy (@startup)"
    if isinstance(meaning, Reboot):
        return "when the executor starts (@reboot)"
    if isinstance(meaning, Seconds):
        return f"every {meaning.every} seconds"
    days = []
    if meaning.last_dom:
        days.append("on the last day of the month")
    elif len(meaning.doms) < 31:
        step = _step_of(meaning.items[2], DOM)
        days.append(f"on every {step}th day of the month from the 1st" if step
                    else f"on day {_list_words(meaning.doms)} of the month")
    if len(meaning.dows) < 7:
        days.append(f"on {_list_words(meaning.dows, DAY_NAMES)}")
    day_words = (" or " if meaning.day_rule == "any" else " and ").join(days) or "every day"
    month_words = ""
    if len(meaning.months) < 12:
        month_words = " in " + _list_words(tuple(m - 1 for m in meaning.months), MONTH_NAMES)
    return f"{_time_words(meaning)}, {day_words}{month_words}"


@dataclass(frozen=True)
class Run:
    local: datetime  # aware, in the schedule's zone
    note: str = ""  # daylight-saving remark, if any


MAX_SCAN_DAYS = 366 * 29  # Feb 29 on a given weekday recurs within 28 years


def next_runs(meaning: Meaning, start: datetime, zone: ZoneInfo, count: int,
              target: Target | None = None) -> list[Run]:
    """The first `count` runs strictly after `start` (aware), in wall-clock time of `zone`."""
    if not isinstance(meaning, Cron) or count <= 0:
        return []
    runs: list[Run] = []
    local_start = start.astimezone(zone).replace(second=0, microsecond=0)
    day = local_start.date()
    for _ in range(MAX_SCAN_DAYS):
        if day.month in meaning.months and meaning.day_matches(day):
            for run in _day_runs(meaning, day, zone, target):
                if run.local > start:
                    runs.append(run)
                    if len(runs) == count:
                        return runs
        day += timedelta(days=1)
    return runs


def _day_runs(meaning: Cron, day: date, zone: ZoneInfo, target: Target | None) -> Iterator[Run]:
    for hour in meaning.hours:
        for minute in meaning.minutes:
            naive = datetime(day.year, day.month, day.day, hour, minute)
            first = naive.replace(tzinfo=zone, fold=0)
            second = naive.replace(tzinfo=zone, fold=1)
            roundtrip = first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
            if roundtrip != naive:
                yield Run(first, _dst_note("skipped", target))
            elif first.utcoffset() != second.utcoffset():
                yield Run(first, _dst_note("repeated", target))
            else:
                yield Run(first)


def _dst_note(kind: str, target: Target | None) -> str:
    if target is None:
        return f"falls in the {kind} hour of a daylight-saving change"
    if target.executor == "oban":
        return ("this local time does not exist (clocks go forward): Oban skips this run"
                if kind == "skipped" else
                "this local time happens twice (clocks go back): Oban runs it twice")
    return ("this local time does not exist (clocks go forward): pg_cron runs it when the clock "
            "jumps past it" if kind == "skipped" else
            "this local time happens twice (clocks go back): pg_cron runs it once")


def zone_is_utc(zone: ZoneInfo) -> bool:
    return fixed_offset(zone) == timedelta(0)


def fixed_offset(zone: ZoneInfo) -> timedelta | None:
    """The zone's offset if it has one offset from 2020 through 2060 (no daylight saving)."""
    offsets = {
        datetime(year, month, 15, tzinfo=zone).utcoffset()
        for year in range(2020, 2061, 4) for month in (1, 4, 7, 10)
    }
    if len(offsets) == 1:
        (offset,) = offsets
        return offset
    return None


def shift_to_utc(schedule: Schedule, offset: timedelta) -> Schedule | None:
    """The same schedule in UTC for a fixed whole-hour offset, when the shift is exact.

    Exact when no hour crosses midnight, or when no day field, nor the month, is restricted.
    """
    meaning = schedule.meaning
    if not isinstance(meaning, Cron):
        return schedule
    hours_shift, rest = divmod(int(offset.total_seconds()), 3600)
    if rest:
        return None
    shifted = [h - hours_shift for h in meaning.hours]
    crosses = any(not 0 <= h <= 23 for h in shifted)
    days_free = meaning.dom_star and meaning.dow_star and len(meaning.doms) == 31 and len(
        meaning.dows) == 7 and len(meaning.months) == 12 and not meaning.last_dom
    if crosses and not days_free:
        return None
    hours = tuple(sorted({h % 24 for h in shifted}))
    items = list(meaning.items)
    items[1] = (tuple(Item(h, None, None) for h in hours) if len(hours) < 24
                else (Item(None, None, None),))
    moved = Cron(meaning.minutes, hours, meaning.doms, meaning.months, meaning.dows,
                 meaning.dom_star, meaning.dow_star, meaning.day_rule, meaning.last_dom,
                 tuple(items))
    return Schedule(schedule.text, moved)
