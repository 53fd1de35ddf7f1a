"""Observations plus the plan, judged at a fixed instant: one `JobStatus` per managed job.

Pure: the caller passes `now` (the database's clock when it was read), so every rule here is
tested with fixed times. The rules are in `rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import schedule as sched
from ..model import JsonObject
from ..plan import ObanJob, PgJob, Plan
from .model import Flag, JobStatus, ObanRow, ObanState, PgCronJob, PgCronState, StatusReport
from .rules import bare, job_status, meaning_of


def judge(
    plan: Plan,
    pg: PgCronState | None,
    oban: ObanState | None,
    *,
    now: datetime,
    grace: timedelta,
    runs: int,
    role: str,
    notes: Iterable[str] = (),
) -> StatusReport:
    """Every managed job of the plan's project, on both executors, judged at `now`."""
    shown = _zone(plan.config.timezone)
    all_notes = list(notes)
    jobs: list[JobStatus] = []
    pg_label = None
    if pg is not None:
        zone_name = pg.zone or plan.config.timezone
        if not pg.zone:
            all_notes.append(
                f"role {pg.role} may not read cron.timezone (superusers and "
                f"pg_read_all_settings may): taken as the project's zone {zone_name}, which "
                "the migration checks"
            )
        pg_zone = _zone(zone_name)
        if pg_zone.key != zone_name:
            all_notes.append(f"pg_cron's zone {zone_name!r} is unknown here; computed in UTC")
        pg_label = f"pg_cron {pg.version} in database {pg.database} (schedules in {zone_name})"
        jobs += _pg_cron(plan, pg, pg_zone, now=now, grace=grace, shown=shown)
        all_notes += _pg_notes(plan, pg)
    oban_label = None
    if oban is not None:
        oban_label = f"{oban.table} in database {oban.database}"
    if plan.oban_jobs:
        jobs += _oban(plan, oban, now=now, grace=grace, shown=shown, runs=runs)
    jobs.sort(key=lambda j: (j.task, j.executor, j.job, j.role or ""))
    return StatusReport(
        plan.project,
        role,
        now,
        plan.config.timezone,
        runs,
        grace,
        pg_label,
        oban_label,
        tuple(jobs),
        tuple(all_notes),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# -- pg_cron -------------------------------------------------------------------------------


def _pg_notes(plan: Plan, pg: PgCronState) -> list[str]:
    notes = []
    if not pg.bookkeeping:
        notes.append(
            f"no cronspec bookkeeping (cronspec.owned_job) in database {pg.database}: nothing "
            "of this project was applied here"
        )
    hidden = sorted({j.role for j in pg.jobs if not j.visible})
    if hidden:
        notes.append(
            f"role {pg.role} is not a superuser: pg_cron shows a role only its own jobs and "
            f"runs, so the jobs of role {', '.join(hidden)} cannot be judged here (run status "
            "as that role, or as a superuser)"
        )
    return notes


def _pg_cron(
    plan: Plan,
    pg: PgCronState,
    zone: ZoneInfo,
    *,
    now: datetime,
    grace: timedelta,
    shown: ZoneInfo,
) -> list[JobStatus]:
    target = sched.pg_cron(pg.version)
    wanted = {job.jobname: job for job in plan.jobs}
    first: dict[str, int] = {}  # per task, its first job (named after it): its skips of no job
    for job in pg.jobs:
        first.setdefault(job.task, job.jobid)
    out = []
    for job in pg.jobs:
        spec = wanted.get(job.jobname)
        loose = first[job.task] == job.jobid
        out.append(_pg_job(job, spec, pg, target, zone, loose, now=now, grace=grace, shown=shown))
    recorded = {job.jobname for job in pg.jobs}
    for spec in plan.jobs:
        if spec.jobname in recorded:
            continue
        what = f"the specs have job {spec.jobname}, the database does not: `cronspec apply`"
        out.append(
            bare("pg_cron", spec.task, spec.jobname, spec.schedule, ("not scheduled",), (what,))
        )
    return out


def _pg_job(
    job: PgCronJob,
    spec: PgJob | None,
    pg: PgCronState,
    target: sched.Target,
    zone: ZoneInfo,
    loose: bool,
    *,
    now: datetime,
    grace: timedelta,
    shown: ZoneInfo,
) -> JobStatus:
    """`loose`: the job is its task's first, which counts the task's skips of no job's run."""
    schedule = job.schedule or (spec.schedule if spec else "")
    if not job.found and not job.visible:
        what = f"a job of role {job.role}, which pg_cron does not show role {pg.role}"
        return bare("pg_cron", job.task, job.jobname, schedule, ("not visible",), (what,),
                    job.jobid, job.role)  # fmt: skip
    flags: list[Flag] = []
    details: list[str] = []
    expected = spec.active if spec is not None else bool(job.active)
    if not job.found:
        flags.append("unscheduled")
        details.append(
            f"cronspec's bookkeeping has jobid {job.jobid}, pg_cron no longer does "
            "(unscheduled by hand?): `cronspec apply` schedules it again"
        )
    elif job.active is False and expected:
        flags.append("inactive")
        details.append(
            "inactive in cron.job, enabled in the specs (changed by hand? `cronspec drift` "
            "shows it)"
        )
    if spec is not None and job.schedule is not None and job.schedule != spec.schedule:
        details.append(f"cron.job has schedule {job.schedule!r}, the specs {spec.schedule!r}")
    meaning = meaning_of(schedule, "any")
    if meaning is None and schedule:
        details.append(f"cronspec cannot read the schedule {schedule!r}: not judged")
    skips = tuple(s for s in pg.skips if s.jobid is not None and s.jobid == job.jobid)
    unmatched = tuple(s for s in pg.skips if loose and s.task == job.task and s.jobid is None)
    return job_status(
        "pg_cron",
        job.task,
        job.jobname,
        schedule,
        job.active if job.found else None,
        job.runs,
        meaning,
        target,
        zone,
        expected=expected,
        now=now,
        grace=grace,
        shown=shown,
        flags=flags,
        details=details,
        skips=skips,
        unmatched=unmatched,
        told_apart=pg.skip_pids,
        jobid=job.jobid,
        role=job.role,
    )


# -- Oban ----------------------------------------------------------------------------------


def _args_of(entry: ObanJob) -> str:
    for key, value in entry.options:
        if key == "args" and isinstance(value, JsonObject):
            return value.text
    return JsonObject.of({}).text


def _worker(name: str) -> str:
    return name.removeprefix("Elixir.")


def _rows_for(entry: ObanJob, entries: list[ObanJob], rows: tuple[ObanRow, ...]) -> list[ObanRow]:
    """The entry's jobs: by meta cronspec_task (and cron_expr), or, for jobs a crontab written
    before cronspec set that key inserted, by worker and cron_expr (and args where several
    entries share both)."""
    worker = _worker(entry.worker)
    twins = [e for e in entries if e.expr == entry.expr and _worker(e.worker) == worker]
    found = []
    for row in rows:
        if row.task is not None:
            if row.task != entry.task:
                continue
            if entry.expr is None and not row.cron:
                found.append(row)
            elif entry.expr is not None and row.cron and row.cron_expr == entry.expr:
                found.append(row)
        elif (
            entry.expr is not None
            and row.cron
            and row.cron_expr == entry.expr
            and row.worker == worker
            and (len(twins) == 1 or row.args == _args_of(entry))
        ):
            found.append(row)
    return found


def _oban(
    plan: Plan,
    oban: ObanState | None,
    *,
    now: datetime,
    grace: timedelta,
    shown: ZoneInfo,
    runs: int,
) -> list[JobStatus]:
    zone = _zone(plan.oban_timezone)
    entries = list(plan.oban_jobs)
    out = []
    for entry in entries:
        schedule = entry.expr or "@startup"
        if oban is None:
            out.append(bare("oban", entry.task, schedule, schedule, ("not visible",)))
            continue
        found = _rows_for(entry, entries, oban.rows)[:runs]
        retrying = bool(found) and found[0].run.status == "retrying"
        meaning = meaning_of(schedule, "all")
        out.append(
            job_status(
                "oban",
                entry.task,
                schedule,
                schedule,
                True,
                tuple(row.run for row in found),
                meaning,
                sched.OBAN,
                zone,
                expected=True,
                now=now,
                grace=grace,
                shown=shown,
                flags=[],
                details=[_attempts(found[0])] if retrying else [],
                skips=(),
            )
        )
    return out


def _attempts(row: ObanRow) -> str:
    return f"attempt {row.attempt} of {row.max_attempts} failed; Oban retries it"
