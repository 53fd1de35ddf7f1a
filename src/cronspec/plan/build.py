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
    SKIP_UNIQUE,
    ObanJob,
    ObanOption,
    PgCheck,
    PgJob,
    PgProcedure,
    PgWrapper,
    Plan,
    StartupCall,
    body_procedure,
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
    wrappers: list[PgWrapper] = []
    for p in placements:
        if p.classified.executor == "pg_cron":
            _pg_cron_part(p, settings, jobs, procedures, startup, wrappers)
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
        wrappers=tuple(sorted(wrappers, key=lambda w: w.name)),
    )
    return plan, []


def _pg_cron_part(
    p: Placement,
    settings: Settings,
    jobs: list[PgJob],
    procedures: list[PgProcedure],
    startup: list[StartupCall],
    wrappers: list[PgWrapper],
) -> None:
    task = p.classified.task
    command, procedure, wrapper = _pg_command(p.classified, settings)
    if procedure is not None:
        procedures.append(procedure)
    if wrapper is not None:
        wrappers.append(wrapper)
    # cronspec refuses any schedule pg_cron would read otherwise, so the spec's own text means
    # the same to pg_cron, unless the schedule was moved to another zone (1.4 runs in GMT)
    same_zone = sched.same_zone(task.timezone, p.target.zone(settings.timezone))
    for s in p.schedules:
        if s.emitted is None:
            if task.enabled:  # inside the migration's transaction: no timeout of its own
                call = procedure_command(settings.pg_cron.schema, task.name)
                startup.append(StartupCall(call if procedure else command, task.name, task.path))
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


def _pg_command(
    c: Classified, settings: Settings
) -> tuple[str, PgProcedure | None, PgWrapper | None]:
    """The job command of a pg_cron task, the procedure of its body, if any, and the wrapper the
    jobs call instead when a policy needs one: classify's `run` decides whether there is a
    procedure (run.py), and classify/policy.py that the policies can apply."""
    task = c.task
    schema = settings.pg_cron.schema
    assert task.sql is not None and c.analysis is not None and c.run is not None
    if c.run.mode == "command":
        return c.run.command, None, None
    policy = task.policy
    wrapper = None
    name = task.name
    if policy.wrapped:
        name = body_procedure(task.name)
        retry = policy.retry
        attempts, backoff = (retry.attempts, retry.backoff) if retry is not None else (1, None)
        wrapper = PgWrapper(
            schema, task.name, name, settings.project, task.name, task.path, policy.skip,
            attempts, backoff,
        )  # fmt: skip
    procedure = PgProcedure(
        schema, name, task.sql, c.analysis.fingerprint, task.name, task.path, policy.settings
    )
    return procedure_command(schema, task.name, policy.timeout), procedure, wrapper


def _pg_checks(c: Classified) -> list[PgCheck]:
    """What the migration checks for a task before it changes anything (placements are sorted
    by task, so the checks are too): a timeout needs pg_cron's default mode, where the job's
    command is a top-level statement (under cron.use_background_workers it has no effect)."""
    task = c.task
    checks = [
        PgCheck(task.name, task.path, k.kind, k.schema, k.name, k.line, k.about) for k in c.checks
    ]
    timeout = task.policy.timeout
    if timeout is not None and not c.command:
        line = task.policy.span("timeout", task.span("timeout")).line
        about = f"timeout: {timeout.text}"
        checks.append(
            PgCheck(task.name, task.path, "timeout", "cron", "use_background_workers", line, about)
        )
    return checks


def _oban_jobs(p: Placement) -> list[ObanJob]:
    task = p.classified.task
    if not task.enabled:
        return []
    assert task.worker is not None
    options: list[ObanOption] = []
    if task.args is not None and task.args.data():
        options.append(("args", task.args))
    # retry.attempts is the job's max_attempts (classify/policy.py refuses both)
    attempts = task.policy.retry.attempts if task.policy.retry else task.max_attempts
    for key, value in (
        ("queue", task.queue),
        ("priority", task.priority),
        ("max_attempts", attempts),
    ):
        if value is not None:
            options.append((key, value))
    if task.tags:
        options.append(("tags", task.tags))
    if task.meta is not None:
        options.append(("meta", task.meta))
    # overlap: skip is the crontab entry's unique (classify/policy.py refuses it with `unique`)
    unique = SKIP_UNIQUE if task.policy.skip else task.unique
    cron = [*options, ("unique", unique)] if unique is not None else options
    jobs = []
    for s in p.schedules:
        if s.emitted is None:  # @startup: unique per deploy (ObanJob.unique), not the spec's
            jobs.append(ObanJob(None, task.worker, tuple(options), task.name))
        else:
            jobs.append(ObanJob(s.emitted.text, task.worker, tuple(cron), task.name))
    return jobs


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
