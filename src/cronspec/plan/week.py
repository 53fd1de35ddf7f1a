"""When the jobs start over a week, on both executors, and the minutes where too many start at
once: what REPORT.md's week chart shows and what `R701` warns about.

From the schedules' meanings alone, so the chart depends on no clock. A job is one schedule
of a task (a pg_cron job, an Oban crontab entry). Jobs fall into:

- **every hour**: they start in every hour of their days (`*/5 * * * *`, `0 * * * 1-5`),
  listed once rather than in every row;
- **weekly**: every day of the month in every month, on some weekdays: drawn in the grid;
- **dated**: a day of the month or a month is restricted (`0 0 1 1 *`): listed, and counted in
  the crowding check on each date of the year from `[report] from` where they start;
- **not drawn**: `N seconds` (they run all the time, and are not counted), `@reboot` and
  `@startup` (no time of their own), a zone other than the project's, disabled tasks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from .. import schedule as sched
from ..diagnostics import Diagnostic, Span, warning
from ..model import Settings
from ..schedule.model import consecutive as sched_consecutive
from .placement import Placement

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # the chart's order
_CRON_DAY = (1, 2, 3, 4, 5, 6, 0)  # cron's weekday number of each of DAYS


@dataclass(frozen=True)
class WeekJob:
    """One job as the chart names it."""

    name: str  # the pg_cron job name, or the task for Oban
    task: str
    executor: str
    schedule: str  # as written in the spec
    words: str
    span: Span  # the schedule in its spec

    @cached_property
    def _hash(self) -> int:  # the chart's dicts look jobs up many times each
        return hash((self.name, self.task, self.executor, self.schedule, self.words, self.span))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class Hourly:
    """A job that starts in every hour of its days."""

    job: WeekJob
    minutes: tuple[int, ...]
    days: tuple[int, ...]  # indexes into DAYS


@dataclass(frozen=True)
class Cell:
    """The starts of one hour on one weekday (`day` None: every day)."""

    day: int | None
    hour: int
    starts: tuple[tuple[int, WeekJob], ...]  # (minute, job), by minute


@dataclass(frozen=True)
class Crowd:
    """Minutes where more jobs start than `[report] max_starts_per_minute`: every week
    (`slots`), or, with a job of some dates only, on dates of the year from `[report] from`
    (`dates`)."""

    jobs: tuple[WeekJob, ...]
    slots: tuple[tuple[int, int, int], ...] = ()  # (day index, hour, minute)
    dates: tuple[tuple[date, int, int], ...] = ()  # (date, hour, minute)

    def when(self) -> str:
        """`03:00 every day`, `06:00 on Sun`, `00:00 on Mon-Wed, Sat; 12:30 every day`,
        `00:00 on 2026-01-01 (Thu)`, `00:00 on 2026-01-01 (Thu) and 11 more dates`."""
        parts = []
        if self.dates:
            by_time: dict[tuple[int, int], list[date]] = defaultdict(list)
            for day, hour, minute in self.dates:
                by_time[(hour, minute)].append(day)
            for (hour, minute), days in sorted(by_time.items()):
                first = f"{days[0].isoformat()} ({DAYS[days[0].weekday()]})"
                others = len(days) - 1
                more = f" and {others} more date{'s' if others > 1 else ''}" if others else ""
                parts.append(f"{hour:02d}:{minute:02d} on {first}{more}")
            return "; ".join(parts)
        by_days: dict[tuple[int, ...], list[int]] = defaultdict(list)
        per_minute: dict[int, list[int]] = defaultdict(list)
        for weekday, hour, minute in self.slots:
            per_minute[hour * 60 + minute].append(weekday)
        for minute_of_day, on in per_minute.items():
            by_days[tuple(sorted(on))].append(minute_of_day)
        for on_days, minutes in sorted(by_days.items(), key=lambda kv: min(kv[1])):
            parts.append(f"{_minutes_words(minutes)} {days_words(on_days)}")
        return "; ".join(parts)

    def sentence(self) -> str:
        """`4 jobs start at 03:00 every day`."""
        when = self.when()
        return f"{len(self.jobs)} jobs start {'' if when.startswith('every') else 'at '}{when}"

    def sort_key(self) -> tuple[int, int, int, str]:
        """Weekly crowds by time and day, then dated ones by date."""
        if self.slots:
            day, hour, minute = self.slots[0]
            return (0, hour * 60 + minute, day, "")
        when, hour, minute = self.dates[0]
        return (1, hour * 60 + minute, 0, when.isoformat())


MAX_RANGES = 4


def _minutes_words(minutes: Iterable[int]) -> str:
    """Minutes of the day as times and ranges: `03:00`, `00:00-02:29, 02:31-23:59`,
    `every minute`; past MAX_RANGES ranges, `and N more`."""
    runs = sched_consecutive(minutes)
    if runs == [(0, 1439)]:
        return "every minute"

    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    texts = [hhmm(a) if a == b else f"{hhmm(a)}-{hhmm(b)}" for a, b in runs[:MAX_RANGES]]
    if len(runs) > MAX_RANGES:
        texts.append(f"and {len(runs) - MAX_RANGES} more times")
    return ", ".join(texts)


def days_words(days: Iterable[int]) -> str:
    """`every day`, `on Sun`, `on Mon-Fri`, `on Mon, Wed-Fri` (indexes into DAYS)."""
    chosen = sorted(set(days))
    if len(chosen) == 7:
        return "every day"
    parts = []
    for first, last in sched_consecutive(chosen):
        parts.append(DAYS[first] if first == last else f"{DAYS[first]}-{DAYS[last]}")
    return "on " + ", ".join(parts)


@dataclass(frozen=True)
class Week:
    """The week chart of a project."""

    zone: str
    limit: int  # [report] max_starts_per_minute
    hourly: tuple[Hourly, ...]
    cells: tuple[Cell, ...]  # by hour, then day (every day first)
    dated: tuple[WeekJob, ...]
    not_drawn: tuple[tuple[WeekJob, str], ...]  # with why
    crowds: tuple[Crowd, ...]


def _jobs(placements: Iterable[Placement]) -> list[tuple[WeekJob, sched.Meaning, bool, str]]:
    """Each job with its meaning, whether its task is enabled, and its task's zone."""
    out = []
    for p in placements:
        task = p.classified.task
        for s in p.schedules:
            schedule = s.source.schedule
            name = s.job or task.name
            job = WeekJob(
                name,
                task.name,
                p.classified.executor,
                schedule.text.strip(),
                sched.describe(schedule),
                s.source.span,
            )
            out.append((job, schedule.meaning, task.enabled, task.timezone))
    return out


