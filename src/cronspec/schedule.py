"""The schedule language: parse, normalize, emit per executor, describe, and compute next runs.

cronspec owns the meaning of a schedule. Every schedule is parsed into a `Cron` whose fields are
explicit sets of values plus the one bit of syntax that changes meaning on pg_cron: whether a day
field starts with `*` (Vixie cron's rule, which pg_cron follows: when neither day field starts
with `*`, a day matches if *either* matches; Oban always needs *both*). Emission writes the text
each executor reads as exactly that meaning, and `reparse` reads it back under the executor's own
rules before anything is written.

Sources for the executor behaviour encoded here (read, not guessed):

- pg_cron's parser is Vixie cron's `entry.c` (citusdata/pg_cron src/entry.c): `*` spans
  `FIRST_x..LAST_x` with weekdays 0-7, names are compared with strcasecmp, `A/S` is rejected,
  `DOM_STAR`/`DOW_STAR` are set when a field's first character is `*`, and from 1.6 a lone `$`
  sets `DOM_LAST`.
- pg_cron's launcher (src/pg_cron.c, `StartAllPendingRuns`/`StartPendingRuns`/`ShouldRunTask`)
  walks absolute minutes (`TimestampTz`) and converts each one to wall-clock time:
  `gmtime()` up to 1.4, `pg_localtime(..., pg_tzset(cron_timezone))` from 1.5. Its clock-jump
  branches compare absolute timestamps, so a daylight-saving change is not a "jump": a local
  time that does not exist is never matched (the run is skipped) and a local time that happens
  twice is matched twice (the job runs twice). `$` is decided as "24 hours later it is the
  1st" (`tomorrowTime_t = currentTime + USECS_PER_DAY`), which is off by one hour's worth of
  minutes on a month-end daylight-saving day. (Read in pg_cron 1.6.2 as vendored by
  yugabyte/yugabyte-db, src/postgres/third-party-extensions/pg_cron/src/pg_cron.c.)
- Oban's Cron plugin (oban-bg/oban lib/oban/plugins/cron.ex, `insert_scheduled_jobs`) wakes once
  a minute, takes `DateTime.now(timezone)` and inserts every entry for which
  `Oban.Cron.Expression.now?/2` holds (all five fields must match, so the day fields AND).
  Same consequence: a skipped local time never matches, a repeated one matches twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

# ----------------------------------------------------------------------------------------------
# Targets

EVERYWHERE = "pg_cron 1.4-1.6 and Oban 2.23"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


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
        return self.executor == "pg_cron" and _version(self.version) >= (1, 5)

    @property
    def last_day(self) -> bool:
        return self.executor == "pg_cron" and _version(self.version) >= (1, 6)

    @property
    def timezone_setting(self) -> bool:
        """pg_cron 1.4 accepts `cron.timezone` but ignores it: every job runs in GMT."""
        return self.executor == "oban" or _version(self.version) >= (1, 5)

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

    @property
    def max_step(self) -> int:
        """The largest step that still steps (pg_cron 1.6.5+ rejects larger ones)."""
        return self.high - self.low


MINUTE = FieldSpec("minute", 0, 59)
HOUR = FieldSpec("hour", 0, 23)
DOM = FieldSpec("day-of-month", 1, 31)
MONTH = FieldSpec(
    "month",
    1,
    12,
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
)
DOW = FieldSpec("day-of-week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
FIELDS = (MINUTE, HOUR, DOM, MONTH, DOW)

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # leap years count
ALL_DOMS = tuple(range(1, 32))
ALL_DOWS = tuple(range(7))

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


def _item_values(item: Item, spec: FieldSpec) -> list[int]:
    """What an item means in cronspec's language (weekday 7 folded onto 0)."""
    if spec is DOW:
        # `A/S` runs to Saturday, as in Oban (pg_cron has no `A/S`); `*` and ranges may name 7.
        values = item.values(spec, 6 if item.open_end else None)
        return sorted({v % 7 for v in values})
    return item.values(spec)


@dataclass(frozen=True, eq=False)
class Cron:
    """A cron schedule as values: what it means, independent of how it was written.

    Equality and hashing compare meaning only (two spellings of one schedule are equal).
    """

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    doms: tuple[int, ...]
    months: tuple[int, ...]
    dows: tuple[int, ...]  # 0-6, Sunday = 0
    dom_star: bool  # the day-of-month field starts with `*`
    dow_star: bool
    day_rule: Literal["all", "any"]  # how the two day fields combine
    last_dom: bool = False  # `$`: the last day of the month
    items: tuple[tuple[Item, ...], ...] = field(default=())

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

    def _key(self) -> tuple[object, ...]:
        doms: tuple[int, ...] = () if self.last_dom else self.doms
        dows, rule, last = self.dows, self.day_rule, self.last_dom
        every_dom = not last and doms == ALL_DOMS
        if rule == "any" and (every_dom or dows == ALL_DOWS):
            doms, dows, rule, last = ALL_DOMS, ALL_DOWS, "all", False
        return (self.minutes, self.hours, self.months, doms, dows, rule, last)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cron):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


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

