"""One function per command, returning values. The CLI is a thin shell over these.

load -> validate -> classify -> plan -> render -> (write | check)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from . import db, output
from . import schedule as sched
from .classify import Classified, classify
from .config import load_config
from .diagnostics import Diagnostic, Span, error, has_errors, sort_diagnostics
from .plan import Plan, build_plan
from .render.oban import render_crontab
from .render.pg_cron import migration_parts, rollback_parts
from .render.report import render_report
from .source import parse_document
from .spec import ProjectConfig
from .sqlcheck import unparsable_statements
from .validate import Task, validate

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_SPECS = 50_000


class InternalError(Exception):
    """A cronspec bug (for example emitted SQL that does not parse back). Exit code 2."""


@dataclass
class Compiled:
    config: ProjectConfig | None
    diagnostics: list[Diagnostic]
    classified: list[Classified] = field(default_factory=list)
    plan: Plan | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(self.diagnostics)


def spec_paths(root: Path, specs_dir: str) -> list[Path]:
    folder = root / specs_dir
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file()),
        key=lambda p: p.name,
    )


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def load_tasks(root: Path, config: ProjectConfig) -> tuple[list[Task], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    tasks: list[Task] = []
    paths = spec_paths(root, config.specs)
    if not paths:
        diags.append(
            error("S210", f"no task specs (*.yaml) in {config.specs}/", Span(config.specs))
        )
    seen: dict[str, str] = {}
    for path in paths[:MAX_SPECS]:
        rel = _relative(root, path)
        doc, doc_diags = parse_document(rel, path.read_bytes())
        diags.extend(doc_diags)
        if doc is None:
            continue
        task, task_diags = validate(doc, config.timezone)
        diags.extend(task_diags)
        if task is None:
            continue
        if task.name in seen:
            diags.append(
                error(
                    "S206",
                    f"task `{task.name}` is also defined in {seen[task.name]}",
                    task.span("name"),
                )
            )
            continue
        seen[task.name] = rel
        tasks.append(task)
    return tasks, diags


def render_files(plan: Plan) -> dict[str, str]:
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
        "REPORT.md": render_report(plan),
    }


def compile_specs(root: Path) -> Compiled:
    """Everything short of touching generated/: diagnostics, the plan and the file texts."""
    config, diags = load_config(root)
    if config is None:
        return Compiled(None, sort_diagnostics(diags))
    tasks, task_diags = load_tasks(root, config)
    diags += task_diags
    classified: list[Classified] = []
    for task in tasks:
        result, class_diags = classify(task)
        diags.extend(class_diags)
        if result is not None:
            classified.append(result)
    if has_errors(diags):
        return Compiled(config, sort_diagnostics(diags), classified)
    plan, plan_diags = build_plan(classified, config)
    diags.extend(plan_diags)
    if plan is None or has_errors(diags):
        return Compiled(config, sort_diagnostics(diags), classified)
    return Compiled(config, sort_diagnostics(diags), classified, plan, render_files(plan))


@dataclass(frozen=True)
class CompileOutcome:
    compiled: Compiled
    comparison: output.Comparison | None
    wrote: bool
    error: str | None = None  # the output folder could not be read or written (one line)

    @property
    def diagnostics(self) -> list[Diagnostic]:
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
    """Per task: classification, reasons, executor, schedules in words and next runs."""
    compiled = compile_specs(root)
    plan = compiled.plan
    if plan is None or compiled.config is None:
        return [], compiled
    config = compiled.config
    tasks = []
    target = sched.pg_cron(config.pg_cron.version)
    by_name = {c.task.name: c for c in compiled.classified}
    for view in plan.tasks:
        if task_name is not None and view.name != task_name:
            continue
        c = by_name[view.name]
        zone = ZoneInfo(view.timezone)
        moment = start or datetime.now(zone)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        schedules = []
        for ts, sv in zip(c.task.schedules, view.schedules, strict=True):
            executor_target = target if view.executor == "pg_cron" else sched.OBAN
            runs = sched.next_runs(ts.schedule.meaning, moment, zone, count, executor_target)
            schedules.append(
                {
                    "schedule": sv.text,
                    "emitted": sv.emitted,
                    "job": sv.job,
                    "words": sv.words,
                    "next_runs": [r.local.isoformat() for r in runs],
                    "notes": sorted({r.note for r in runs if r.note}),
                }
            )
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


# --- plan / apply / drift: the live database -----------------------------------------------

LiveCommand = Literal["plan", "apply", "drift"]


@dataclass(frozen=True)
class LiveOutcome:
    """What `cronspec plan`, `apply` or `drift` found: the migration's own record of its actions.

    `error` is set when the specs do not compile (see `compiled.diagnostics`), when generated/
    is stale for an apply, or when the database refused the migration.
    """

    command: LiveCommand
    compiled: Compiled
    stale: bool = False
    report: db.Report | None = None
    error: db.DbError | None = None

    @property
    def project(self) -> str:
        return self.compiled.config.project if self.compiled.config else "default"

    @property
    def actions(self) -> tuple[db.Action, ...]:
        """Every action for plan and apply; for drift, the changes to objects cronspec owns and
        the clashes (what keeps the generated state from applying)."""
        if self.report is None:
            return ()
        if self.command == "drift":
            return tuple(a for a in self.report.actions if a.drift or a.action == "clash")
        return self.report.actions

    @property
    def clashes(self) -> bool:
        return any(a.action == "clash" for a in self.actions)

    @property
    def changes(self) -> bool:
        return any(a.changes for a in self.actions)


def live(root: Path, command: LiveCommand, dsn: str, *, adopt: bool = False) -> LiveOutcome:
    """Run the project's migration against a database: rolled back (plan, drift) or committed.

    All three run the same SQL as generated/pg_cron.sql, so a plan shows exactly what an apply
    does. An apply refuses a stale generated/ (plan and drift only warn: see `stale`).
    """
    outcome = compile_project(root, check=True)
    compiled = outcome.compiled
    if outcome.error is not None:
        return LiveOutcome(command, compiled, error=db.DbError(outcome.error))
    if not compiled.ok or outcome.comparison is None:
        return LiveOutcome(command, compiled)
    stale = outcome.comparison.stale
    if stale and command == "apply":
        return LiveOutcome(
            command,
            compiled,
            stale,
            error=db.DbError(
                "generated/ is stale against specs/; run `cronspec compile` and review the "
                "diff first"
            ),
        )
    try:
        conn = db.connect(dsn)
        with conn:
            report = db.run_migration(
                conn, compiled.files["pg_cron.sql"], plan=command != "apply", adopt=adopt
            )
    except db.DbError as exc:
        return LiveOutcome(command, compiled, stale, error=exc)
    return LiveOutcome(command, compiled, stale, report)
