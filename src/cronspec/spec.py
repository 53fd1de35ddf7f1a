"""The spec format's single source of truth: pydantic models for a task and for cronspec.toml.

pydantic ends at validation: `validate/` turns a `TaskSpec` into a `model.Task` and
`load/config.py` a `ProjectConfig` into `model.Settings`. The JSON Schema that editors use
(`cronspec schema`) is generated from `TaskSpec`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
WORKER_PATTERN = r"^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*$"
QUEUE_PATTERN = r"^[a-z_][a-z0-9_]*$"
IDENT_PATTERN = r"^[a-z_][a-z0-9_]*$"
MAX_NAME = 63
DATABASE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
INTERVAL_PATTERN = r"^[1-9][0-9]{0,4} (minute|hour|day|week|month)s?$"
# a run-time setting's name as PostgreSQL spells it (lowercase; `ext.name` for a custom one)
SETTING_PATTERN = r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$"


# Capabilities only the application has; any of them makes a task app-bound.
Need = Literal["ml", "file_io", "shell", "network", "app_state", "external_tool", "app_validation"]

NEED_WHY: dict[str, str] = {
    "ml": "runs a machine-learning model (embeddings, inference)",
    "file_io": "reads or writes files outside the database",
    "shell": "runs shell commands",
    "network": "talks to services over the network",
    "app_state": "works on the application's in-memory state",
    "external_tool": "runs external tools",
    "app_validation": "relies on the application's validation rules",
}

# What reaches outside the database from SQL, accepted on purpose by `reaches:` (the same names
# as classify/pgsql's CAPABILITIES; a test holds the two together).
Reach = Literal["server_files", "server_programs", "http", "other_databases", "server_config"]
ObanState = Literal[
    "scheduled", "available", "executing", "retryable", "completed", "discarded", "cancelled"
]  # every state of an Oban job (Oban.Job.states/0)
OBAN_STATES: tuple[str, ...] = get_args(ObanState)
# meta keys that are Oban's (the Cron plugin's own) or cronspec's (`status`, @startup's unique)
RESERVED_META = ("cron", "cron_expr", "cronspec_task", "cronspec_deploy")

TaskName = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN, min_length=1, max_length=MAX_NAME),
]


class RetrySpec(BaseModel):
    """`retry:` of a task: how often a failing run is tried again, and how long it waits."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    attempts: Annotated[int, Field(ge=2, le=100)] = Field(
        description="How many times a run tries the body in all (the first try included): "
        "2 to 100. On pg_cron the tries are in the same run, and the last failure is the "
        "run's failure in cron.job_run_details; on Oban it is the job's `max_attempts`.",
        examples=[3],
    )
    backoff: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="pg_cron: how long to wait before each new try, a PostgreSQL interval "
        "(`30 seconds`); without it the next try starts at once. Oban: not a crontab option "
        "(the worker's `backoff/1` callback), so refused there.",
        examples=["30 seconds"],
    )


SettingName = Annotated[str, StringConstraints(min_length=1, max_length=63)]  # validate/policy


