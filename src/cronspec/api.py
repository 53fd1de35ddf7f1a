"""One function per command, returning values. The CLI is a thin shell over these.

load -> validate -> classify -> place -> plan (and views) -> render -> (write | check)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import output
from .classify import Classified, classify, unparsable_statements
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .load.config import load_config
from .load.project import read_documents
from .model import Settings, Task
from .plan import Placement, Plan, TaskView, build_plan, place, report_views, task_views
from .render.oban import render_crontab
from .render.pg_cron import migration_parts, rollback_parts
from .render.report import render_report
from .validate import validate_all


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


def render_files(plan: Plan, views: tuple[TaskView, ...]) -> dict[str, str]:
    """The generated files by name; emitted SQL that does not parse back is a bug."""
    sql_parts = {"pg_cron.sql": migration_parts(plan), "pg_cron_rollback.sql": rollback_parts(plan)}
    for name, parts in sql_parts.items():
        # piece by piece: memory stays bounded by the largest statement, not the file
        problems = [p for part in parts for p in unparsable_statements(part)]
        if problems:
            raise InternalError(
                f"generated {name} does not parse back with sqlglot: " + "; ".join(problems)
            )
    return {
        **{name: "".join(parts) for name, parts in sql_parts.items()},
        "oban_crontab.exs": render_crontab(plan),
        "REPORT.md": render_report(plan, views),
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
    if has_errors(diags):
        return Compiled(settings, sort_diagnostics(diags), classified)
    placements, place_diags = place(classified, settings)
    plan, plan_diags = build_plan(placements, settings)
    diags += place_diags + plan_diags
    if plan is None or has_errors(diags):
        return Compiled(settings, sort_diagnostics(diags), classified)
    files = render_files(plan, report_views(placements, settings))
    return Compiled(settings, sort_diagnostics(diags), classified, plan, files, placements)


@dataclass(frozen=True)
class CompileOutcome:
    """`cronspec compile`: what was compiled, how generated/ compares, whether it was written."""

    compiled: Compiled
    comparison: output.Comparison | None
    wrote: bool

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
    comparison = output.compare(out_dir, compiled.files, compiled.config.output, with_diff=check)
    if not check and comparison.stale:
        output.write(out_dir, compiled.files, comparison)
        return CompileOutcome(compiled, comparison, True)
    return CompileOutcome(compiled, comparison, False)


def explain(
    root: Path, task_name: str | None = None, start: datetime | None = None, count: int = 5
) -> tuple[list[dict[str, Any]], Compiled]:
    """Per task: classification, reasons, executor, schedules in words and next runs.

    Next runs count from `start` (naive: in each task's zone), or from now.
    """
    compiled = compile_specs(root)
    if compiled.plan is None:
        return [], compiled

    def start_in(zone: ZoneInfo) -> datetime:
        moment = start or datetime.now(zone)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    placements = [p for p in compiled.placements if task_name in (None, p.classified.task.name)]
    tasks = []
    for view in task_views(placements, start_in, count):
        schedules = [
            {
                "schedule": s.text,
                "emitted": s.emitted,
                "job": s.job,
                "words": s.words,
                "next_runs": [r.local.isoformat() for r in s.runs],
                "notes": sorted({r.note for r in s.runs if r.note}),
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
                "reasons": list(view.reasons),
                "schedules": schedules,
            }
        )
    return tasks, compiled
