"""Placed tasks to the `Plan`: the jobs, procedures and startup calls of pg_cron, the crontab
and boot jobs of Oban, and the checks that span tasks (pg_cron 1.4's 63-byte job names)."""

from __future__ import annotations

from collections.abc import Iterable

from .. import schedule as sched
from ..classify import Classified
from ..diagnostics import Diagnostic, error
from ..model import Settings
from .model import (
    HISTORY_JOB,
    HISTORY_SCHEDULE,
    ObanJob,
    ObanOption,
    PgCheck,
    PgJob,
    PgProcedure,
    Plan,
    StartupCall,
    oban_zone,
    procedure_command,
)
from .placement import Placement


def build_plan(
    placements: Iterable[Placement], settings: Settings
) -> tuple[Plan | None, list[Diagnostic]]:
    """The desired state of both executors, or None with the diagnostics that prevent it."""
    placements = tuple(placements)
    jobs: list[PgJob] = []
    procedures: list[PgProcedure] = []
    startup: list[StartupCall] = []
    oban: list[ObanJob] = []
    checks: list[PgCheck] = []
    for p in placements:
        if p.classified.executor == "pg_cron":
            _pg_cron_part(p, settings.pg_cron.schema, settings.timezone, jobs, procedures, startup)
            checks += _pg_checks(p.classified)
        else:
            oban.extend(_oban_jobs(p))
    if settings.pg_cron.keep_history is not None:
        jobs.append(_history_job(settings.pg_cron.keep_history))
    diags = _job_name_checks(jobs, settings.pg_cron.target, placements)
    if diags:
        return None, diags
    target = settings.pg_cron.target
    disabled = sorted(
        p.classified.task.name
        for p in placements
        if p.classified.executor == "oban" and not p.classified.task.enabled
    )
    plan = Plan(
        config=settings,
        pg_timezone=target.zone(settings.timezone),
        jobs=tuple(sorted(jobs, key=lambda j: j.jobname)),
        procedures=tuple(sorted(procedures, key=lambda p: p.name)),
        startup_calls=tuple(startup),
        oban_timezone=oban_zone(settings.timezone),
        oban_jobs=tuple(oban),
        oban_disabled=tuple(disabled),
        checks=tuple(checks),
    )
    return plan, []


def _pg_cron_part(
    p: Placement,
    schema: str,
    project_zone: str,
    jobs: list[PgJob],
    procedures: list[PgProcedure],
    startup: list[StartupCall],
) -> None:
    task = p.classified.task
    command, procedure = _pg_command(p.classified, schema)
    if procedure is not None:
        procedures.append(procedure)
    # cronspec refuses any schedule pg_cron would read otherwise, so the spec's own text means
    # the same to pg_cron, unless the schedule was moved to another zone (1.4 runs in GMT)
    same_zone = sched.same_zone(task.timezone, p.target.zone(project_zone))
    for s in p.schedules:
        if s.emitted is None:
            if task.enabled:
                startup.append(StartupCall(command, task.name, task.path))
            continue
        assert s.job is not None
        text = s.source.schedule.text.strip()
        written = text if same_zone and text != s.emitted.text else None
        jobs.append(
            PgJob(
                s.job,
                s.emitted.text,
                command,
                task.enabled,
                task.name,
                task.path,
                task.database,
                written,
            )
        )


def _pg_command(c: Classified, schema: str) -> tuple[str, PgProcedure | None]:
    """The job command of a pg_cron task, and the procedure it calls, if any: classify's `run`
    decides which (run.py), and why."""
    task = c.task
    assert task.sql is not None and c.analysis is not None and c.run is not None
    if c.run.mode == "command":
        return c.run.command, None
    procedure = PgProcedure(
        schema, task.name, task.sql, c.analysis.fingerprint, task.name, task.path
    )
    return procedure_command(schema, task.name), procedure


def _pg_checks(c: Classified) -> list[PgCheck]:
    """What the migration checks for a task before it changes anything (placements are sorted
    by task, so the checks are too)."""
    task = c.task
    return [
        PgCheck(task.name, task.path, k.kind, k.schema, k.name, k.line, k.about) for k in c.checks
    ]


def _oban_jobs(p: Placement) -> list[ObanJob]:
    task = p.classified.task
    if not task.enabled:
        return []
    assert task.worker is not None
    options: list[ObanOption] = []
    if task.args is not None and task.args.data():
        options.append(("args", task.args))
    for key, value in (
        ("queue", task.queue),
        ("priority", task.priority),
        ("max_attempts", task.max_attempts),
    ):
        if value is not None:
            options.append((key, value))
    expressions = [s.emitted.text if s.emitted else None for s in p.schedules]
    return [ObanJob(expr, task.worker, tuple(options), task.name) for expr in expressions]


def _history_job(keep: str) -> PgJob:
    # the interval matched spec.INTERVAL_PATTERN: digits and a unit, safe in a literal
    return PgJob(
        HISTORY_JOB,
        HISTORY_SCHEDULE,
        f"DELETE FROM cron.job_run_details WHERE end_time < now() - interval '{keep}'",
        True,
        HISTORY_JOB,
        "cronspec.toml",
    )


def _job_name_checks(
    jobs: list[PgJob], target: sched.Target, placements: tuple[Placement, ...]
) -> list[Diagnostic]:
    """pg_cron before 1.5 keeps 63 bytes of a job name: longer names are cut, and may merge."""
    if target.version >= (1, 5):
        return []
    spans = {p.classified.task.name: p.classified.task.span("name") for p in placements}
    diags = []
    seen: dict[bytes, str] = {}
    for job in jobs:
        encoded = job.jobname.encode()
        span = spans.get(job.task)
        if span is None:  # cronspec's own job
            continue
        if len(encoded) > 63:
            diags.append(
                error(
                    "C307",
                    f"{target.label} cuts job names to 63 bytes; `{job.jobname}` is "
                    f"{len(encoded)}; shorten the task name",
                    span,
                )
            )
        cut = encoded[:63]
        if cut in seen and seen[cut] != job.jobname:
            diags.append(
                error(
                    "C307",
                    f"jobs `{seen[cut]}` and `{job.jobname}` become one job on {target.label}, "
                    "which keeps 63 bytes of a name",
                    span,
                )
            )
        seen.setdefault(cut, job.jobname)
    return diags
