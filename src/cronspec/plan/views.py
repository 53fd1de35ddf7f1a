"""What the report and `cronspec explain` show of each task, apart from the desired state:
its verdict and reasons, each schedule as written, as emitted and in words, and its next runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from .. import schedule as sched
from ..model import Settings
from .placement import Placement
from .policy_views import policy_lines

# Many tasks share a schedule; next runs depend only on these values.
_next_runs = lru_cache(maxsize=4096)(sched.next_runs)
_dst_changes = lru_cache(maxsize=4096)(sched.dst_changes)


@dataclass(frozen=True)
class ScheduleView:
    """One schedule of a task as a reader sees it."""

    text: str
    emitted: str | None  # None for @startup
    words: str
    job: str | None  # the pg_cron job name, when it has one
    runs: tuple[sched.Run, ...]
    changes: tuple[str, ...] = ()  # what daylight-saving changes in the next year do to it


@dataclass(frozen=True)
class TaskView:
    """One task as a reader sees it."""

    name: str
    path: str
    description: str
    classification: str
    executor: str
    reasons: tuple[str, ...]
    enabled: bool
    timezone: str
    schedules: tuple[ScheduleView, ...]
    policies: tuple[str, ...] = ()  # its run-time policies in words, on its executor
    start: datetime | None = None  # next runs and changes count from this instant


def task_views(
    placements: Iterable[Placement],
    start: Callable[[ZoneInfo], datetime],
    count: int,
    schema: str = "cronspec",
) -> tuple[TaskView, ...]:
    """Each task with `count` next runs per schedule after `start(zone of the task)`; `schema`
    is where its procedures are (the policies name them)."""
    views = []
    for p in placements:
        task, c = p.classified.task, p.classified
        zone = ZoneInfo(task.timezone)
        moment = start(zone)
        schedules = []
        for s in p.schedules:
            runs: tuple[sched.Run, ...] = ()
            changes: tuple[str, ...] = ()
            if s.emitted is not None:
                meaning = s.source.schedule.meaning
                runs = tuple(_next_runs(meaning, moment, zone, count, p.target))
                changes = _dst_changes(meaning, moment, zone, p.target)
            schedules.append(
                ScheduleView(
                    s.source.schedule.text.strip(),
                    s.emitted.text if s.emitted else None,
                    sched.describe(s.source.schedule),
                    s.job,
                    runs,
                    changes,
                )
            )
        views.append(
            TaskView(
                task.name,
                task.path,
                task.description,
                c.classification,
                c.executor,
                c.reasons,
                task.enabled,
                task.timezone,
                tuple(schedules),
                policy_lines(task, c.executor, sum(1 for s in p.schedules if s.job), schema),
                moment,
            )
        )
    return tuple(views)


def report_views(placements: Iterable[Placement], settings: Settings) -> tuple[TaskView, ...]:
    """The views REPORT.md shows: next runs after the fixed instant of `[report] from`, in
    the project's zone, so that the report does not depend on the clock."""
    start = datetime.fromisoformat(settings.report.from_).replace(
        tzinfo=ZoneInfo(settings.timezone)
    )
    return task_views(
        placements, lambda _zone: start, settings.report.next_runs, settings.pg_cron.schema
    )
