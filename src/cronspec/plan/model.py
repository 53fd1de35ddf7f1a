"""The desired state per executor, as frozen values: what pg_cron and Oban should hold.

Renderers turn a `Plan` into files; `db/` reads a live database into the same `PgJob` and
`PgProcedure` values so that the two can be compared. What the report shows about each task
(reasons, schedules in words, next runs) is not here but in `views.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ..model import Interval, JsonObject, ObanUnique, Settings
from ..schedule import is_utc
from ..spec import OBAN_STATES

HISTORY_JOB = "cronspec:purge-run-history"
HISTORY_SCHEDULE = "17 3 * * *"
SKIP_TABLE = "cronspec.skipped_run"  # (project, task, skipped_at, role): `overlap: skip`'s record


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, always quoted."""
    return '"' + name.replace('"', '""') + '"'


def procedure_command(schema: str, name: str, timeout: Interval | None = None) -> str:
    """The job command that calls a task's procedure; with a timeout, statement_timeout is set
    first (PostgreSQL arms it when a top-level statement starts: the CALL, not the procedure's
    own SET clause). pg_cron runs the command as one transaction, which SET LOCAL lasts."""
    call = f"CALL {quote_ident(schema)}.{quote_ident(name)}()"
    if timeout is None:
        return call
    return f"SET LOCAL statement_timeout = '{timeout.setting}'; {call}"


def body_procedure(task: str) -> str:
    """The name of the procedure made of a task's body when a wrapper calls it: the task's name
    and `:body` (no task's name has a colon), shortened to PostgreSQL's 63 bytes by a hash."""
    name = f"{task}:body"
    if len(name.encode()) <= 63:
        return name
    return f"{task[:49]}~{hashlib.sha256(task.encode()).hexdigest()[:8]}:body"


def oban_zone(zone: str) -> str:
    """The zone name Oban's Cron plugin gets (it knows UTC as `Etc/UTC`)."""
    return "Etc/UTC" if is_utc(zone) else zone


@dataclass(frozen=True)
class PgJob:
    """A row of `cron.job` as the migration makes it."""

    jobname: str
    schedule: str
    command: str
    active: bool
    task: str
    spec: str
    database: str | None = None  # None: the database the migration runs in
    # The schedule as the spec writes it, where that differs from `schedule` and pg_cron reads
    # it the same (`@hourly`, emitted `0 * * * *`): adoption accepts a hand-made job with either.
    written: str | None = None


@dataclass(frozen=True)
class PgProcedure:
    """A procedure the migration creates for a task's body."""

    schema: str
    name: str
    body: str
    fingerprint: str
    task: str
    spec: str
    # `settings:` of the task, (name, value) sorted: SET clauses besides
    # standard_conforming_strings, which every procedure cronspec creates fixes on
    settings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PgWrapper:
    """The procedure a task's jobs call when it has `overlap: skip` or `retry`: plpgsql
    around the procedure of its body (render/pg_cron.py writes its source). A manual CALL of it
    goes through the same skip and retries."""

    schema: str
    name: str  # the task's name, as its jobs CALL it
    body: str  # the body's procedure (`body_procedure`), in the same schema
    project: str
    task: str
    spec: str
    skip: bool  # overlap: skip, recorded in SKIP_TABLE
    attempts: int = 1  # tries in all; 1: no retry
    backoff: Interval | None = None


@dataclass(frozen=True)
class StartupCall:
    """A command the migration runs once, at every deploy (`@startup` on pg_cron)."""

    command: str
    task: str
    spec: str


@dataclass(frozen=True)
class PgCheck:
    """What the migration checks in the live database before it changes anything: a relation a
    task's body names exists (in the job's search_path), is not partitioned, or an extension
    it calls is installed (see classify.LiveCheck)."""

    task: str
    spec: str
    kind: str  # relation, not_partitioned, extension, timeout (pg_cron's default mode)
    schema: str | None
    name: str
    line: int  # of the SQL body
    about: str  # the statement or function that needs it


ObanOption = tuple[str, JsonObject | str | int | tuple[str, ...] | ObanUnique]

TASK_META = "cronspec_task"  # every job's meta names its task (merged with Oban's `cron` keys)
DEPLOY_META = "cronspec_deploy"  # a @startup job's meta names the deploy; the app adds it at boot
# A @startup job is one per task and deploy: alike by worker and those two meta keys, in every
# state, forever (the Pruner's max_age must outlast a deploy's boots: README)
STARTUP_UNIQUE = ObanUnique("infinity", ("worker", "meta"), (TASK_META, DEPLOY_META), OBAN_STATES)
# `overlap: skip` on Oban: the Cron plugin inserts no job of the task (by worker and meta's
# cronspec_task) while one is still waiting, executing or due for another attempt
SKIP_UNIQUE = ObanUnique(
    "infinity",
    ("worker", "meta"),
    (TASK_META,),
    ("scheduled", "available", "executing", "retryable"),
)


@dataclass(frozen=True)
class ObanJob:
    """A crontab entry (`expr` set) or a job enqueued at boot (`expr` None)."""

    expr: str | None
    worker: str
    # the spec's job options: args (a JsonObject), queue, priority, max_attempts, tags (a
    # tuple), meta (a JsonObject), unique (an ObanUnique: the spec's, or `overlap: skip`'s)
    options: tuple[ObanOption, ...]
    task: str

    @property
    def opts(self) -> tuple[tuple[str, Any], ...]:
        """The spec's options as plain data (args and meta as dicts, tags as a list, unique as
        pairs), what a writer or a reader compares."""
        out: list[tuple[str, Any]] = []
        for key, value in self.options:
            if isinstance(value, JsonObject):
                out.append((key, value.data()))
            elif isinstance(value, ObanUnique):
                out.append((key, value.options()))
            elif isinstance(value, tuple):
                out.append((key, list(value)))
            else:
                out.append((key, value))
        return tuple(out)

    @property
    def meta(self) -> dict[str, Any]:
        """The job's meta: the spec's, and the task's name under `cronspec_task`."""
        spec = dict(self.opts).get("meta", {})
        return {**spec, TASK_META: self.task}

    @property
    def unique(self) -> ObanUnique | None:
        """Oban's unique option: cronspec's once-per-deploy one for a @startup job, else the
        spec's."""
        if self.expr is None:
            return STARTUP_UNIQUE
        return next((v for k, v in self.options if isinstance(v, ObanUnique)), None)


@dataclass(frozen=True)
class Plan:
    """What each executor should hold after the migration, and the settings it was made for."""

    config: Settings
    pg_timezone: str  # the zone pg_cron schedules are written for
    jobs: tuple[PgJob, ...]
    procedures: tuple[PgProcedure, ...]
    startup_calls: tuple[StartupCall, ...]
    oban_timezone: str
    oban_jobs: tuple[ObanJob, ...]
    oban_disabled: tuple[str, ...]  # Oban tasks left out of the crontab (`enabled: false`)
    checks: tuple[PgCheck, ...] = ()  # checked by the migration before it changes anything
    wrappers: tuple[PgWrapper, ...] = ()  # procedures of `overlap: skip` and `retry`

    @property
    def procedure_count(self) -> int:
        """How many procedures the migration makes: bodies and wrappers."""
        return len(self.procedures) + len(self.wrappers)

    @property
    def schema(self) -> str:
        """The schema of the generated procedures."""
        return self.config.pg_cron.schema

    @property
    def project(self) -> str:
        """The project's name (cronspec.toml `project`): what it makes in a database is its own."""
        return self.config.project