_SECONDS = re.compile(r"^([0-9]+)[ \t]+seconds?$")
_SECONDS_LOOSE = re.compile(r"^[0-9]+[ \t]*(?i:s|secs?|seconds?)$")
_ITEM = re.compile(r"^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")
_LAST_WEEKDAY = re.compile(r"^(?:L|LW|W|L-[0-9]+|[0-9]+[LW]|[A-Za-z]{3}L)$", re.IGNORECASE)
_BLANKS = re.compile(r"[ \t]+")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _value(token: str, spec: FieldSpec, column: int) -> int:
    if token.isascii() and token.isdigit():
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
            f"three-letter name ({', '.join(spec.names[:3])}, ...), as {EVERYWHERE} read them",
            column,
        )
    raise ScheduleError(
        "C301", f"`{token}` is not a {spec.name} value ({spec.low}-{spec.high})", column
    )


def _special(part: str, column: int, spec: FieldSpec) -> ScheduleError | None:
    """Syntax other crons have and these executors reject or, worse, silently misread."""
    checks = (
        (
            "#",
            "`#` (nth weekday of the month) is not supported: pg_cron 1.4-1.6 silently drops "
            "`#N` (`1#2` runs every Monday) and Oban 2.23 rejects it; for the 2nd Monday write "
            "`8-14` as the day of month and `1` as the weekday with `day_match: all` (Oban), "
            "or schedule Mondays and test the date in the SQL (pg_cron)",
        ),
        ("?", f"`?` is Quartz syntax that {EVERYWHERE} reject; write `*`"),
        (
            ".",
            "decimal values are not cron syntax: pg_cron 1.4-1.6 silently drops the fraction "
            "(`5.5` runs as `5`) and Oban 2.23 rejects it; write a whole number",
        ),
        (
            "$",
            "`$` (last day of the month) is allowed only as the whole day-of-month field, "
            "e.g. `0 12 $ * *`, and only on pg_cron 1.6+",
        ),
    )
    for char, message in checks:
        if char in part:
            return ScheduleError("C301", message, column + part.index(char))
    if _LAST_WEEKDAY.match(part):
        hint = (
            "; for the last day of the month pg_cron 1.6+ reads `$` as the whole "
            "day-of-month field (`0 12 $ * *`)"
            if spec is DOM
            else "; list the days instead"
        )
        return ScheduleError(
            "C301",
            f"`{part}`: the last/weekday markers `L` and `W` are not "
            f"supported by {EVERYWHERE}{hint}",
            column,
        )
    if part.upper() == "H" or part.upper().startswith("H("):
        return ScheduleError(
            "C301",
            f"`H` (hashed values) is Jenkins syntax that {EVERYWHERE} reject; pick a fixed value",
            column,
        )
    return None


def _parse_item(part: str, spec: FieldSpec, col: int) -> Item:
    match = _ITEM.match(part)
    if not match:
        raise ScheduleError("C301", f"`{part}` is not valid in the {spec.name} field", col)
    star, first, last, step_text = match.groups()
    step = int(step_text) if step_text is not None else None
    if step is not None and not 1 <= step <= spec.max_step:
        at = part.index("/") + 1
        if step == 0:
            raise ScheduleError(
                "C302",
                f"step /0 in `{part}` never advances; {EVERYWHERE} "
                "reject it; write a step of 1 or more",
                col + at,
            )
        first_value = spec.low if star else _value(first, spec, col)
        raise ScheduleError(
            "C302",
            f"step /{step} in `{part}` is larger than the {spec.name} field allows "
            f"(at most /{spec.max_step}): pg_cron 1.4 and Oban 2.23 would run it at "
            f"{first_value} only and pg_cron 1.6.5+ rejects it; write `{first_value}` or a "
            "smaller step",
            col + at,
        )
    if star:
        return Item(None, None, step)
    start = _value(first, spec, col)
    end = _value(last, spec, col + len(first) + 1) if last is not None else None
    if end is not None and end < start:
        top = 6 if spec is DOW else spec.high
        head = f"{start}-{top}" if start < top else f"{start}"
        tail = f"{spec.low}-{end}" if end > spec.low else f"{spec.low}"
        wrap = f"`{head},{tail}`"
        raise ScheduleError(
            "C302",
            f"reversed range `{part}` in the {spec.name} field: pg_cron 1.4-1.6 accepts it and "
            f"never runs it, Oban 2.23 rejects it; write {wrap} for a range that wraps around, "
            f"or `{end}-{start}`",
            col,
        )
    open_end = step is not None and end is None
    if open_end and spec is DOW and start == 7:
        raise ScheduleError(
            "C302",
            f"`{part}`: an `A/S` weekday step runs to Saturday (6), so it cannot start at 7; "
            "write `0` or `7` for Sunday, or start the step at 0",
            col,
        )
    return Item(start, end, step, open_end)


