"""The next runs of a schedule, in wall-clock time, as each executor would run them.

A daylight-saving change is where executors and intuition part: a local time that does not
exist is never matched (the run is skipped), one that happens twice is matched twice (the job
runs twice), and pg_cron 1.6 decides `$` as "24 hours later it is the 1st". The package
docstring gives the sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from .model import Cron, Meaning, Target, weekday

MAX_SCAN_DAYS = 366 * 29  # Feb 29 on a given weekday recurs within 28 years

Slot = Literal["", "skipped", "repeated"]


@dataclass(frozen=True)
class Run:
    """One run: when, in the schedule's zone, and what a daylight-saving change does to it."""

    local: datetime  # aware, in the schedule's zone
    note: str = ""


def next_runs(
    meaning: Meaning, start: datetime, zone: ZoneInfo, count: int, target: Target | None = None
) -> list[Run]:
    """The first `count` runs strictly after `start` (aware), in wall-clock time of `zone`.

    Executor semantics: the day rule is the schedule's own (`check_target` refuses a target
    that would combine the day fields differently). A local time that does not exist on a
    daylight-saving day is not a run on either executor; its note goes to the next run. A local
    time that happens twice is two runs on both. On pg_cron, `$` is tested the way pg_cron does.
    """
    if not isinstance(meaning, Cron) or count <= 0:
        return []
    pg_last = meaning.last_dom and target is not None and target.last_day
    runs: list[Run] = []
    pending: list[str] = []
    try:
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
    except OverflowError:  # the calendar ends (year 9999, or year 1 in UTC): no runs beyond it
        pass
    return runs


def _slots(meaning: Cron, day: date, zone: ZoneInfo) -> Iterator[tuple[datetime, Slot]]:
    """Each wall-clock time of the schedule on `day`, once per time it really happens, in the
    order they happen (a repeated hour's second pass comes after its first)."""
    slots: list[tuple[datetime, Slot]] = []
    changes = False
    for hour in meaning.hours:
        for minute in meaning.minutes:
            first = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            second = first.replace(fold=1)
            if first.utcoffset() == second.utcoffset():  # neither skipped nor repeated (PEP 495)
                slots.append((first, ""))
                continue
            changes = True
            naive = first.replace(tzinfo=None)
            if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
                slots.append((first, "skipped"))
            else:
                slots.append((first, "repeated"))
                slots.append((second, "repeated"))
    if changes:  # else local order (hours and minutes ascending) is already the real order
        # a skipped time sorts with the real time at the same instant, just before it
        slots.sort(key=lambda slot: (slot[0].astimezone(UTC), slot[1] != "skipped"))
    yield from slots


def _is_last(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def _pg_last_day(moment: datetime, zone: ZoneInfo) -> bool:
    """pg_cron 1.6's `$` test: is it the 1st, 24 hours (not one calendar day) later?"""
    later = moment.astimezone(UTC) + timedelta(days=1)
    return later.astimezone(zone).day == 1


def _day_candidates(
    meaning: Cron, day: date, zone: ZoneInfo, target: Target | None, pg_last: bool
) -> Iterator[tuple[datetime, str, str]]:
    dow_ok = weekday(day) in meaning.dows
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
    repeats; see the package docstring for the sources."""
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


CHANGE_DAYS = 366


def dst_changes(
    meaning: Meaning,
    start: datetime,
    zone: ZoneInfo,
    target: Target | None = None,
    days: int = CHANGE_DAYS,
) -> tuple[str, ...]:
    """What each daylight-saving change of `zone` in the `days` after `start` does to the
    schedule's runs: one note per change that skips or repeats a run (or shifts pg_cron's `$`),
    whether or not that run is among the next few. Nothing for a zone without changes."""
    if not isinstance(meaning, Cron):
        return ()
    pg_last = meaning.last_dom and target is not None and target.last_day
    notes: list[str] = []
    try:
        for day in _change_days(zone, start.astimezone(zone).date(), days):
            for near in (day - timedelta(days=1), day):
                if near.month in meaning.months:
                    notes += _change_notes(meaning, near, zone, target, pg_last, start)
    except OverflowError:  # the calendar ends: no changes beyond it
        pass
    return tuple(dict.fromkeys(notes))


@lru_cache(maxsize=256)
def _change_days(zone: ZoneInfo, first: date, days: int) -> tuple[date, ...]:
    """The days in `days` from `first` whose noon has another UTC offset than the day before's:
    a change happened in between. Once per zone and start, however many schedules ask."""
    found = []
    try:
        day, end = first, first + timedelta(days=days)
        offset = _noon_offset(day - timedelta(days=1), zone)
        while day <= end:
            today = _noon_offset(day, zone)
            if today != offset:
                found.append(day)
                offset = today
            day += timedelta(days=1)
    except OverflowError:  # the calendar ends
        pass
    return tuple(found)


def _noon_offset(day: date, zone: ZoneInfo) -> timedelta | None:
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()


def _change_notes(
    meaning: Cron, day: date, zone: ZoneInfo, target: Target | None, pg_last: bool, after: datetime
) -> list[str]:
    """The notes of one day's runs around a change, grouped: the first affected time of each
    kind, with how many more there are that day."""
    grouped: dict[tuple[str, str], list[datetime]] = {}
    for moment, kind, note in _day_candidates(meaning, day, zone, target, pg_last):
        if note and moment > after:
            key = (kind, kind or note)
            grouped.setdefault(key, []).append(moment)
    out = []
    for (kind, note), moments in grouped.items():
        times = sorted({m.replace(tzinfo=None) for m in moments})
        text = _dst_note(kind, moments[0], target) if kind else note
        if len(times) > 1:
            more = len(times) - 1
            text += (
                f" (and {more} more run{'s' if more > 1 else ''} until {times[-1]:%H:%M} that day)"
            )
        out.append(text)
    return out
