"""`cronspec compile` and `cronspec explain`: the specs through every pure stage to the files.

load -> validate -> classify -> place -> plan (and views) -> render -> (write | check)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .. import output
from ..classify import Classified, classify
from ..diagnostics import Diagnostic, has_errors, sort_diagnostics
from ..load.config import load_config
from ..load.project import read_documents
from ..model import Settings, Task
from ..plan import Placement, Plan, TaskView, build_plan, place, report_views, task_views
from ..plan.week import Week, week_view
from ..render import parseback
from ..render.ecto import render_ecto
from ..render.oban import render_crontab
from ..render.pg_cron import migration_parts, rollback_parts
from ..render.report import render_report
from ..render.week import render_week
from ..validate import validate_all


class InternalError(Exception):
    """A cronspec bug (for example emitted SQL that does not parse back). Exit code 2."""


@dataclass
class Compiled:
    """Everything a compile found and made, short of touching generated/."""

    config: Settings | None
    diagnostics: list[Diagnostic]
    classified: list[Classified] = field(default_factory=list)
    plan: Plan | None = None
    files: dict[str, str] = field(default_factory=dict)
    placements: tuple[Placement, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether it has a plan and no errors."""
        return self.plan is not None and not has_errors(self.diagnostics)


def load_tasks(root: Path, settings: Settings) -> tuple[list[Task], list[Diagnostic]]:
    """The project's specs, read and validated."""
    return validate_all(read_documents(root, settings), settings.timezone)


def render_files(
    plan: Plan, views: tuple[TaskView, ...], week: Week | None = None
) -> dict[str, str]:
    """The generated files by name; emitted SQL that does not parse back is a bug."""
    sql_parts = {"pg_cron.sql": migration_parts(plan), "pg_cron_rollback.sql": rollback_parts(plan)}
    for name, parts in sql_parts.items():
        # piece by piece (render/parseback.py): every statement by PostgreSQL's parser, each
        # shape by sqlglot; memory stays bounded by the largest statement, not the file
        problems = parseback.problems(parts)
        if problems:
            raise InternalError(f"generated {name} does not parse back: " + "; ".join(problems))
    return {
        **{name: "".join(parts) for name, parts in sql_parts.items()},
        "pg_cron.exs": render_ecto(plan),
        "oban_crontab.exs": render_crontab(plan),
        "REPORT.md": render_report(plan, views, render_week(week) if week else ()),
    }


def compile_specs(root: Path) -> Compiled:
    """Everything short of touching generated/: diagnostics, the plan and the file texts."""
    settings, diags = load_config(root)
    if settings is None:
        return Compiled(None, sort_diagnostics(diags))
    tasks, task_diags = load_tasks(root, settings)
    diags += task_diags
    classified: list[Classified] = []
    for task in tasks:
        result, class_diags = classify(task)
        diags.extend(class_diags)
        if result is not None:
            classified.append(result)
    # the valid tasks are placed and planned even when others have errors: every error of the
    # run is reported at once, and `explain` shows what is valid
    placements, place_diags = place(classified, settings)
    plan, plan_diags = build_plan(placements, settings)
    week, week_diags = week_view(placements, settings)  # warnings only (R701)
    diags += place_diags + plan_diags + week_diags
    if plan is None or has_errors(diags):
        return Compiled(settings, sort_diagnostics(diags), classified, placements=placements)
    files = render_files(plan, report_views(placements, settings), week)
    return Compiled(settings, sort_diagnostics(diags), classified, plan, files, placements)


@dataclass(frozen=True)
class CompileOutcome:
    """`cronspec compile`: what was compiled, how generated/ compares, whether it was written."""

    compiled: Compiled
    comparison: output.Comparison | None
    wrote: bool
    error: str | None = None  # the output folder could not be read or written (one line)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The compile's diagnostics, sorted."""
        return self.compiled.diagnostics


def compile_project(root: Path, *, check: bool = False) -> CompileOutcome:
    """`cronspec compile [--check]`: nothing is written when any spec has an error."""
    compiled = compile_specs(root)
    if not compiled.ok or compiled.config is None:
        return CompileOutcome(compiled, None, False)
    out_dir = root / compiled.config.output
    try:
        if check:
            comparison = output.compare(out_dir, compiled.files, compiled.config.output)
        else:  # compared again under the writer's lock: what this run changed
            comparison = output.write(out_dir, compiled.files, project_root=root)
    except output.OutputError as exc:
        return CompileOutcome(compiled, None, False, str(exc))
    return CompileOutcome(compiled, comparison, not check and comparison.stale)


def explain(
    root: Path, task_name: str | None = None, start: datetime | None = None, count: int = 5
) -> tuple[list[dict[str, Any]], Compiled]:
    """Per task: classification, reasons, executor, schedules in words and next runs.

    Next runs count from `start` (naive: in each task's zone), or from now (REPORT.md counts
    from `[report] from` instead, so that it does not depend on the clock). The tasks are the
    valid ones: explain works while other specs have errors (`compiled.diagnostics`).
    """
    compiled = compile_specs(root)

    def start_in(zone: ZoneInfo) -> datetime:
        moment = start or datetime.now(zone)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    failed = {d.span.path for d in compiled.diagnostics if d.is_error}
    placements = [
        p
        for p in compiled.placements
        if task_name in (None, p.classified.task.name) and p.classified.task.path not in failed
    ]
    tasks_by_name = {p.classified.task.name: p.classified.task for p in placements}
    tasks = []
    schema = compiled.config.pg_cron.schema if compiled.config else "cronspec"
    for view in task_views(placements, start_in, count, schema):
        schedules = [
            {
                "schedule": s.text,
                "emitted": s.emitted,
                "job": s.job,
                "words": s.words,
                "next_runs": [r.local.isoformat() for r in s.runs],
                "notes": sorted({r.note for r in s.runs if r.note}),
                "dst_changes": list(s.changes),
            }
            for s in view.schedules
        ]
        tasks.append(
            {
                "name": view.name,
                "spec": view.path,
                "description": view.description,
                "classification": view.classification,
                "executor": view.executor,
                "enabled": view.enabled,
                "timezone": view.timezone,
                "next_runs_after": view.start.isoformat() if view.start else None,
                "counted_from": "--from" if start is not None else "now",
                "reasons": list(view.reasons),
                "schedules": schedules,
                "policy": _policy(tasks_by_name[view.name]),
                "policies": list(view.policies),
            }
        )
    return tasks, compiled


def _policy(task: Task) -> dict[str, Any]:
    """A task's run-time policies as the spec gives them, defaults filled in (explain)."""
    p = task.policy
    retry = None
    if p.retry is not None:
        backoff = p.retry.backoff.text if p.retry.backoff else None
        retry = {"attempts": p.retry.attempts, "backoff": backoff}
    return {
        "overlap": p.overlap or "queue",
        "timeout": p.timeout.text if p.timeout else None,
        "retry": retry,
        "settings": dict(p.settings),
    }