def _parse_field(
    text: str,
    spec: FieldSpec,
    column: int,
) -> tuple[tuple[int, ...], tuple[Item, ...]]:
    values: set[int] = set()
    items: list[Item] = []
    offset = 0
    for part in text.split(","):
        col = column + offset
        offset += len(part) + 1
        if not part:
            raise ScheduleError("C301", f"empty list element in {spec.name} field `{text}`", col)
        special = _special(part, col, spec)
        if special:
            raise special
        item = _parse_item(part, spec, col)
        items.append(item)
        values.update(_item_values(item, spec))
    return tuple(sorted(values)), tuple(items)


def _split_fields(text: str) -> list[tuple[str, int]]:
    """Blank-separated fields with their 0-based positions (blanks: spaces and tabs)."""
    out = []
    position = 0
    for chunk in _BLANKS.split(text):
        position = text.index(chunk, position)
        out.append((chunk, position))
        position += len(chunk)
    return [(chunk, pos) for chunk, pos in out if chunk]


def _cron(text: str, day_match: Literal["any", "all"] | None, offset: int) -> Cron:
    fields = _split_fields(text)
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
            f"expected 5 fields (minute hour day-of-month month day-of-week), found "
            f"{len(fields)}; {EVERYWHERE} read exactly 5, e.g. `0 3 * * *`",
            offset + 1,
        )
    texts = [part for part, _ in fields]
    columns = [offset + pos + 1 for _, pos in fields]
    last_dom = texts[2] == "$"
    parsed: list[tuple[tuple[int, ...], tuple[Item, ...]]] = []
    for spec, part, column in zip(FIELDS, texts, columns, strict=True):
        if spec is DOM and last_dom:
            parsed.append((ALL_DOMS, ()))
            continue
        parsed.append(_parse_field(part, spec, column))
    (minutes, m_items), (hours, h_items), (doms, d_items), (months, mo_items), (dows, w_items) = (
        parsed
    )
    dom_star = texts[2].startswith("*")
    dow_star = texts[4].startswith("*")
    if dom_star or dow_star:
        rule: Literal["all", "any"] = "all"
    elif day_match is None:
        raise ScheduleError(
            "C305",
            f"both day-of-month (`{texts[2]}`) and day-of-week (`{texts[4]}`) are restricted: "
            "pg_cron fires when either matches, Oban only when both do; say which you mean "
            "with `day_match: any` or `day_match: all`",
            columns[2],
        )
    else:
        rule = day_match
    cron = Cron(
        minutes,
        hours,
        doms,
        months,
        dows,
        dom_star,
        dow_star,
        rule,
        last_dom,
        (m_items, h_items, d_items, mo_items, w_items),
    )
    if not _can_fire(cron):
        longest = max(DAYS_IN_MONTH[m - 1] for m in months)
        raise ScheduleError(
            "C304",
            f"`{' '.join(texts)}` can never fire: no month in it has such a day "
            f"(pg_cron 1.4-1.6 would accept it and never run it, Oban 2.23 rejects it); the "
            f"last day these months have is the {_ordinal(longest)}"
            + (", and pg_cron 1.6+ reads `$` as the last day of any month" if longest < 31 else ""),
            columns[2],
        )
    return cron


def _can_fire(cron: Cron) -> bool:
    """Whether some real date matches (Feb 29 counts: it falls on every weekday in 28 years)."""
    if cron.last_dom:
        return True  # every month has a last day, on every weekday over the years
    month_days = [d for m in cron.months for d in cron.doms if d <= DAYS_IN_MONTH[m - 1]]
    if cron.day_rule == "any" and not cron.dom_star and not cron.dow_star:
        return bool(cron.dows) or bool(month_days)
    return bool(month_days) and bool(cron.dows)


