"""One function per command, returning values. The CLI is a thin shell over these.

load -> validate -> classify -> place -> plan (and views) -> render -> (write | check)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from . import db, importer, output, queryplan
from .classify import Classified, classify
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .load.config import load_config
from .load.project import read_documents
from .model import Settings, Task
from .plan import Placement, Plan, TaskView, build_plan, place, report_views, task_views
from .plan.week import Week, week_view
from .render import parseback
from .render.ecto import render_ecto
from .render.oban import render_crontab
from .render.pg_cron import migration_parts, rollback_parts
from .render.report import render_report
from .render.week import render_week
from .status import StatusReport, judge
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
    review: queryplan.Review | None = None  # `plan --explain`: the query plans, read

    @property
    def project(self) -> str:
        """The project whose objects the migration manages."""
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
        """Whether the migration refused an object that is not this project's."""
        return any(a.action == "clash" for a in self.actions)

    @property
    def changes(self) -> bool:
        """Whether applying would change the database (adoptions count)."""
        return any(a.changes for a in self.actions)


def live(
    root: Path,
    command: LiveCommand,
    dsn: str,
    *,
    adopt: bool = False,
    explain: queryplan.Thresholds | None = None,
) -> LiveOutcome:
    """Run the project's migration against a database: rolled back (plan, drift) or committed.

    All three run the same SQL as generated/pg_cron.sql, so a plan shows exactly what an apply
    does. An apply refuses a stale generated/ (plan and drift only warn: see `stale`).

    `explain` (plan only): EXPLAIN every statement of every pg_cron job inside the plan's
    transaction, after the migration ran, and read the plans for per-row work (`review`).
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
    targets: tuple[queryplan.Target, ...] = ()
    if explain is not None and command == "plan":
        from .queryplan.targets import targets as explain_targets  # loads libpg_query

        targets = explain_targets(compiled.placements, compiled.plan)
    here = [t.request for t in targets if t.request is not None and t.request.database is None]
    try:
        conn = db.connect(dsn)
        with conn:
            report = db.run_migration(
                conn,
                compiled.files["pg_cron.sql"],
                plan=command != "apply",
                adopt=adopt,
                explain=here,
            )
        review = None
        if explain is not None and command == "plan":
            review = queryplan.review(targets, _explained(dsn, targets, report), explain)
    except db.DbError as exc:
        return LiveOutcome(command, compiled, stale, error=exc)
    return LiveOutcome(command, compiled, stale, report, review=review)


def _explained(
    dsn: str, targets: tuple[queryplan.Target, ...], report: db.Report
) -> list[queryplan.Explained | None]:
    """The EXPLAIN result of each target, in order: those of the migration's database from the
    plan's own transaction, the others (`database:` tasks) from their database."""
    here = iter(report.explained)
    elsewhere: dict[str, list[queryplan.Request]] = {}
    for t in targets:
        if t.request is not None and t.request.database is not None:
            elsewhere.setdefault(t.request.database, []).append(t.request)
    there = {
        name: iter(db.explain_in_database(dsn, name, requests))
        for name, requests in elsewhere.items()
    }
    out: list[queryplan.Explained | None] = []
    for t in targets:
        if t.request is None:
            out.append(None)
        elif t.request.database is None:
            out.append(next(here))
        else:
            out.append(next(there[t.request.database]))
    return out


# --- import: existing pg_cron jobs and Oban crontabs to specs ----------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    """What `cronspec import` found and wrote.

    `diagnostics` are cronspec.toml's (nothing is imported when it has errors); `error` is why
    nothing could be imported (the database, Elixir, the folder), one line each.
    """

    diagnostics: list[Diagnostic]
    conversion: importer.Conversion | None = None
    written: tuple[str, ...] = ()  # the spec files written, as shown, in `conversion.specs` order
    error: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether everything found was imported (skipped jobs are cronspec's own already)."""
        return (
            not self.error
            and not has_errors(self.diagnostics)
            and self.conversion is not None
            and not self.conversion.listed
        )


def _import_folder(root: Path, settings: Settings, out: Path | None) -> tuple[Path, str]:
    """The folder specs are written to, and how messages name it."""
    folder = out if out is not None else root / settings.specs
    try:
        return folder, folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return folder, folder.as_posix()


def _existing(folder: Path) -> dict[str, str]:
    """Task names the folder has spec files for, to their file names (`.yml` wins: it is
    never replaced)."""
    found: dict[str, str] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir(), key=lambda p: p.suffix == ".yml"):
            if path.suffix in (".yaml", ".yml"):
                found[path.stem] = path.name
    return found


def _write_specs(
    diags: list[Diagnostic], conversion: importer.Conversion, folder: Path, shown: str, force: bool
) -> ImportOutcome:
    if conversion.error is not None:
        return ImportOutcome(diags, conversion, error=(conversion.error,))
    files = {spec.filename: spec.text for spec in conversion.specs}
    try:
        if files:
            output.add_files(folder, files, replace=force)
    except FileExistsError as exc:
        return ImportOutcome(
            diags,
            conversion,
            error=(f"{shown}: {exc.filename} appeared meanwhile; nothing was written",),
        )
    except output.OutputError as exc:
        return ImportOutcome(diags, conversion, error=(str(exc),))
    return ImportOutcome(
        diags, conversion, tuple(f"{shown}/{s.filename}" for s in conversion.specs)
    )