class UniqueSpec(BaseModel):
    """Oban's `unique` job option: jobs alike within `period` are inserted once."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    period: int | Literal["infinity"] | None = Field(
        default=None, description="Seconds (1 or more), or `infinity` (Oban's default: 60)."
    )
    fields: (
        Annotated[list[Literal["args", "meta", "queue", "worker"]], Field(min_length=1)] | None
    ) = Field(
        default=None, description="What makes two jobs alike (Oban's default: args, queue, worker)."
    )
    keys: list[Annotated[str, StringConstraints(pattern=IDENT_PATTERN, max_length=100)]] | None = (
        Field(default=None, description="Only these keys of args or meta count.")
    )
    states: Annotated[list[ObanState], Field(min_length=1)] | None = Field(
        default=None,
        description="The states of a job that count (Oban's default: all "
        "but discarded and cancelled).",
    )
    timestamp: Literal["inserted_at", "scheduled_at"] | None = Field(
        default=None, description="Which time `period` counts from (Oban's default: inserted_at)."
    )


class TaskSpec(BaseModel):
    """One scheduled task. One file per task in `specs/`; the file's stem is the task's name."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="cronspec task",
        json_schema_extra={
            "examples": [
                {
                    "name": "weekly-populate-graph-deps",
                    "description": "Refresh dependency id arrays on graph_nodes.",
                    "kind": "sql",
                    "schedule": ["0 7 * * 0", "@startup"],
                    "sql": "UPDATE graph_nodes SET ...;",
                }
            ]
        },
    )

    name: TaskName = Field(
        description="The task's name, equal to the file's stem; becomes the pg_cron job name "
        "and the procedure name. Lowercase letters, digits, `-` and `_`; at most 63 characters.",
        examples=["weekly-populate-graph-deps"],
    )
    description: str = Field(
        min_length=1,
        max_length=500,
        description="What the task does, for reviewers and the report (several lines are fine).",
        examples=["Refresh dependency and dependent id arrays on graph_nodes."],
    )
    kind: Literal["sql", "app"] = Field(
        description="`sql`: the work is a PostgreSQL body (`sql`). `app`: the work is an "
        "application worker (`worker`).",
        examples=["sql"],
    )
    schedule: str | list[str] = Field(
        description="One schedule or a list of them: a 5-field cron expression (quote it), a "
        "nickname such as `@daily`, `N seconds` (pg_cron 1.5+), `@reboot` (the executor's own "
        "start) or `@startup` (once at every deploy).",
        examples=["0 7 * * 0", ["0 7 * * 0", "@startup"]],
    )
    executor: Literal["auto", "pg_cron", "oban"] = Field(
        default="auto",
        description="`auto` lets cronspec decide (SQL-eligible tasks go to pg_cron, the rest to "
        "Oban); `pg_cron` or `oban` pins it.",
    )
    sql: str | None = Field(
        default=None,
        description="kind sql: one or more PostgreSQL statements. They become the body of a "
        "procedure, or the job's only statement when PostgreSQL refuses them in a transaction "
        "(VACUUM, ... CONCURRENTLY).",
        examples=["UPDATE graph_nodes SET pagerank = 0;"],
    )
    needs: list[Need] = Field(
        default_factory=list,
        description="Capabilities the task needs that only the application has; any entry "
        "makes the task app-bound.",
        examples=[["ml", "file_io"]],
    )
    reaches: list[Reach] = Field(
        default_factory=list,
        description="kind sql: what the body reaches outside the database on purpose, so that "
        "the task may still run on pg_cron: `server_files` (pg_read_file, COPY to or from a "
        "server file, lo_import/lo_export), `server_programs` (COPY ... PROGRAM), `http` "
        "(pgsql-http's http_get and friends), `other_databases` (dblink, foreign data, "
        "subscriptions), `server_config` (ALTER SYSTEM, LOAD). Without it, a body that does "
        "any of these is app-bound. Each entry must be used by the body. pg_net's requests "
        "(net.http_get, net.http_post, ...) need no entry: they are queued inside the database.",
        examples=[["http"]],
    )
    worker: Annotated[str, StringConstraints(pattern=WORKER_PATTERN, max_length=200)] | None = (
        Field(
            default=None,
            description="The Oban worker module that runs the task (required on Oban).",
            examples=["Singularity.Jobs.CodeIngestWorker"],
        )
    )
    args: dict[str, Any] | None = Field(
        default=None,
        description="Oban job args: a mapping of JSON-compatible values.",
        examples=[{"mode": "full"}],
    )
    queue: Annotated[str, StringConstraints(pattern=QUEUE_PATTERN, max_length=100)] | None = Field(
        default=None, description="Oban queue name.", examples=["maintenance"]
    )
    priority: Annotated[int, Field(ge=0, le=9)] | None = Field(
        default=None, description="Oban priority, 0 (highest) to 9."
    )
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None, description="Oban max_attempts."
    )
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] | None = Field(
        default=None,
        description="Oban job tags, as Oban stores them: lowercase, no surrounding blanks, each "
        "once.",
        examples=[["nightly", "billing"]],
    )
    meta: dict[str, Any] | None = Field(
        default=None,
        description="Oban job meta: a mapping of JSON-compatible values. cronspec adds "
        "`cronspec_task` (the task's name) to every job; `cron`, `cron_expr` and `cronspec_*` "
        "are Oban's and cronspec's own keys.",
        examples=[{"team": "search"}],
    )
    unique: UniqueSpec | None = Field(
        default=None,
        description="Oban's unique option for the crontab's jobs (period, fields, keys, states, "
        "timestamp). @startup jobs are unique per deploy by cronspec's own option.",
        examples=[{"period": 300, "fields": ["worker", "args"]}],
    )
    enabled: bool = Field(
        default=True,
        description="false keeps the job defined but inactive (pg_cron `active = false`; "
        "left out of the Oban crontab).",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone of the task's schedules; defaults to the project's.",
        examples=["UTC"],
    )
    database: Annotated[str, StringConstraints(pattern=DATABASE_PATTERN, max_length=63)] | None = (
        Field(
            default=None,
            description="pg_cron tasks only: run the job in this database (with "
            "cron.schedule_in_database) instead of the one the migration runs in. The body is "
            "then the job's command, since the migration cannot create a procedure there.",
            examples=["analytics"],
        )
    )
    run_as: Literal["auto", "procedure", "command"] = Field(
        default="auto",
        description="pg_cron tasks: how the job runs `sql`. `procedure`: the job calls a "
        "procedure made of the body, which PostgreSQL checks when the migration creates it. "
        "`command`: the body is the job's command exactly as written (pg_cron runs a "
        "`;`-separated command as one transaction); no procedure is created, so PostgreSQL "
        "checks the body only when the job runs. `auto`: a procedure, except for a statement "
        "that must run at top level (VACUUM, ... CONCURRENTLY) or a job in another `database`, "
        "whose body is the command.",
    )
    day_match: Literal["any", "all"] | None = Field(
        default=None,
        description="When both day-of-month and day-of-week are restricted: `any` fires when "
        "either matches (pg_cron's rule), `all` when both match (Oban's rule). Required then.",
    )
    overlap: Literal["queue", "skip"] | None = Field(
        default=None,
        description="When another run of the task is under way: `queue` (default), pg_cron's "
        "own behaviour (a job's runs never overlap; a task's jobs may); `skip`: a run (any job "
        "of the task, or a manual CALL) returns at once, recorded in cronspec.skipped_run; on "
        "Oban the entry's `unique` inserts no job while one of the task's is unfinished.",
        examples=["skip"],
    )
    timeout: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="pg_cron: the longest a run may take, a PostgreSQL interval (`10 minutes`), "
        "set as statement_timeout in the job's command before its CALL; retries and their "
        "backoff count against it. Oban: the worker's `timeout/1` callback, so refused there.",
        examples=["10 minutes"],
    )
    retry: RetrySpec | None = Field(
        default=None,
        description='Try a failing run again: `{attempts: 3, backoff: "30 seconds"}`.',
        examples=[{"attempts": 3, "backoff": "30 seconds"}],
    )
    settings: dict[SettingName, Annotated[str, StringConstraints(max_length=1000)]] | None = Field(
        default=None,
        description="pg_cron: PostgreSQL settings the body runs with, SET clauses of its "
        "procedure, checked by the server at migration; values are strings. Oban: refused.",
        examples=[{"jit": "off", "work_mem": "256MB"}],
        json_schema_extra={"propertyNames": {"pattern": SETTING_PATTERN}},
    )