def parse(text: str, day_match: Literal["any", "all"] | None = None) -> Schedule:
    """Parse one schedule in cronspec's language (a superset of what each executor reads)."""
    if any((ord(c) < 32 and c not in " \t") or ord(c) == 127 for c in text):
        raise ScheduleError(
            "C301", "schedule contains a control character (newline?); write it on one line"
        )
    for index, char in enumerate(text):
        if char.isspace() and char not in " \t":
            raise ScheduleError(
                "C301",
                f"schedule contains a non-ASCII space "
                f"(U+{ord(char):04X}); {EVERYWHERE} separate fields "
                "with plain spaces",
                index + 1,
            )
    stripped = text.strip(" \t")
    offset = len(text) - len(text.lstrip(" \t"))
    if not stripped:
        raise ScheduleError(
            "C301", f"empty schedule; {EVERYWHERE} need 5 cron fields, e.g. `0 3 * * *`"
        )
    if stripped.startswith("@"):
        return Schedule(text, _nickname(stripped, day_match, offset))
    seconds = _SECONDS.match(stripped)
    if seconds:
        every = int(seconds.group(1))
        if not 1 <= every <= 59:
            raise ScheduleError(
                "C302",
                "`N seconds` takes N from 1 to 59 (`30 seconds`, "
                "pg_cron 1.5+); for longer intervals use cron fields, "
                "e.g. `*/2 * * * *`",
                offset + 1,
            )
        return Schedule(text, Seconds(every))
    if _SECONDS_LOOSE.match(stripped):
        raise ScheduleError(
            "C301",
            f"`{stripped}`: pg_cron 1.5+ reads intervals as `N seconds` "
            "(lowercase, N from 1 to 59), e.g. `30 seconds`",
            offset + 1,
        )
    return Schedule(text, _cron(stripped, day_match, offset))


def _nickname(text: str, day_match: Literal["any", "all"] | None, offset: int) -> Meaning:
    fields = _split_fields(text)
    word = fields[0][0]
    if word.lower() == "@every":
        raise ScheduleError(
            "C301",
            f"`@every` is not cron syntax ({EVERYWHERE} reject it); "
            "write `*/N` in the minute field, or `N seconds` on "
            "pg_cron 1.5+",
            offset + 1,
        )
    if len(fields) > 1:
        rest = text[fields[1][1] :]
        raise ScheduleError(
            "C301",
            f"unexpected text `{rest}` after `{word}`: pg_cron 1.4-1.6 silently ignores it and "
            f"Oban 2.23 rejects it; write `{word}` alone",
            offset + fields[1][1] + 1,
        )
    if word == "@startup":
        return Startup()
    if word == "@reboot":
        return Reboot()
    if word in NICKNAMES:
        return _cron(NICKNAMES[word], day_match, 0)
    lower = word.lower()
    if lower in NICKNAMES or lower in {"@reboot", "@startup"}:
        raise ScheduleError(
            "C301",
            f"`{word}`: {EVERYWHERE} read nicknames in lowercase only "
            f"(pg_cron rejects `{word}`); write `{lower}`",
            offset + 1,
        )
    if lower == "@restart":
        raise ScheduleError(
            "C303",
            "`@restart` is pg_cron-only (Oban 2.23 rejects it); write "
            "`@reboot` (the executor's own start) or `@startup` (every "
            "deploy)",
            offset + 1,
        )
    raise ScheduleError(
        "C301",
        f"unknown nickname `{word}`; known: {', '.join(sorted(NICKNAMES))}, @reboot, @startup",
        offset + 1,
    )


# ----------------------------------------------------------------------------------------------
# Emission


