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
from .schedule import DayMatch, Schedule, Target, pg_cron

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
class TaskSchedule:
    """One schedule of a task and where its text is in the spec."""

    schedule: Schedule
    span: Span


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