SPEC_FIELDS: tuple[str, ...] = tuple(TaskSpec.model_fields)
SQL_ONLY_FIELDS = ("sql", "run_as", "reaches")
APP_ONLY_FIELDS = (
    "worker",
    "args",
    "queue",
    "priority",
    "max_attempts",
    "tags",
    "meta",
    "unique",
)


class PgCronSettings(BaseModel):
    """`[pg_cron]` of cronspec.toml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: Literal["1.4", "1.5", "1.6"] = Field(
        default="1.4", description="pg_cron version the migration targets (Debian 12 ships 1.4)."
    )
    database: Annotated[str, StringConstraints(min_length=1, max_length=63)] = Field(
        default="postgres",
        description="The database named by `cron.database_name`, where the migration runs.",
    )
    schema_: Annotated[str, StringConstraints(pattern=IDENT_PATTERN, max_length=63)] = Field(
        default="cronspec", alias="schema", description="Schema for generated procedures."
    )
    keep_history: (
        Annotated[str, StringConstraints(pattern=INTERVAL_PATTERN, max_length=40)] | None
    ) = Field(
        default=None,
        description="Purge cron.job_run_details rows older than this PostgreSQL interval "
        "(e.g. '7 days') with a cronspec-managed daily job.",
    )


class ObanSettings(BaseModel):
    """`[oban]` of cronspec.toml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    app: Annotated[str, StringConstraints(pattern=IDENT_PATTERN, max_length=100)] = Field(
        default="my_app", description="The OTP application name used in the config snippet."
    )
    version: Literal["2.18", "2.23"] = Field(
        default="2.23",
        description="Oban version the crontab targets: 2.18 (the newest on Debian 12's Elixir "
        "1.14) or 2.23. Their cron parsers differ (2.23 refuses a day no month has).",
    )


class ReportSettings(BaseModel):
    """`[report]` of cronspec.toml."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    next_runs: Annotated[int, Field(ge=0, le=20)] = Field(
        default=5, description="How many next runs REPORT.md lists per schedule."
    )
    from_: str = Field(
        default="2026-01-01T00:00:00",
        alias="from",
        description="The fixed local instant REPORT.md counts next runs from (output must not "
        "depend on the clock).",
    )
    max_starts_per_minute: Annotated[int, Field(ge=1, le=10000)] = Field(
        default=3,
        description="REPORT.md's week chart, and a warning (R701), flag the minutes where more "
        "jobs than this start at once.",
    )


class ProjectConfig(BaseModel):
    """cronspec.toml. Every setting is optional."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    project: Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=MAX_NAME)] = Field(
        default="default",
        description="The project's name, recorded with every job and procedure it makes in a "
        "database: a migration changes only its own project's objects.",
    )
    timezone: str = Field(default="UTC", description="IANA zone of every schedule.")
    specs: str = Field(default="specs", description="Folder of task specs.")
    output: str = Field(default="generated", description="Folder of generated files.")
    pg_cron: PgCronSettings = Field(default_factory=PgCronSettings)
    oban: ObanSettings = Field(default_factory=ObanSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)


def task_json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file, as `cronspec schema` prints it."""
    schema = TaskSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["required"] = sorted(set(schema.get("required", [])))
    return schema