def _runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted distinct values: [0, 1, 2, 5] -> [(0, 2), (5, 5)]."""
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _items_for(values: Iterable[int], spec: FieldSpec, star_ok: bool) -> tuple[Item, ...]:
    """Items that list `values` (runs of 3+ as ranges); `*` only if `star_ok` and all match."""
    wanted = sorted(set(values))
    top = 6 if spec is DOW else spec.high
    if star_ok and wanted == list(range(spec.low, top + 1)):
        return (Item(None, None, None),)
    items: list[Item] = []
    for a, b in _runs(wanted):
        if b - a >= 2:
            items.append(Item(a, b, None))
        else:
            items.extend(Item(v, None, None) for v in range(a, b + 1))
    return tuple(items)


def _render_values(values: Iterable[int]) -> str:
    parts: list[str] = []
    for a, b in _runs(values):
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
    if spec is DOW and (item.start == 7 or item.end == 7):
        # weekday 7 is Sunday on pg_cron but rejected by Oban: write the values out
        return _render_values(_item_values(item, spec))
    if item.open_end:  # `A/S` is rejected by pg_cron: write the range out
        high = 6 if spec is DOW else spec.high
        if item.start == high:
            return str(item.start)
        return f"{item.start}-{high}{step}"
    if item.end is None or item.end == item.start:
        return str(item.start)
    return f"{item.start}-{item.end}{step}"


def emit(schedule: Schedule, target: Target) -> str:
    """The text `target` reads as exactly what `schedule` means. Call `check_target` first.

    Numbers only (Oban reads names in uppercase only), weekday 7 written as 0, `A/S` written
    as `A-max/S`, single spaces; the same text for every target that accepts the schedule.
    """
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
        parts.append(_render_field(items, spec))
    return " ".join(parts)


def _render_field(items: tuple[Item, ...], spec: FieldSpec) -> str:
    values = {v for item in items for v in _item_values(item, spec)}
    top = 6 if spec is DOW else spec.high
    if len(items) > 1 and values == set(range(spec.low, top + 1)):
        # a list that covers the field (`10,*`): one item, keeping whether it starts with `*`
        # (on pg_cron that decides the day rule)
        return "*" if items[0].start is None or spec not in (DOM, DOW) else f"{spec.low}-{top}"
    rendered: list[str] = []
    for item in items:
        text = _render_item(item, spec)
        if text not in rendered:
            rendered.append(text)
    return ",".join(rendered)


def _equivalent(meaning: Cron) -> str | None:
    """When one day field covers everything, the same schedule without the day rule question."""
    if meaning.last_dom or not meaning.items:
        return None
    fields = [_render_field(items, spec) for spec, items in zip(FIELDS, meaning.items, strict=True)]
    if meaning.day_rule == "any" and (meaning.doms == ALL_DOMS or meaning.dows == ALL_DOWS):
        fields[2] = fields[4] = "*"
    elif meaning.day_rule == "all" and meaning.doms == ALL_DOMS:
        fields[2] = "*"
    elif meaning.day_rule == "all" and meaning.dows == ALL_DOWS:
        fields[4] = "*"
    else:
        return None
    return " ".join(fields)


def check_target(schedule: Schedule, target: Target) -> ScheduleError | None:
    """Why `target` cannot run `schedule` as the spec means it, with what would work instead."""
    meaning = schedule.meaning
    where = target.label
    shown = schedule.text.strip(" \t")
    if isinstance(meaning, Seconds):
        if target.executor == "oban":
            return ScheduleError(
                "C303",
                f"`{shown}`: {where} has no seconds schedules (its "
                "finest grain is one minute); use `* * * * *` or run "
                "the task on pg_cron 1.5+",
            )
        if not target.seconds:
            return ScheduleError(
                "C303",
                f"`{shown}`: {where} has no seconds schedules (added "
                'in pg_cron 1.5); set `[pg_cron] version = "1.5"` if '
                "the server runs it, or use `* * * * *`",
            )
        return None
    if not isinstance(meaning, Cron):
        return None
    if meaning.last_dom and not target.last_day:
        if target.executor == "oban":
            return ScheduleError(
                "C303",
                f"`{shown}`: {where} has no last-day-of-month syntax "
                "(`$` is pg_cron 1.6+); run the task on pg_cron 1.6, "
                "or schedule days `28-31` and have the worker skip "
                "days that are not the last",
            )
        return ScheduleError(
            "C303",
            f"`{shown}`: {where} has no `$` (last day of the month, "
            'added in pg_cron 1.6); set `[pg_cron] version = "1.6"` '
            "if the server runs it, or schedule days `28-31` and test "
            "for the last day in the SQL",
        )
    if meaning.restricted_days:
        native = "any" if target.day_rule == "vixie" else "all"
        if meaning.day_rule != native:
            alternative = (
                "run it on Oban (`executor: oban`)"
                if native == "any"
                else "run it on pg_cron (`executor: pg_cron`)"
            )
            rule_words = "either" if native == "any" else "both"
            same = _equivalent(meaning)
            hint = f"; the same schedule without the question is `{same}`" if same else ""
            return ScheduleError(
                "C305",
                f"`{shown}` with day_match: {meaning.day_rule}: {where} fires "
                f"when {rule_words} of day-of-month and day-of-week match, and cronspec will not "
                f"emit a schedule that means something else; {alternative}, or restrict only "
                f"one of the two day fields{hint}",
            )
    return None


_STRICT_ITEM = re.compile(r"^(\*|[0-9]+(?:-[0-9]+)?)(?:/([0-9]+))?$")


def _read_field(part: str, spec: FieldSpec, target: Target) -> tuple[int, ...]:
    """One emitted field read the way `target`'s own parser reads it (digits only)."""
    oban = target.executor == "oban"
    top = 6 if (spec is DOW and oban) else spec.high
    values: set[int] = set()
    for item in part.split(","):
        match = _STRICT_ITEM.match(item)
        if not match:
            raise ScheduleError("C301", f"{target.label} would misread `{item}`")
        head, step_text = match.groups()
        step = 1
        if step_text is not None:
            if oban and not re.fullmatch(r"[1-9][0-9]?", step_text):
                raise ScheduleError("C301", f"{target.label} rejects the step in `{item}`")
            step = int(step_text)
            if not 1 <= step <= spec.max_step:
                raise ScheduleError("C302", f"{target.label} rejects or misreads `{item}`")
        if head == "*":
            lo, hi = spec.low, top
        elif "-" in head:
            lo, hi = (int(v) for v in head.split("-"))
        elif step_text is not None:
            if not oban:
                raise ScheduleError("C301", f"{target.label} rejects `{item}` (A/S)")
            lo, hi = int(head), top
        else:
            lo = hi = int(head)
        if not (spec.low <= lo <= top and spec.low <= hi <= top) or hi < lo:
            raise ScheduleError("C302", f"{target.label} rejects or never runs `{item}`")
        values.update(range(lo, hi + 1, step))
    if spec is DOW:
        values = {v % 7 for v in values}
    return tuple(sorted(values))