def import_pg_cron(
    root: Path, dsn: str, *, role: str | None = None, out: Path | None = None, force: bool = False
) -> ImportOutcome:
    """`cronspec import --dsn`: one spec per pg_cron job the connection sees (one role's)."""
    settings, diags = load_config(root)
    if settings is None:
        return ImportOutcome(sort_diagnostics(diags))
    folder, shown = _import_folder(root, settings, out)
    try:
        conn = db.connect(dsn)
        with conn:
            source = db.read_cron_jobs(conn, role)
    except db.DbError as exc:
        return ImportOutcome(diags, error=tuple(exc.lines()))
    conversion = importer.from_pg_cron(
        source.jobs,
        source.server,
        settings,
        folder=shown,
        existing=_existing(folder),
        force=force,
    )
    if not source.jobs:
        who = f"of role {role} " if role else ""
        hint = (
            " (pg_cron shows a role only its own jobs)"
            if role and role != source.server.role
            else ""
        )
        conversion = importer.Conversion(
            notes=(f"no pg_cron jobs {who}visible to role {source.server.role}{hint}",)
        )
    return _write_specs(diags, conversion, folder, shown, force)


def import_oban(
    root: Path, config_file: Path, *, out: Path | None = None, force: bool = False
) -> ImportOutcome:
    """`cronspec import --oban`: one app spec per literal entry of the file's Oban crontab."""
    from .importer.elixir import ElixirError, read_crontab

    settings, diags = load_config(root)
    if settings is None:
        return ImportOutcome(sort_diagnostics(diags))
    folder, shown = _import_folder(root, settings, out)
    try:
        crontab = read_crontab(config_file, config_file.as_posix())
    except ElixirError as exc:
        return ImportOutcome(diags, error=(str(exc),))
    conversion = importer.from_oban(
        crontab, settings, folder=shown, existing=_existing(folder), force=force
    )
    return _write_specs(diags, conversion, folder, shown, force)


# --- status: what the executors recorded ------------------------------------------------------


@dataclass(frozen=True)
class StatusOutcome:
    """What `cronspec status` found. `report` is None when the specs do not compile (see
    `compiled.diagnostics`) or the database could not be read (`error`)."""

    compiled: Compiled
    report: StatusReport | None = None
    error: db.DbError | None = None


def status(
    root: Path,
    dsn: str,
    *,
    runs: int = 10,
    grace: timedelta = timedelta(minutes=5),
    oban_prefix: str = "public",
    oban_dsn: str | None = None,
) -> StatusOutcome:
    """Every job the project manages, on pg_cron (cronspec's bookkeeping, cron.job and
    cron.job_run_details) and on Oban (`oban_jobs`, in the same database unless `oban_dsn`),
    with its last `runs` runs, judged at the database's clock."""
    compiled = compile_specs(root)
    plan = compiled.plan
    if plan is None or not compiled.ok:
        return StatusOutcome(compiled)
    tasks = sorted({job.task for job in plan.oban_jobs})
    workers = sorted({job.worker.removeprefix("Elixir.") for job in plan.oban_jobs})
    try:
        with db.connect(dsn) as conn:
            oban = None
            if plan.oban_jobs:
                oban_conn = db.connect(oban_dsn) if oban_dsn else conn
                oban = (oban_conn, oban_prefix, tasks, workers)
            try:
                observed = db.read_status(conn, plan.project, runs, oban)
            finally:
                if oban is not None and oban[0] is not conn:
                    oban[0].close()
    except db.DbError as exc:
        return StatusOutcome(compiled, error=exc)
    if observed.pg_cron is None and plan.jobs:
        return StatusOutcome(
            compiled,
            error=db.DbError(
                f"pg_cron is not installed in database {observed.database}, and the specs "
                f"have {len(plan.jobs)} pg_cron jobs",
                hint="point --dsn at the database named by cron.database_name; Oban's tables "
                "can be elsewhere (--oban-dsn)",
            ),
        )
    notes = []
    if plan.oban_jobs and observed.oban is None:
        where = "the --oban-dsn database" if oban_dsn else f"database {observed.database}"
        notes.append(
            f"no {oban_prefix}.oban_jobs in {where}: Oban's tasks are not judged (--oban-prefix, "
            "--oban-dsn)"
        )
    report = judge(
        plan,
        observed.pg_cron,
        observed.oban,
        now=observed.now,
        grace=grace,
        runs=runs,
        role=observed.role,
        notes=notes,
    )
    if any(j.executor == "oban" and "never ran" in j.flags for j in report.jobs):
        report = replace(
            report,
            notes=(
                *report.notes,
                "Oban's Pruner deletes finished jobs (after 60 s by default): keep them longer "
                "than the longest interval (`max_age`) for status to see their runs",
            ),
        )
    return StatusOutcome(compiled, report)