def week_view(placements: Iterable[Placement], settings: Settings) -> tuple[Week, list[Diagnostic]]:
    """The chart, and one `R701` warning per job in a crowded minute, at its schedule."""
    limit = settings.report.max_starts_per_minute
    hourly: list[Hourly] = []
    grid: dict[tuple[int | None, int], list[tuple[int, WeekJob]]] = defaultdict(list)
    dated: list[WeekJob] = []
    not_drawn: list[tuple[WeekJob, str]] = []
    # the crowding check counts jobs by number: their place in the order crowds name them
    jobs = _jobs(placements)
    order = sorted(jobs, key=lambda j: (j[0].name, j[0].schedule, j[0].executor))
    number = {id(j[0]): n for n, j in enumerate(order)}
    weekly: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    on_dates: dict[tuple[date, int, int], list[int]] = defaultdict(list)
    year = _year_from(settings.report.from_)
    dates_of: dict[sched.Cron, list[date]] = {}  # the days of the year a meaning fires on
    for job, meaning, enabled, zone in jobs:
        n = number[id(job)]
        if not enabled:
            not_drawn.append((job, "disabled"))
            continue
        if not isinstance(meaning, sched.Cron):
            why = "at every deploy" if isinstance(meaning, sched.Startup) else job.words
            not_drawn.append((job, why))
            continue
        if not sched.same_zone(zone, settings.timezone):
            not_drawn.append((job, f"in zone {zone}"))
            continue
        if meaning.doms != sched.ALL_DOMS or len(meaning.months) < 12:
            dated.append(job)
            if meaning not in dates_of:
                dates_of[meaning] = [
                    day for day in year if day.month in meaning.months and meaning.day_matches(day)
                ]
            for day in dates_of[meaning]:
                for hour in meaning.hours:
                    for minute in meaning.minutes:
                        on_dates[(day, hour, minute)].append(n)
            continue
        days = tuple(i for i, d in enumerate(_CRON_DAY) if d in meaning.dows)
        for day_index in days:
            for hour in meaning.hours:
                for minute in meaning.minutes:
                    weekly[(day_index, hour, minute)].append(n)
        if len(meaning.hours) == 24:
            hourly.append(Hourly(job, meaning.minutes, days))
            continue
        columns: tuple[int | None, ...] = (None,) if len(days) == 7 else days
        for hour in meaning.hours:
            for column in columns:
                grid[(column, hour)] += [(minute, job) for minute in meaning.minutes]
    crowds = _crowds(weekly, on_dates, limit, [j[0] for j in order])
    cells = tuple(
        Cell(day, hour, tuple(sorted(found, key=lambda s: (s[0], s[1].name))))
        for (day, hour), found in sorted(
            grid.items(), key=lambda kv: (kv[0][1], _day_key(kv[0][0]))
        )
    )
    week = Week(
        settings.timezone, limit, tuple(hourly), cells, tuple(dated), tuple(not_drawn), crowds
    )
    return week, _warnings(crowds, limit)


