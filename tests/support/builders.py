"""Values the compiler's stages take, built in a line: tasks, settings, and the plan of a few
tasks, so that classify and plan are tested without a project on disk.

`task()` places the keys it sets on lines the way a spec file would, so diagnostics about a
key have a position to check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from cronspec.classify import Classified, classify
from cronspec.diagnostics import Diagnostic, Origin, Span
from cronspec.load.config import settings_from
from cronspec.model import JsonObject, Settings, Task, TaskSchedule
from cronspec.plan import Placement, Plan, build_plan, place
from cronspec.schedule import DayMatch, Schedule, parse
from cronspec.spec import ProjectConfig

KEY_ORDER = (
    "name",
    "description",
    "kind",
    "schedule",
    "executor",
    "worker",
    "needs",
    "args",
    "queue",
    "priority",
    "max_attempts",
    "enabled",
    "timezone",
    "day_match",
    "database",
    "reaches",
    "sql",
)


def settings(**overrides: Any) -> Settings:
    """cronspec.toml's settings: the defaults, with `overrides` as cronspec.toml would set
    them (`settings(timezone="Asia/Tokyo", pg_cron={"version": "1.6"})`)."""
    return settings_from(ProjectConfig.model_validate(overrides))


def task(
    name: str = "x",
    *,
    kind: Literal["sql", "app"] = "sql",
    sql: str | None = "UPDATE t SET a = 1;",
    schedules: Iterable[str] = ("@daily",),
    executor: Literal["auto", "pg_cron", "oban"] = "auto",
    worker: str | None = None,
    needs: Iterable[str] = (),
    args: dict[str, Any] | None = None,
    queue: str | None = None,
    priority: int | None = None,
    max_attempts: int | None = None,
    enabled: bool = True,
    timezone: str = "UTC",
    day_match: DayMatch | None = None,
    database: str | None = None,
    reaches: Iterable[str] = (),
) -> Task:
    """A validated task as `validate` would make it of specs/NAME.yaml.

    `timezone` is the task's zone as validation resolves it: give the project's zone when the
    test's settings name another than UTC.
    """
    path = f"specs/{name}.yaml"
    given = {
        "name": name,
        "description": "d",
        "kind": kind,
        "schedule": True,
        "executor": executor != "auto",
        "worker": worker,
        "needs": tuple(needs) or None,
        "args": args,
        "queue": queue,
        "priority": priority,
        "max_attempts": max_attempts,
        "enabled": not enabled or None,
        "timezone": timezone != "UTC" or None,
        "day_match": day_match,
        "database": database,
        "reaches": tuple(reaches) or None,
        "sql": sql,
    }
    texts = list(schedules)
    keys = [key for key in KEY_ORDER if given[key] is not None and given[key] is not False]
    spans_list, line = [], 1
    for key in keys:  # one line a key; the schedules as a list under `schedule:`
        spans_list.append((key, Span.at(path, line, 1, len(key))))
        line += 1 + (len(texts) if key == "schedule" else 0)
    spans = tuple(spans_list)
    line_of = dict(spans)
    parsed: list[TaskSchedule] = []
    for i, text in enumerate(texts):
        at = Span.at(path, line_of["schedule"].line + 1 + i, 6, len(text))
        schedule = parse(text, day_match, Origin(path, at.line, at.col))
        assert isinstance(schedule, Schedule), schedule
        parsed.append(TaskSchedule(schedule, at))
    body_line = line_of["sql"].line + 1 if sql is not None else 1
    return Task(
        name=name,
        path=path,
        description="d",
        kind=kind,
        executor=executor,
        schedules=tuple(parsed),
        sql=sql.strip() + "\n" if sql is not None else None,
        sql_origin=Origin(path, body_line, 3),
        needs=tuple(sorted(needs)),
        worker=worker,
        args=JsonObject.of(args) if args is not None else None,
        queue=queue,
        priority=priority,
        max_attempts=max_attempts,
        enabled=enabled,
        timezone=timezone,
        day_match=day_match,
        database=database,
        spans=spans,
        reaches=tuple(sorted(reaches)),
    )


def classified(t: Task) -> Classified:
    """The verdict on a task the test means to be classified."""
    result, diags = classify(t)
    assert result is not None, diags
    return result


def plan_of(
    tasks: Iterable[Task], config: Settings | None = None
) -> tuple[Plan | None, tuple[Placement, ...], list[Diagnostic]]:
    """Classify, place and plan `tasks`: the plan (None on errors), the placements and every
    diagnostic on the way."""
    config = config or settings()
    results = [classify(t) for t in tasks]
    diags = [d for _, ds in results for d in ds]
    placements, place_diags = place([c for c, _ in results if c is not None], config)
    plan, plan_diags = build_plan(placements, config)
    diags += place_diags + plan_diags
    return (plan if not any(d.is_error for d in diags) else None), placements, diags
