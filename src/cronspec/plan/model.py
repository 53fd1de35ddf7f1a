"""The desired state per executor, as frozen values: what pg_cron and Oban should hold.

Renderers turn a `Plan` into files; `db.py` reads a live database into the same `PgJob` and
`PgProcedure` values so that the two can be compared. What the report shows about each task
(reasons, schedules in words, next runs) is not here but in `views.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import JsonObject, Settings
from ..schedule import is_utc

HISTORY_JOB = "cronspec:purge-run-history"
HISTORY_SCHEDULE = "17 3 * * *"


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, always quoted."""
    return '"' + name.replace('"', '""') + '"'


def procedure_command(schema: str, name: str) -> str:
    """The job command that calls a task's procedure."""
    return f"CALL {quote_ident(schema)}.{quote_ident(name)}()"


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
    kind: str  # relation, not_partitioned, extension
    schema: str | None
    name: str
    line: int  # of the SQL body
    about: str  # the statement or function that needs it


ObanOption = tuple[str, JsonObject | str | int]


@dataclass(frozen=True)
class ObanJob:
    """A crontab entry (`expr` set) or a job enqueued at boot (`expr` None)."""

    expr: str | None
    worker: str
    options: tuple[ObanOption, ...]  # args (a JsonObject), queue, priority, max_attempts
    task: str

    @property
    def opts(self) -> tuple[tuple[str, Any], ...]:
        """The options as plain data (args as a dict), what a writer or a reader compares."""
        return tuple(
            (key, value.data() if isinstance(value, JsonObject) else value)
            for key, value in self.options
        )


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

    @property
    def schema(self) -> str:
        """The schema of the generated procedures."""
        return self.config.pg_cron.schema

    @property
    def project(self) -> str:
        """The project's name (cronspec.toml `project`): what it makes in a database is its own."""
        return self.config.project