def reparse(text: str, target: Target) -> Cron | Seconds | Reboot:
    """Read emitted text the way `target` does (the strict subset it is known to accept)."""
    if text == "@reboot":
        return Reboot()
    seconds = re.fullmatch(r"([1-9][0-9]?) seconds", text)
    if seconds:
        if not target.seconds or int(seconds.group(1)) > 59:
            raise ScheduleError("C303", f"{target.label} rejects `{text}`")
        return Seconds(int(seconds.group(1)))
    fields = text.split(" ")
    if len(fields) != 5 or any(not f for f in fields):
        raise ScheduleError("C301", f"{target.label} would misread `{text}`")
    last_dom = fields[2] == "$"
    if last_dom and not target.last_day:
        raise ScheduleError("C303", f"{target.label} rejects `$`")
    read = [
        ALL_DOMS if (spec is DOM and last_dom) else _read_field(part, spec, target)
        for spec, part in zip(FIELDS, fields, strict=True)
    ]
    dom_star = fields[2].startswith("*")
    dow_star = fields[4].startswith("*")
    rule: Literal["all", "any"] = (
        "all" if target.day_rule == "and" or dom_star or dow_star else "any"
    )
    return Cron(read[0], read[1], read[2], read[3], read[4], dom_star, dow_star, rule, last_dom)


def same_meaning(a: Meaning, b: Meaning) -> bool:
    """Whether two meanings fire at the same times (`Cron` equality is semantic)."""
    return a == b


# ----------------------------------------------------------------------------------------------
# Words


def _join(words: list[str], last: str = "and") -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _list_words(
    values: Iterable[int], names: tuple[str, ...] | None = None, last: str = "and"
) -> str:
    """`1, 2 and 3`, with runs of 3+ as `A to B` (names[v] as the word for v, if given)."""
    words: list[str] = []
    for a, b in _runs(values):
        word_a = names[a] if names else str(a)
        word_b = names[b] if names else str(b)
        if b - a >= 2:
            words.append(f"{word_a} to {word_b}")
        else:
            words.extend(names[v] if names else str(v) for v in range(a, b + 1))
    return _join(words, last)


def _single_step(items: tuple[Item, ...]) -> Item | None:
    if len(items) == 1 and items[0].step and items[0].step > 1:
        return items[0]
    return None


def _time_words(meaning: Cron) -> str:
    all_hours = len(meaning.hours) == 24
    if len(meaning.minutes) == 1 and len(meaning.hours) <= 4:
        times = [f"{h:02d}:{meaning.minutes[0]:02d}" for h in meaning.hours]
        return "at " + _join(times)
    minute_step = _single_step(meaning.items[0]) if meaning.items else None
    if len(meaning.minutes) == 60:
        minutes = "every minute"
    elif minute_step and minute_step.start is None:
        minutes = f"every {minute_step.step} minutes"
    else:
        plural = "s" if len(meaning.minutes) > 1 else ""
        minutes = f"at minute{plural} {_list_words(meaning.minutes)}"
    at = minutes.startswith("at")
    hour_step = _single_step(meaning.items[1]) if meaning.items else None
    if all_hours:
        hours = "of every hour" if at else ""
    elif hour_step and hour_step.start is None:
        hours = f"{'of' if at else 'during'} every {_ordinal(hour_step.step or 1)} hour"
    else:
        plural = "s" if len(meaning.hours) > 1 else ""
        hours = f"{'past' if at else 'during'} hour{plural} {_list_words(meaning.hours)}"
    return f"{minutes} {hours}".strip()


def _dom_words(meaning: Cron) -> str:
    if meaning.last_dom:
        return "on the last day of the month"
    step = _single_step(meaning.items[2]) if meaning.items else None
    if step:
        first = DOM.low if step.start is None else step.start
        words = f"on every {_ordinal(step.step or 1)} day of the month from the {_ordinal(first)}"
        if step.end is not None:
            words += f" to the {_ordinal(step.end)}"
        return words
    plural = "s" if len(meaning.doms) > 1 else ""
    return f"on day{plural} {_list_words(meaning.doms)} of the month"


