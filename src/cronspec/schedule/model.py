"""The schedule language's values: targets, fields, items, and a schedule's meaning apart from
how it was written.

A cron schedule is two values. `Cron` is its meaning: the minutes, hours, days and months it
fires, and how the two day fields combine; two spellings of one schedule are equal `Cron`s.
`CronForm` is how it was written, as far as an executor cares: the items of each field, which
emission keeps, and whether a day field starts with `*`, which decides pg_cron's day rule
(Vixie cron's: when neither day field starts with `*`, a day matches if *either* matches; Oban
always needs *both*).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Literal

# What the messages say "everyone" is: the executors cronspec was checked against (tests run
# pg_cron 1.4.2 and 1.6.7, Oban 2.18.3 and Oban 2.23.1's parser).
OBANS = "Oban 2.18-2.23"
EVERYWHERE = f"pg_cron 1.4-1.6 and {OBANS}"

DayMatch = Literal["any", "all"]


@dataclass(frozen=True)
class Target:
    """An executor at a version (compared as numbers), with the syntax it accepts."""

    executor: Literal["pg_cron", "oban"]
    version: tuple[int, ...]

    @property
    def label(self) -> str:
        """`pg_cron 1.4`, `Oban 2.23`: how messages name it."""
        name = "pg_cron" if self.executor == "pg_cron" else "Oban"
        return f"{name} {'.'.join(map(str, self.version))}"

    @property
    def seconds(self) -> bool:
        """Whether it reads `N seconds` (pg_cron 1.5+)."""
        return self.executor == "pg_cron" and self.version >= (1, 5)

    @property
    def last_day(self) -> bool:
        """Whether it reads `$`, the last day of the month (pg_cron 1.6+)."""
        return self.executor == "pg_cron" and self.version >= (1, 6)

    @property
    def timezone_setting(self) -> bool:
        """Whether it runs jobs in a zone of its setting; pg_cron 1.4 accepts `cron.timezone` but
        ignores it: every job runs in GMT."""
        return self.executor == "oban" or self.version >= (1, 5)

    @property
    def checks_dates(self) -> bool:
        """Whether it rejects a day of month that none of the months has (`0 0 30 2 *`):
        Oban 2.23 does; Oban 2.18 and pg_cron accept it and never run it."""
        return self.executor == "oban" and self.version >= (2, 23)

    @property
    def day_rule(self) -> Literal["vixie", "and"]:
        """How it combines two restricted day fields: Vixie cron's OR, or AND."""
        return "vixie" if self.executor == "pg_cron" else "and"

    def zone(self, project_zone: str) -> str:
        """The zone it runs schedules in: the project's, or GMT where it cannot follow one."""
        return project_zone if self.timezone_setting else "UTC"


def pg_cron(version: str) -> Target:
    """pg_cron at `version`, as written in cronspec.toml (`1.4`, `1.5.2`)."""
    return Target("pg_cron", tuple(int(part) for part in re.findall(r"\d+", version)))


def oban(version: str) -> Target:
    """Oban at `version`, as written in cronspec.toml (`2.18`, `2.23`)."""
    return Target("oban", tuple(int(part) for part in re.findall(r"\d+", version)))


OBAN = oban("2.23")


@dataclass(frozen=True)
class FieldSpec:
    """One of the five cron fields: its range, and its names (months, weekdays)."""

    name: str
    low: int
    high: int  # the largest value accepted (7 for weekdays: Sunday again)
    top: int  # the largest distinct value: what `*` and `A/S` run to (6 for weekdays)
    names: tuple[str, ...] = ()  # names[i] is the value low + i (months) or i (weekdays)

    def fold(self, value: int) -> int:
        """The distinct value `value` is: weekday 7 is Sunday, 0; others are themselves."""
        return value % (self.top + 1) if self.high > self.top else value

    @property
    def max_step(self) -> int:
        """The largest step pg_cron 1.6.5+ accepts: it rejects a step above the field's top
        value (`*/60` minutes, `*/13` months), while `*/12` months is January only."""
        return self.high


