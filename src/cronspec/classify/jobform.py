"""How a pg_cron job runs a task's body, and why: the one place that decides wrapped or bare.

A body runs in one of three forms:

- `procedure`: the migration creates `schema.task()` from the body (PostgreSQL checks it then,
  with `check_function_bodies` on) and the job's command is `CALL schema.task()`;
- `statement`: the body's only statement is the job's command (VACUUM, ... CONCURRENTLY:
  PostgreSQL refuses them inside a transaction block or a procedure);
- `command`: the body, exactly as written, is the job's command; pg_cron runs a `;`-separated
  command as one transaction. No procedure is created, so PostgreSQL checks the body only when
  the job runs.

The spec's `run_as` chooses: `procedure` and `command` say so; `auto` wraps the body unless it
must run at top level (`statement`) or runs in another database (`command`: the migration cannot
create a procedure there). Rules that make more bodies bare under `auto` belong in `job_form`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..diagnostics import Diagnostic, error
from ..model import Task
from .sqlcheck import Analysis

JobForm = Literal["procedure", "statement", "command"]

_UNCHECKED = "no procedure is created, so PostgreSQL checks the body only when the job runs"


@dataclass(frozen=True)
class JobRun:
    """The form a task's pg_cron job takes, and the reason a reviewer reads (None: the default
    procedure, which needs none)."""

    form: JobForm
    reason: str | None


def job_form(task: Task, analysis: Analysis) -> JobRun | Diagnostic:
    """How the job runs `task`'s body (analysed as `analysis`), or why `run_as` cannot be met."""
    standalone = analysis.standalone
    where = f"in database {task.database} (cron.schedule_in_database)" if task.database else ""
    if task.run_as == "command":
        how = (
            f"{analysis.statements[0].keyword} runs outside any transaction, as it must"
            if standalone is not None
            else "pg_cron runs it as one transaction"
        )
        return JobRun(
            "command",
            "run_as: command: the body is the job's command exactly as written"
            + (f", run {where}" if where else "")
            + f"; {how}; {_UNCHECKED}",
        )
    if task.run_as == "procedure":
        if standalone is not None:
            keyword = analysis.statements[0].keyword
            return error(
                "Q408",
                f"`run_as: procedure`, but {keyword} cannot run inside a procedure (PostgreSQL "
                "refuses it in a transaction block); remove `run_as` and it runs as the job's "
                "only statement",
                task.span("run_as"),
            )
        if task.database is not None:
            return error(
                "Q408",
                f"`run_as: procedure`, but the job runs in database `{task.database}`, where the "
                "migration cannot create a procedure; remove `run_as` (the body is then the "
                "job's command), or drop `database:`",
                task.span("run_as"),
            )
        return JobRun(
            "procedure",
            "run_as: procedure: the job calls a procedure made of the body, which PostgreSQL "
            "checks when the migration creates it",
        )
    if standalone is not None:
        return JobRun("statement", standalone)
    if task.database is not None:
        return JobRun(
            "command",
            f"runs {where}: the body is the job's command, since the migration cannot create "
            "a procedure there; PostgreSQL checks it only when the job first runs",
        )
    return JobRun("procedure", None)
