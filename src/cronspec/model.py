"""What flows after validation: frozen, hashable values, with tuples rather than dicts.

pydantic ends at validation (`spec.py`, `validate/`, `load/config.py`); everything downstream
(classify, plan, render) reads `Task` and `Settings`. Being values, they compare and hash as
values: two plans built from the same specs are equal, and a plan can key a cache.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .diagnostics import Origin, Span
from .schedule import DayMatch, Schedule, Target, oban, pg_cron

# `run_as` of a spec: how a pg_cron job runs the body (a procedure, or the command as written)
RunAs = Literal["auto", "procedure", "command"]


@dataclass(frozen=True)
class JsonObject:
    """A JSON object as a value: its canonical text (sorted keys, no spaces).

    Equal objects are equal and hash alike, while `1`, `1.0` and `true` stay apart, as they
    do for the application that receives them.
    """

    text: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> JsonObject:
        """The value of a mapping of JSON-compatible data (validated before: finite numbers)."""
        return cls(json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False))

    def data(self) -> dict[str, Any]:
        """The object as plain data: dicts, lists and scalars, new at each call."""
        value: dict[str, Any] = json.loads(self.text)
        return value


@dataclass(frozen=True)
class ObanUnique:
    """Oban's `unique` option as a spec gives it: the options it names, in Oban's terms."""

    period: int | Literal["infinity"] | None = None
    fields: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    timestamp: str | None = None

    def options(self) -> tuple[tuple[str, int | str | tuple[str, ...]], ...]:
        """The options it sets, in a fixed order (Oban's defaults fill in the rest)."""
        named = (
            ("period", self.period),
            ("fields", self.fields),
            ("keys", self.keys),
            ("states", self.states),
            ("timestamp", self.timestamp),
        )
        return tuple((key, value) for key, value in named if value is not None)


@dataclass(frozen=True)
class TaskSchedule:
    """One schedule of a task and where its text is in the spec."""

    schedule: Schedule
    span: Span


@dataclass(frozen=True)
class Interval:
    """A spec's interval (`timeout`, `retry.backoff`) as written, and exactly in milliseconds."""

    text: str
    ms: int

    @property
    def setting(self) -> str:
        """The value as a time setting takes it (statement_timeout reads `10min`, not `10
        minutes`): the largest unit that says it exactly."""
        for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
            if self.ms % size == 0:
                return f"{self.ms // size}{unit}"
        return f"{self.ms}ms"

    @property
    def seconds(self) -> str:
        """The value in seconds as a numeric literal (pg_sleep's argument): `30`, `0.25`."""
        whole, part = divmod(self.ms, 1000)
        return str(whole) if not part else f"{whole}.{part:03d}".rstrip("0")


@dataclass(frozen=True)
class Retry:
    """`retry:`: how many tries a run makes in all, and the wait before each new one."""

    attempts: int
    backoff: Interval | None


@dataclass(frozen=True)
class Policy:
    """A task's run-time policies (`overlap`, `timeout`, `retry`, `settings`); the default is
    none: pg_cron's and Oban's own behaviour. classify/policy.py says where each can apply."""

    overlap: Literal["queue", "skip"] | None = None  # None: unstated (queue)
    timeout: Interval | None = None
    retry: Retry | None = None
    settings: tuple[tuple[str, str], ...] = ()  # (name, value), sorted by name
    # where each is written: "timeout", "retry.backoff", "settings.jit", ...
    spans: tuple[tuple[str, Span], ...] = ()

    @property
    def skip(self) -> bool:
        """`overlap: skip`."""
        return self.overlap == "skip"

    @property
    def written(self) -> tuple[str, ...]:
        """The policy keys the spec writes, in the spec format's order."""
        keys = (
            ("overlap", self.overlap is not None),
            ("timeout", self.timeout is not None),
            ("retry", self.retry is not None),
            ("settings", bool(self.settings)),
        )
        return tuple(key for key, present in keys if present)

    @property
    def wrapped(self) -> bool:
        """Whether the job-facing procedure must be cronspec's plpgsql wrapper (skip, retry)."""
        return self.skip or self.retry is not None

    def span(self, key: str, default: Span) -> Span:
        """Where `key` ("retry.backoff", "settings.jit") is written; `default` when not."""
        return next((span for name, span in self.spans if name == key), default)


@dataclass(frozen=True)
class Task:
    """One validated spec."""

    name: str
    path: str  # the spec file, relative to the project
    description: str
    kind: Literal["sql", "app"]
    executor: Literal["auto", "pg_cron", "oban"]
    schedules: tuple[TaskSchedule, ...]
    sql: str | None
    sql_origin: Origin  # where the body's text is in the spec
    needs: tuple[str, ...]
    worker: str | None
    args: JsonObject | None
    queue: str | None
    priority: int | None
    max_attempts: int | None
    enabled: bool
    timezone: str
    day_match: DayMatch | None
    database: str | None
    spans: tuple[tuple[str, Span], ...]  # each top-level key's position, for diagnostics
    run_as: RunAs = "auto"  # how a pg_cron job runs `sql` (classify/run.py resolves it)
    # what the SQL body reaches outside the database on purpose (`reaches:`), sorted
    reaches: tuple[str, ...] = ()
    policy: Policy = Policy()  # run-time policies: overlap, timeout, retry, settings
    tags: tuple[str, ...] = ()  # Oban job tags
    meta: JsonObject | None = None  # Oban job meta, without cronspec's own keys
    unique: ObanUnique | None = None  # Oban's unique option for the crontab's jobs

    def span(self, key: str) -> Span:
        """Where `key` is written in the spec; the file's start when it is not."""
        for name, span in self.spans:
            if name == key:
                return span
        return Span.at(self.path, 1, 1, 0)


@dataclass(frozen=True)
class PgCronSettings:
    """`[pg_cron]` of cronspec.toml."""

    version: str  # as written ("1.4"); compare `target.version`, a tuple
    database: str
    schema: str
    keep_history: str | None

    @property
    def target(self) -> Target:
        """pg_cron at this version, with the syntax it accepts."""
        return pg_cron(self.version)


@dataclass(frozen=True)
class ObanSettings:
    """`[oban]` of cronspec.toml."""

    app: str
    version: str = "2.23"  # as written; compare `target.version`, a tuple

    @property
    def target(self) -> Target:
        """Oban at this version, with the syntax it accepts."""
        return oban(self.version)


@dataclass(frozen=True)
class ReportSettings:
    """`[report]` of cronspec.toml."""

    next_runs: int
    from_: str  # the fixed local instant REPORT.md counts next runs from
    max_starts_per_minute: int = 3  # more jobs starting in one minute get warning R701


@dataclass(frozen=True)
class Settings:
    """cronspec.toml, validated; its defaults are those of `spec.ProjectConfig`."""

    project: str  # what this project makes in a database is its own (see render/pg_cron.py)
    timezone: str
    specs: str
    output: str
    pg_cron: PgCronSettings
    oban: ObanSettings
    report: ReportSettings
