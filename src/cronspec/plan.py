"""The intermediate model: what each executor should hold, as frozen values, built from tasks.

Renderers turn a `Plan` into text; `db.py` reads a live database into the same `PgJob` and
`PgProcedure` values so that the two can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from . import schedule as sched
from .classify import Classified
from .diagnostics import Diagnostic, error
from .spec import ProjectConfig

UTC_NAMES = sched.UTC_NAMES
HISTORY_JOB = "cronspec:purge-run-history"
HISTORY_SCHEDULE = "17 3 * * *"


@dataclass(frozen=True)
class PgJob:
    jobname: str
    schedule: str
    command: str
    active: bool
    task: str
    spec: str
    database: str | None = None  # None: the database the migration runs in


@dataclass(frozen=True)
class PgProcedure:
    schema: str
    name: str
    body: str
    fingerprint: str
    task: str
    spec: str


@dataclass(frozen=True)
class ObanJob:
    """A crontab entry (`expr` set) or a job enqueued at boot (`expr` None)."""

    expr: str | None
    worker: str
    opts: tuple[tuple[str, Any], ...]
    task: str


@dataclass(frozen=True)
class ScheduleView:
    text: str
    emitted: str | None  # None for @startup
    words: str
    job: str | None  # the pg_cron job name, when it has one
    runs: tuple[sched.Run, ...]


@dataclass(frozen=True)
class TaskView:
    name: str
    path: str
    description: str
    classification: str
    executor: str
    reasons: tuple[str, ...]
    enabled: bool
    timezone: str
    schedules: tuple[ScheduleView, ...]


@dataclass(frozen=True)
class Plan:
    config: ProjectConfig
    pg_timezone: str  # the zone pg_cron schedules are written for
    jobs: tuple[PgJob, ...]
    procedures: tuple[PgProcedure, ...]
    startup_calls: tuple[PgJob, ...]  # commands the migration runs once (schedule "@startup")
    oban_timezone: str
    oban_jobs: tuple[ObanJob, ...]
    tasks: tuple[TaskView, ...]

    @property
    def schema(self) -> str:
        return self.config.pg_cron.schema_


# Many tasks share a schedule; the report's next runs depend only on these values.
_next_runs = lru_cache(maxsize=4096)(sched.next_runs)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def procedure_command(schema: str, name: str) -> str:
    return f"CALL {quote_ident(schema)}.{quote_ident(name)}()"


is_utc = sched.is_utc


def oban_zone(zone: str) -> str:
    return "Etc/UTC" if is_utc(zone) else zone


def _oban_opts(c: Classified) -> tuple[tuple[str, Any], ...]:
    task = c.task
    opts: list[tuple[str, Any]] = []
    if task.args:
        opts.append(("args", task.args))
    for key in ("queue", "priority", "max_attempts"):
        value = getattr(task, key)
        if value is not None:
            opts.append((key, value))
    return tuple(opts)


def _pg_command(c: Classified, schema: str) -> tuple[str, PgProcedure | None]:
    """The job command of a pg_cron task, and the procedure it calls, if any."""
    task = c.task
    assert task.sql is not None and c.analysis is not None
    if c.standalone:
        return c.analysis.statements[0].text, None
    if task.database is not None:
        # the migration cannot create a procedure in another database: the body is the
        # command, which pg_cron runs as one transaction
        return task.sql.rstrip("\n"), None
    procedure = PgProcedure(
        schema, task.name, task.sql, c.analysis.fingerprint, task.name, task.path
    )
    return procedure_command(schema, task.name), procedure


def build_plan(
    classified: list[Classified],
    config: ProjectConfig,
) -> tuple[Plan | None, list[Diagnostic]]:
    target = sched.pg_cron(config.pg_cron.version)
    diags: list[Diagnostic] = []
    jobs: list[PgJob] = []
    procedures: list[PgProcedure] = []
    startup: list[PgJob] = []
    oban: list[ObanJob] = []
    views: list[TaskView] = []
    schema = config.pg_cron.schema_
    pg_zone = config.timezone if target.timezone_setting else "UTC"
    start = datetime.fromisoformat(config.report.from_).replace(tzinfo=ZoneInfo(config.timezone))
    for c in sorted(classified, key=lambda c: c.task.name):
        task = c.task
        executor_target = target if c.executor == "pg_cron" else sched.OBAN
        command = None
        if c.executor == "pg_cron":
            command, procedure = _pg_command(c, schema)
            if procedure is not None:
                procedures.append(procedure)
        elif refusal := sched.zone_refusal(sched.OBAN, task.timezone, config.timezone):
            diags.append(error("C306", refusal, task.span("timezone")))
            continue
        schedule_views: list[ScheduleView] = []
        job_number = 0
        for ts in task.schedules:
            meaning = ts.schedule.meaning
            if isinstance(meaning, sched.Startup):
                if c.executor == "pg_cron" and task.enabled:
                    assert command is not None
                    startup.append(
                        PgJob("@startup", "@startup", command, True, task.name, task.path)
                    )
                elif task.enabled:
                    assert task.worker is not None
                    oban.append(ObanJob(None, task.worker, _oban_opts(c), task.name))
                schedule_views.append(
                    ScheduleView(
                        ts.schedule.text.strip(), None, sched.describe(ts.schedule), None, ()
                    )
                )
                continue
            compiled = sched.compile_schedule(
                ts.schedule,
                executor_target,
                zone=task.timezone,
                project_zone=config.timezone,
                at=ts.span,
            )
            if isinstance(compiled, Diagnostic):
                diags.append(compiled)
                continue
            text = compiled.text
            job_number += 1
            jobname = None
            if c.executor == "pg_cron":
                assert command is not None
                jobname = task.name if job_number == 1 else f"{task.name}:{job_number}"
                jobs.append(
                    PgJob(jobname, text, command, task.enabled, task.name, task.path, task.database)
                )
            elif task.enabled:
                assert task.worker is not None
                oban.append(ObanJob(text, task.worker, _oban_opts(c), task.name))
            runs = _next_runs(
                ts.schedule.meaning,
                start,
                ZoneInfo(task.timezone),
                config.report.next_runs,
                executor_target,
            )
            schedule_views.append(
                ScheduleView(
                    ts.schedule.text.strip(),
                    text,
                    sched.describe(ts.schedule),
                    jobname,
                    tuple(runs),
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
                tuple(schedule_views),
            )
        )
    if config.pg_cron.keep_history is not None:
        # the interval matched spec.INTERVAL_PATTERN: digits and a unit, safe in a literal
        jobs.append(
            PgJob(
                HISTORY_JOB,
                HISTORY_SCHEDULE,
                "DELETE FROM cron.job_run_details WHERE end_time < now() - "
                f"interval '{config.pg_cron.keep_history}'",
                True,
                HISTORY_JOB,
                "cronspec.toml",
            )
        )
    diags.extend(_job_name_checks(jobs, target, classified))
    if any(d.is_error for d in diags):
        return None, diags
    plan = Plan(
        config,
        pg_zone,
        tuple(sorted(jobs, key=lambda j: j.jobname)),
        tuple(sorted(procedures, key=lambda p: p.name)),
        tuple(startup),
        oban_zone(config.timezone),
        tuple(oban),
        tuple(views),
    )
    return plan, diags


def _job_name_checks(
    jobs: list[PgJob], target: sched.Target, classified: list[Classified]
) -> list[Diagnostic]:
    if target.version >= (1, 5):
        return []
    spans = {c.task.name: c.task.span("name") for c in classified}
    diags = []
    seen: dict[bytes, str] = {}
    for job in jobs:
        encoded = job.jobname.encode()
        span = spans.get(job.task)
        if span is None:
            continue
        if len(encoded) > 63:
            diags.append(
                error(
                    "C307",
                    f"{target.label} cuts job names to 63 bytes; "
                    f"`{job.jobname}` is {len(encoded)}; shorten the task "
                    "name",
                    span,
                )
            )
        cut = encoded[:63]
        if cut in seen and seen[cut] != job.jobname:
            diags.append(
                error(
                    "C307",
                    f"jobs `{seen[cut]}` and `{job.jobname}` become one job "
                    f"on {target.label}, which keeps 63 bytes of "
                    "a name",
                    span,
                )
            )
        seen.setdefault(cut, job.jobname)
    return diags