def describe(schedule: Schedule) -> str:
    """The schedule in words, e.g. `at 07:00, on Sunday`."""
    meaning = schedule.meaning
    if isinstance(meaning, Startup):
        return "once at every deploy (@startup)"
    if isinstance(meaning, Reboot):
        return "when the executor starts (@reboot)"
    if isinstance(meaning, Seconds):
        return "every second" if meaning.every == 1 else f"every {meaning.every} seconds"
    every_dom = meaning.doms == ALL_DOMS and not meaning.last_dom
    every_dow = meaning.dows == ALL_DOWS
    if meaning.day_rule == "any" and (every_dom or every_dow):
        day_words = "every day"
    elif meaning.day_rule == "any":
        day_words = f"{_dom_words(meaning)} or on {_list_words(meaning.dows, DAY_NAMES, 'or')}"
    elif every_dom and every_dow:
        day_words = "every day"
    elif every_dom:
        day_words = f"on {_list_words(meaning.dows, DAY_NAMES)}"
    elif every_dow:
        day_words = _dom_words(meaning)
    else:
        day_words = f"{_dom_words(meaning)} if it is a {_list_words(meaning.dows, DAY_NAMES, 'or')}"
    month_words = ""
    if len(meaning.months) < 12:
        month_words = " in " + _list_words([m - 1 for m in meaning.months], MONTH_NAMES)
    return f"{_time_words(meaning)}, {day_words}{month_words}"


# ----------------------------------------------------------------------------------------------
# Next runs


@dataclass(frozen=True)
class Run:
    local: datetime  # aware, in the schedule's zone
    note: str = ""  # daylight-saving remark, if any


MAX_SCAN_DAYS = 366 * 29  # Feb 29 on a given weekday recurs within 28 years


def _slots(
    meaning: Cron,
    day: date,
    zone: ZoneInfo,
) -> Iterator[tuple[datetime, Literal["", "skipped", "repeated"]]]:
    """Each wall-clock time of the schedule on `day`, once per time it really happens, in the
    order they happen (a repeated hour's second pass comes after its first)."""
    slots: list[tuple[datetime, Literal["", "skipped", "repeated"]]] = []
    for hour in meaning.hours:
        for minute in meaning.minutes:
            naive = datetime(day.year, day.month, day.day, hour, minute)
            first = naive.replace(tzinfo=zone, fold=0)
            second = naive.replace(tzinfo=zone, fold=1)
            roundtrip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            if roundtrip != naive:
                slots.append((first, "skipped"))
            elif first.utcoffset() != second.utcoffset():
                slots.append((first, "repeated"))
                slots.append((second, "repeated"))
            else:
                slots.append((first, ""))
    # a skipped time sorts with the real time at the same instant, just before it
    slots.sort(key=lambda slot: (slot[0].astimezone(UTC), slot[1] != "skipped"))
    yield from slots


