"""REPORT.md's week at a glance: a plain Markdown table of hours by weekday, which GitHub
renders and which stays readable with many tasks (a Gantt chart of a hundred daily jobs does
not). Jobs that start every hour, on some dates only, or at no fixed time are listed, not
drawn; crowded minutes are a warning above the table and a mark in their cell.
"""

from __future__ import annotations

from collections import defaultdict

from ..plan.week import DAYS, Cell, Week, WeekJob, days_words
from .report import code, md

MAX_MINUTES_IN_CELL = 3  # a job with more starts in one hour is written `name (N starts)`


def _name(job: WeekJob) -> str:
    """pg_cron jobs in bold, Oban jobs plain."""
    return f"**{md(job.name)}**" if job.executor == "pg_cron" else md(job.name)


def _listed(jobs: list[WeekJob]) -> str:
    return ", ".join(f"{_name(j)} ({code(j.schedule)}: {md(j.words)})" for j in jobs)


def _cell(cell: Cell, crowded: dict[tuple[int | None, int], dict[int, int]]) -> str:
    per_job: dict[WeekJob, list[int]] = defaultdict(list)
    for minute, job in cell.starts:
        per_job[job].append(minute)
    many = sorted((j for j, m in per_job.items() if len(m) > MAX_MINUTES_IN_CELL), key=_key)
    by_minute: dict[int, list[WeekJob]] = defaultdict(list)
    for minute, job in cell.starts:
        if job not in many:
            by_minute[minute].append(job)
    parts = [
        f":{m:02d} " + ", ".join(_name(j) for j in jobs) for m, jobs in sorted(by_minute.items())
    ]
    parts += [f"{_name(j)} ({len(per_job[j])} starts)" for j in many]
    marks = crowded.get((cell.day, cell.hour), {})
    parts += [f"⚠ {n} jobs at :{m:02d}" for m, n in sorted(marks.items())]
    return "; ".join(parts)


def _key(job: WeekJob) -> tuple[str, str]:
    return job.name, job.schedule


def render_week(week: Week) -> list[str]:
    """The section's lines, from its heading on."""
    lines = [
        "",
        "## A week at a glance",
        "",
        f"When each job starts, in {week.zone} (the project's zone); **bold**: pg_cron, "
        "plain: Oban. A row for each hour in which a job of the table starts; ⚠ marks a "
        "minute where more jobs start than the limit, counting every job, listed or drawn.",
    ]
    for crowd in week.crowds:
        names = ", ".join(_name(j) for j in crowd.jobs)
        lines += [
            "",
            f"> **Warning (R701):** {md(crowd.sentence())}, more than "
            f"`[report] max_starts_per_minute` = {week.limit}: {names}.",
        ]
    if week.hourly:
        lines += ["", "Every hour:"]
        for h in week.hourly:
            on = "" if len(h.days) == 7 else f" ({days_words(h.days)})"
            lines.append(f"- {_listed([h.job])}{on}")
    # a crowded minute is marked in its hour's row: in the every-day column when it is crowded
    # on all seven days, else in each weekday's
    crowded: dict[tuple[int | None, int], dict[int, int]] = defaultdict(dict)
    for crowd in week.crowds:
        days_at: dict[tuple[int, int], set[int]] = defaultdict(set)
        for day, hour, minute in crowd.slots:  # weekly crowds; dated ones are in the warning
            days_at[(hour, minute)].add(day)
        for (hour, minute), days in days_at.items():
            columns: tuple[int | None, ...] = (None,) if len(days) == 7 else tuple(sorted(days))
            for column in columns:
                crowded[(column, hour)][minute] = len(crowd.jobs)
    cells = {(c.day, c.hour): c for c in week.cells}
    hours = sorted({c.hour for c in week.cells} | {h for (_, h) in crowded})
    if hours:
        lines += ["", "| Hour | Every day | " + " | ".join(DAYS) + " |", "|---" * 9 + "|"]
        for hour in hours:
            row = [f"{hour:02d}"]
            for day in (None, *range(7)):
                cell = cells.get((day, hour), Cell(day, hour, ()))
                row.append(_cell(cell, crowded))
            lines.append("| " + " | ".join(row) + " |")
    if week.dated:
        lines += ["", "On some dates only (not drawn):"]
        lines += [f"- {_listed([job])}" for job in week.dated]
    if week.not_drawn:
        lines += ["", "Not drawn:"]
        for job, why in week.not_drawn:
            lines.append(f"- {_name(job)} ({code(job.schedule)}): {md(why)}")
    return lines