def _year_from(start: str) -> list[date]:
    """The days of the year from `[report] from`: where jobs of some dates only are counted."""
    first = datetime.fromisoformat(start).date()
    try:
        length = (first.replace(year=first.year + 1) - first).days
    except ValueError:  # from Feb 29: the next year has none (or from the year 9999)
        length = 366
    length = min(length, (date.max - first).days + 1)  # the calendar ends with 9999
    return [first + timedelta(days=n) for n in range(length)]


def _day_key(day: int | None) -> int:
    return -1 if day is None else day


def _crowds(
    weekly: dict[tuple[int, int, int], list[int]],
    on_dates: dict[tuple[date, int, int], list[int]],
    limit: int,
    jobs: list[WeekJob],
) -> tuple[Crowd, ...]:
    """Crowded minutes, grouped by the set of jobs that start in them (jobs by number, in the
    order a crowd names them: by name, schedule and executor)."""

    def key(numbers: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted(set(numbers)))

    every_week: dict[tuple[int, ...], list[tuple[int, int, int]]] = defaultdict(list)
    for slot, found in weekly.items():
        if len(found) > limit:
            every_week[key(found)].append(slot)
    dated: dict[tuple[int, ...], list[tuple[date, int, int]]] = defaultdict(list)
    for (day, hour, minute), found in on_dates.items():
        together = [*weekly.get((day.weekday(), hour, minute), ()), *found]
        if len(together) > limit:
            dated[key(together)].append((day, hour, minute))

    def named(numbers: tuple[int, ...]) -> tuple[WeekJob, ...]:
        return tuple(jobs[n] for n in numbers)

    crowds = [Crowd(named(k), slots=tuple(sorted(s))) for k, s in every_week.items()]
    crowds += [Crowd(named(k), dates=tuple(sorted(d))) for k, d in dated.items()]
    return tuple(sorted(crowds, key=Crowd.sort_key))


MAX_CROWDS_IN_A_WARNING = 3


def _warnings(crowds: tuple[Crowd, ...], limit: int) -> list[Diagnostic]:
    """One warning per job that is in a crowded minute, at its schedule, naming the others."""
    of_job: dict[WeekJob, list[Crowd]] = defaultdict(list)
    for crowd in crowds:
        for job in crowd.jobs:
            of_job[job].append(crowd)
    texts: dict[int, str] = {}  # by id(crowd): each crowd's text, written once for its jobs

    def text(crowd: Crowd) -> str:
        if id(crowd) not in texts:
            texts[id(crowd)] = f"{crowd.sentence()}: {', '.join(j.name for j in crowd.jobs)}"
        return texts[id(crowd)]

    diags = []
    for job, found in of_job.items():
        parts = [text(crowd) for crowd in found[:MAX_CROWDS_IN_A_WARNING]]
        if len(found) > MAX_CROWDS_IN_A_WARNING:
            parts.append(f"and {len(found) - MAX_CROWDS_IN_A_WARNING} more (REPORT.md)")
        diags.append(
            warning(
                "R701",
                f"`{job.schedule}` starts with more jobs than [report] max_starts_per_minute = "
                f"{limit}: " + "; ".join(parts),
                job.span,
            )
        )
    return diags