def _is_last(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def _pg_last_day(moment: datetime, zone: ZoneInfo) -> bool:
    """pg_cron 1.6's `$` test: is it the 1st, 24 hours (not one calendar day) later?"""
    later = moment.astimezone(UTC) + timedelta(days=1)
    return later.astimezone(zone).day == 1


def next_runs(
    meaning: Meaning, start: datetime, zone: ZoneInfo, count: int, target: Target | None = None
) -> list[Run]:
    """The first `count` runs strictly after `start` (aware), in wall-clock time of `zone`.

    Executor semantics: the day rule is the schedule's own (check_target refuses a target that
    would combine the day fields differently). A local time that does not exist on a
    daylight-saving day is not a run on either executor; its note goes to the next run. A local
    time that happens twice is two runs on both. On pg_cron, `$` is tested the way pg_cron does.
    """
    if not isinstance(meaning, Cron) or count <= 0:
        return []
    pg_last = meaning.last_dom and target is not None and target.last_day
    runs: list[Run] = []
    pending: list[str] = []
    day = start.astimezone(zone).date()
    for _ in range(MAX_SCAN_DAYS):
        if day.month in meaning.months:
            for moment, kind, note in _day_candidates(meaning, day, zone, target, pg_last):
                if moment <= start:
                    continue
                if kind == "skipped":
                    pending.append(note)
                    continue
                notes = [*pending, note] if note else pending
                pending = []
                runs.append(Run(moment, "; ".join(notes)))
                if len(runs) == count:
                    return runs
        day += timedelta(days=1)
    return runs


def _day_candidates(
    meaning: Cron, day: date, zone: ZoneInfo, target: Target | None, pg_last: bool
) -> Iterator[tuple[datetime, str, str]]:
    dow_ok = (day.isoweekday() % 7) in meaning.dows
    if not pg_last:
        if meaning.day_matches(day):
            for moment, kind in _slots(meaning, day, zone):
                yield moment, kind, _dst_note(kind, moment, target)
        return
    assert target is not None
    near = _is_last(day) or _is_last(day + timedelta(days=1))
    if not near:
        if meaning.day_rule == "any" and dow_ok:
            for moment, kind in _slots(meaning, day, zone):
                yield moment, kind, _dst_note(kind, moment, target)
        return
    for moment, kind in _slots(meaning, day, zone):
        truly = _is_last(day)
        seen = _pg_last_day(moment, zone) if kind != "skipped" else truly
        fires = (seen or dow_ok) if meaning.day_rule == "any" else (seen and dow_ok)
        meant = (truly or dow_ok) if meaning.day_rule == "any" else (truly and dow_ok)
        note = _dst_note(kind, moment, target)
        when = moment.strftime("%Y-%m-%d %H:%M")
        quirk = (
            f'{target.label} tests `$` as "24 hours later it is the 1st", which a '
            "daylight-saving change shifts by an hour"
        )
        if fires and not meant:
            note = _join_notes(note, f"{quirk}: it also runs at {when}, the day before the last")
        elif meant and not fires:
            note = _join_notes(note, f"{quirk}: it does not run at {when} on the last day")
            yield moment, "skipped", note
            continue
        if fires:
            yield moment, kind, note


def _join_notes(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _dst_note(kind: str, moment: datetime, target: Target | None) -> str:
    """What the executor does with a wall-clock time that a daylight-saving change skips or
    repeats; see the module docstring for the sources."""
    if not kind:
        return ""
    when = moment.strftime("%Y-%m-%d %H:%M")
    if kind == "skipped":
        what = f"{when} does not exist (clocks go forward)"
    else:
        what = f"{when} happens twice (clocks go back)"
    if target is None:
        return f"{what}; whether it runs depends on the executor"
    if target.executor == "oban":
        how = "Oban's Cron plugin matches the local time once a minute"
    elif target.timezone_setting:
        how = f"{target.label} matches each minute converted to `cron.timezone`"
    else:
        return (
            f"{what}; {target.label} ignores `cron.timezone` and runs in GMT, so it "
            "cannot follow this zone"
        )
    if kind == "skipped":
        return f"{what}: {how} and never sees it, so that run is skipped"
    return f"{what}: {how}, so it runs at both"


# ----------------------------------------------------------------------------------------------
# Zones for pg_cron 1.4 (GMT only)


@lru_cache(maxsize=64)
def fixed_offset(zone: ZoneInfo) -> timedelta | None:
    """The zone's offset if it has one offset from 2020 through 2060 (no daylight saving).

    Sampled at noon every day, so short changes (a Ramadan suspension) are seen too.
    """
    offsets = set()
    day = datetime(2020, 1, 1, 12)
    end = datetime(2061, 1, 1, 12)
    while day < end:
        offsets.add(day.replace(tzinfo=zone).utcoffset())
        if len(offsets) > 1:
            return None
        day += timedelta(days=1)
    (offset,) = offsets
    return offset


def shift_to_utc(schedule: Schedule, offset: timedelta) -> Schedule | None:
    """The same schedule in UTC for a fixed offset, when the shift is exact; else None.

    Every local (hour, minute) moves by the offset. The result must again be a product of
    minutes and hours. Runs that move to another day are exact only when no day field and no
    month is restricted, or when every run moves by the same day and only the weekday is
    restricted (the weekdays move with it).
    """
    meaning = schedule.meaning
    if not isinstance(meaning, Cron):
        return schedule
    total = offset.total_seconds()
    if total % 60:
        return None
    shift = int(total // 60)
    moved: set[tuple[int, int, int]] = set()  # (day delta, hour, minute)
    for h in meaning.hours:
        for m in meaning.minutes:
            day_delta, rest = divmod(h * 60 + m - shift, 1440)
            moved.add((day_delta, rest // 60, rest % 60))
    minutes = sorted({m for _, _, m in moved})
    hours = sorted({h for _, h, _ in moved})
    if len({(h, m) for _, h, m in moved}) != len(moved) or len(moved) != len(minutes) * len(hours):
        return None
    deltas = {d for d, _, _ in moved}
    dom_free = meaning.dom_star and meaning.doms == ALL_DOMS and not meaning.last_dom
    months_free = len(meaning.months) == 12
    days_free = dom_free and months_free and meaning.dows == ALL_DOWS
    dows = meaning.dows
    w_items = meaning.items[4]
    if deltas != {0} and not days_free:
        if len(deltas) != 1 or not dom_free or not months_free:
            return None
        (delta,) = deltas
        dows = tuple(sorted({(d + delta) % 7 for d in meaning.dows}))
        w_items = _items_for(dows, DOW, star_ok=False)
    m_items = (
        meaning.items[0] if minutes == list(meaning.minutes) else _items_for(minutes, MINUTE, True)
    )
    h_items = meaning.items[1] if hours == list(meaning.hours) else _items_for(hours, HOUR, True)
    moved_cron = Cron(
        tuple(minutes),
        tuple(hours),
        meaning.doms,
        meaning.months,
        dows,
        meaning.dom_star,
        meaning.dow_star,
        meaning.day_rule,
        meaning.last_dom,
        (m_items, h_items, meaning.items[2], meaning.items[3], w_items),
    )
    return Schedule(schedule.text, moved_cron)