MINUTE = FieldSpec("minute", 0, 59, 59)
HOUR = FieldSpec("hour", 0, 23, 23)
DOM = FieldSpec("day-of-month", 1, 31, 31)
MONTH = FieldSpec(
    "month",
    1,
    12,
    12,
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
)
DOW = FieldSpec("day-of-week", 0, 7, 6, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
FIELDS = (MINUTE, HOUR, DOM, MONTH, DOW)

DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # leap years count
ALL_DOMS = tuple(range(1, 32))
ALL_DOWS = tuple(range(7))


def consecutive(values: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted distinct values: [0, 1, 2, 5] -> [(0, 2), (5, 5)]."""
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def weekday(day: date) -> int:
    """The day's weekday as cron numbers it: 0-6, Sunday = 0."""
    return day.isoweekday() % 7


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Item:
    """One comma-separated part of a field: `*`, `*/S`, `A`, `A-B`, `A-B/S` or `A/S`."""

    start: int | None  # None for `*`
    end: int | None  # None for a single value or `A/S` (to the field's end)
    step: int | None
    open_end: bool = False  # `A/S`

    def values(self, spec: FieldSpec, high: int | None = None) -> list[int]:
        """The values it lists, up to `high` (the field's `high` unless given), unfolded."""
        top = spec.high if high is None else high
        if self.start is None:
            lo, hi = spec.low, top
        elif self.open_end:
            lo, hi = self.start, top
        else:
            lo = self.start
            hi = self.start if self.end is None else self.end
        return list(range(lo, hi + 1, self.step or 1))

    def meaning(self, spec: FieldSpec) -> list[int]:
        """What it means in cronspec's language: weekday 7 folded onto 0, and `A/S` running to
        the field's top (Saturday for weekdays, as in Oban; pg_cron has no `A/S`)."""
        values = self.values(spec, spec.top if self.open_end else None)
        return sorted({spec.fold(v) for v in values})


@dataclass(frozen=True)
class Cron:
    """When a cron schedule fires, and nothing of how it was written.

    It is normalized when built, so that equality and hashing are about meaning: `$` has no
    day-of-month values, and a day rule of "either" where one day field covers every day is
    every day (`0 0 1-31 * 1` with `day_match: any` equals `@daily`).
    """

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    doms: tuple[int, ...]
    months: tuple[int, ...]
    dows: tuple[int, ...]  # 0-6, Sunday = 0
    day_rule: DayMatch  # how the two day fields combine: "all" (AND) or "any" (OR)
    last_dom: bool = False  # `$`: the last day of the month

    def __post_init__(self) -> None:
        doms: tuple[int, ...] = () if self.last_dom else self.doms
        every_dom = not self.last_dom and doms == ALL_DOMS
        if self.day_rule == "any" and (every_dom or self.dows == ALL_DOWS):
            # either field matches every day: the schedule fires every day (frozen dataclass,
            # so the normal form is set through object.__setattr__, once, here)
            object.__setattr__(self, "doms", ALL_DOMS)
            object.__setattr__(self, "dows", ALL_DOWS)
            object.__setattr__(self, "day_rule", "all")
            object.__setattr__(self, "last_dom", False)
        else:
            object.__setattr__(self, "doms", doms)

    def day_matches(self, day: date) -> bool:
        """Whether the schedule fires on `day` (at its hours and minutes)."""
        dom_ok = (day + timedelta(days=1)).day == 1 if self.last_dom else day.day in self.doms
        dow_ok = weekday(day) in self.dows
        if self.day_rule == "any":
            return dom_ok or dow_ok
        return dom_ok and dow_ok


@dataclass(frozen=True)
class CronForm:
    """How a cron schedule was written, as far as an executor cares."""

    items: tuple[tuple[Item, ...], ...]  # per field; () for a day-of-month of `$`
    last_dom: bool
    day_match: DayMatch | None  # the spec's `day_match`, needed when both day fields restrict

    @property
    def dom_star(self) -> bool:
        """Whether the day-of-month field starts with `*` (pg_cron's DOM_STAR)."""
        return bool(self.items[2]) and self.items[2][0].start is None

    @property
    def dow_star(self) -> bool:
        """Whether the day-of-week field starts with `*` (pg_cron's DOW_STAR)."""
        return self.items[4][0].start is None

    @property
    def restricted_days(self) -> bool:
        """Neither day field starts with `*`: the day rule is a question, `day_match` answers it."""
        return not self.dom_star and not self.dow_star

    @property
    def day_rule(self) -> DayMatch:
        """How the author means the day fields to combine."""
        if not self.restricted_days:
            return "all"
        assert self.day_match is not None, "bug: restricted day fields without a day rule"
        return self.day_match

    def values(self, spec: FieldSpec) -> tuple[int, ...]:
        """The values a field lists, in cronspec's language."""
        if spec is DOM and self.last_dom:
            return ALL_DOMS
        index = FIELDS.index(spec)
        return tuple(sorted({v for item in self.items[index] for v in item.meaning(spec)}))

    def meaning(self) -> Cron:
        """What the written schedule means."""
        return self._meaning

    @cached_property
    def _meaning(self) -> Cron:
        return Cron(
            self.values(MINUTE),
            self.values(HOUR),
            self.values(DOM),
            self.values(MONTH),
            self.values(DOW),
            self.day_rule,
            self.last_dom,
        )


@dataclass(frozen=True)
class Seconds:
    """`N seconds` (pg_cron 1.5+)."""

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
    """One schedule of a spec: the text as written, what it means, and for cron schedules how
    its fields were written."""

    text: str
    meaning: Meaning
    form: CronForm | None = None

    @classmethod
    def of_form(cls, text: str, form: CronForm) -> Schedule:
        """A cron schedule from its written form."""
        return cls(text, form.meaning(), form)
