"""What `cronspec status` reads from a database, and what it makes of it, as frozen values.

`db/` fills the observations (`PgCronState`, `ObanState`) from `cron.job`,
`cron.job_run_details`, cronspec's bookkeeping and `oban_jobs`; `judge.py` turns them, with
the plan and a fixed `now`, into one `JobStatus` per managed job. Nothing here reads a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

# One vocabulary for both executors. pg_cron's job_run_details says starting, connecting,
# sending or running while a run is under way, succeeded or failed after; Oban's states map
# as: executing -> running, available/scheduled -> waiting, completed -> succeeded,
# discarded -> failed, retryable -> retrying (the last attempt failed), cancelled -> cancelled.
RunStatus = Literal["succeeded", "failed", "running", "waiting", "retrying", "cancelled"]
FAILED: frozenset[str] = frozenset({"failed", "retrying"})
UNDER_WAY: frozenset[str] = frozenset({"running", "waiting"})

Flag = Literal[
    "failing",  # the last run failed
    "late",  # no run since one was due (with the grace)
    "never ran",  # an active job with no run on record
    "slow",  # a run lasted past the next scheduled start
    "skipped",  # runs skipped by `overlap: skip` (cronspec.skipped_run)
    "inactive",  # the database has the job inactive, the specs have it enabled
    "not scheduled",  # the specs have the job, the database does not
    "unscheduled",  # the bookkeeping has the job, pg_cron no longer does
    "not visible",  # another role's job: pg_cron shows a role only its own jobs
]
ALERTS: frozenset[str] = frozenset({"failing", "late"})  # what makes `status` exit 1

SKIP_TABLE = "cronspec.skipped_run"  # (project, task, skipped_at, role, pid): `overlap: skip`


@dataclass(frozen=True)
class RunRecord:
    """One run of a job: a row of cron.job_run_details, or one job in oban_jobs."""

    status: RunStatus
    start: datetime | None  # aware; None for an Oban job not attempted yet
    end: datetime | None  # None while under way
    message: str = ""  # pg_cron's return_message; Oban's last attempt error
    due: datetime | None = None  # Oban: when the job was inserted (the slot it is for)

    @property
    def duration(self) -> timedelta | None:
        """How long the finished run took."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


@dataclass(frozen=True)
class PgCronJob:
    """A job of this project in cronspec's bookkeeping, with its cron.job row and last runs."""

    jobid: int
    role: str  # the role that owns it (pg_cron's username)
    jobname: str
    task: str
    found: bool  # its cron.job row was seen
    visible: bool  # the reading role may see it (its own job, or a superuser)
    schedule: str | None = None
    active: bool | None = None
    runs: tuple[RunRecord, ...] = ()  # newest first


@dataclass(frozen=True)
class Skip:
    """A run that `overlap: skip` turned away because another run of its task was under way."""

    task: str
    at: datetime
    jobid: int | None = None  # the job whose run it was; None: no job's run (a manual CALL, a
    # skip recorded without its pid)


@dataclass(frozen=True)
class PgCronState:
    """pg_cron in the database, as the reading role sees it."""

    version: str  # pg_extension.extversion: "1.4-1", "1.6"
    zone: str  # the zone pg_cron runs schedules in (GMT on 1.4; cron.timezone from 1.5), or
    # "" where the role may not read cron.timezone
    database: str
    role: str
    superuser: bool
    bookkeeping: bool  # cronspec.owned_job exists
    jobs: tuple[PgCronJob, ...]
    skip_table: bool = False  # cronspec.skipped_run exists and has the expected columns
    skips: tuple[Skip, ...] = ()  # newest first, at most `runs` per job (and per task of none)
    skip_pids: bool = True  # cronspec.skipped_run has `pid`: skips are told apart by job


@dataclass(frozen=True)
class ObanRow:
    """A job in oban_jobs that cronspec can attribute to a task."""

    id: int
    worker: str
    args: str  # canonical JSON text (model.JsonObject)
    task: str | None  # meta cronspec_task
    cron: bool  # meta cron = true: inserted by the Cron plugin
    cron_expr: str | None  # meta cron_expr
    attempt: int
    max_attempts: int
    run: RunRecord


@dataclass(frozen=True)
class ObanState:
    """Oban's jobs table in the database: the newest rows per task and entry."""

    table: str  # "public.oban_jobs"
    database: str
    rows: tuple[ObanRow, ...]  # newest first


@dataclass(frozen=True)
class JobStatus:
    """One managed job as `cronspec status` reports it."""

    executor: Literal["pg_cron", "oban"]
    task: str
    job: str  # the pg_cron job name; for Oban the entry: its expression, or @startup
    schedule: str  # as the executor has it (pg_cron's cron.job.schedule)
    active: bool | None  # None where it cannot be seen
    last: RunRecord | None
    runs: int  # how many runs were read (at most the --runs asked for)
    failures: int  # failed runs among them
    median: timedelta | None  # of the finished runs among them
    maximum: timedelta | None
    next_run: datetime | None  # in the report's zone
    flags: tuple[Flag, ...]
    details: tuple[str, ...] = ()  # what each flag is about, in words
    jobid: int | None = None
    role: str | None = None
    skipped: int = 0
    slow_runs: int = 0

    @property
    def alert(self) -> bool:
        """Whether this job makes `status` exit 1 (failing or late)."""
        return any(flag in ALERTS for flag in self.flags)


@dataclass(frozen=True)
class StatusReport:
    """What `cronspec status` found: every managed job, judged at one instant."""

    project: str
    role: str
    at: datetime  # the database's clock when it was read
    zone: str  # the zone times are shown in: the project's
    runs: int  # how many runs per job were read
    grace: timedelta
    pg_cron: str | None  # "pg_cron 1.6 (schedules in GMT)", or None when not in this database
    oban: str | None  # "public.oban_jobs", or None
    jobs: tuple[JobStatus, ...]
    notes: tuple[str, ...] = ()

    @property
    def alerts(self) -> tuple[JobStatus, ...]:
        """The jobs that are failing or late."""
        return tuple(job for job in self.jobs if job.alert)


def duration_argument(text: str) -> timedelta:
    """`--grace`: seconds (`90`, `90s`), minutes (`5m`, `5min`) or hours (`2h`)."""
    match = re.fullmatch(r"(\d+)\s*(s|m|min|h)?", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 90, 90s, 5m or 2h")
    unit = {"s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[match.group(2)]
    return timedelta(seconds=int(match.group(1)) * unit)


def positive_argument(text: str) -> int:
    """`--runs`: a whole number from 1."""
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a whole number from 1")
    return int(text)
