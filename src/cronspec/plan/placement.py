"""Each classified task placed on its executor: every schedule compiled for it, and the names
of its pg_cron jobs. Both the desired state (`build.py`) and the report (`views.py`) read this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import schedule as sched
from ..classify import Classified
from ..diagnostics import Diagnostic, error
from ..model import Settings, TaskSchedule


@dataclass(frozen=True)
class PlacedSchedule:
    """One schedule of a task, as its executor gets it."""

    source: TaskSchedule
    emitted: sched.Emitted | None  # None for @startup, cronspec's own trigger
    job: str | None  # the pg_cron job's name, when it has one


@dataclass(frozen=True)
class Placement:
    """A task on its executor."""

    classified: Classified
    target: sched.Target
    schedules: tuple[PlacedSchedule, ...]


def place(
    classified: Iterable[Classified], settings: Settings
) -> tuple[tuple[Placement, ...], list[Diagnostic]]:
    """Every task placed, sorted by name; a task or schedule its executor cannot run is left
    out with its diagnostic."""
    diags: list[Diagnostic] = []
    placements: list[Placement] = []
    for c in sorted(classified, key=lambda c: c.task.name):
        task = c.task
        target = settings.pg_cron.target if c.executor == "pg_cron" else settings.oban.target
        if c.executor == "oban":
            # the Oban plugin has one zone: a task that asks for another is refused once
            refusal = sched.zone_refusal(target, task.timezone, settings.timezone)
            if refusal is not None:
                diags.append(error("C306", refusal, task.span("timezone")))
                continue
        schedules: list[PlacedSchedule] = []
        jobs = 0
        for ts in task.schedules:
            if isinstance(ts.schedule.meaning, sched.Startup):
                schedules.append(PlacedSchedule(ts, None, None))
                continue
            emitted = sched.compile_schedule(
                ts.schedule, target, zone=task.timezone, project_zone=settings.timezone, at=ts.span
            )
            if isinstance(emitted, Diagnostic):
                diags.append(emitted)
                continue
            jobs += 1
            job = None
            if c.executor == "pg_cron":
                job = task.name if jobs == 1 else f"{task.name}:{jobs}"
            schedules.append(PlacedSchedule(ts, emitted, job))
        placements.append(Placement(c, target, tuple(schedules)))
    return tuple(placements), diags
