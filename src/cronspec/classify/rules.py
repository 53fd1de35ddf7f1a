"""Spec to SQL-eligible or app-bound, with the reasons a reviewer reads, and the executor.

Rules, in order:
- `kind: app` or any entry in `needs` makes a task app-bound; each reason names the capability.
- A SQL body that does not parse, or uses transaction control or DO blocks, is an error.
- A SQL body that reaches outside the database (COPY ... PROGRAM, server files, dblink, HTTP)
  is app-bound.
- A statement PostgreSQL refuses inside a transaction (VACUUM, ... CONCURRENTLY) stays
  SQL-eligible and becomes the job's only statement, with no wrapper procedure.
- `executor: auto` sends SQL-eligible tasks to pg_cron and the rest to Oban; `executor: pg_cron`
  on an app-bound task is an error; `executor: oban` on a SQL-eligible task is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..diagnostics import Diagnostic, error, warning
from ..model import Task
from ..schedule import Startup
from ..spec import NEED_WHY
from .sqlcheck import Analysis, analyze


@dataclass(frozen=True)
class Classified:
    """A task with its verdict: SQL-eligible or not, the executor, and the reasons."""

    task: Task
    eligible: bool  # SQL-eligible
    executor: Literal["pg_cron", "oban"]
    reasons: tuple[str, ...]
    analysis: Analysis | None

    @property
    def classification(self) -> str:
        """`sql-eligible` or `app-bound`, as the report says it."""
        return "sql-eligible" if self.eligible else "app-bound"

    @property
    def standalone(self) -> bool:
        """Whether the body must be the job's only statement (VACUUM, ... CONCURRENTLY)."""
        return self.analysis is not None and self.analysis.standalone is not None


def classify(task: Task) -> tuple[Classified | None, list[Diagnostic]]:
    """The verdict on one task, or None with the diagnostics that prevent one."""
    diags: list[Diagnostic] = []
    reasons: list[str] = []
    blockers: list[str] = []
    analysis = None
    if task.kind == "app":
        blockers.append(f"kind: app: the work is the application worker {task.worker}")
    for need in task.needs:
        blockers.append(f"needs {need}: {NEED_WHY[need]}")
    if task.sql is not None:
        analysis = analyze(task.sql, task.sql_origin)
        if analysis.errors:
            return None, [*diags, *analysis.errors]
        for reach in analysis.outside:
            blockers.append(f"reaches outside the database: {reach.what} (SQL line {reach.line})")
        kinds = ", ".join(s.keyword for s in analysis.statements)
        count = len(analysis.statements)
        if not blockers:
            reasons.append(
                f"pure SQL: {count} statement{'s' if count != 1 else ''} ({kinds}), "
                "parsed with sqlglot, nothing outside the database"
            )
            if analysis.standalone:
                reasons.append(analysis.standalone)
    eligible = not blockers
    reasons = blockers + reasons
    if task.executor == "pg_cron" and not eligible:
        diags.append(
            error(
                "X501",
                "`executor: pg_cron` but the task is app-bound: " + "; ".join(blockers),
                task.span("executor"),
            )
        )
        return None, diags
    executor: Literal["pg_cron", "oban"] = "pg_cron" if eligible else "oban"
    if task.executor == "oban":
        executor = "oban"
        if eligible:
            diags.append(
                warning(
                    "X502",
                    "`executor: oban` on a SQL-eligible task: it could move "
                    "to pg_cron (`executor: auto`)",
                    task.span("executor"),
                )
            )
            reasons.append("executor: oban was chosen in the spec, though it could run on pg_cron")
    elif eligible:
        reasons.append("executor: auto sends SQL-eligible tasks to pg_cron")
    else:
        reasons.append("executor: auto sends app-bound tasks to Oban")
    if task.database is not None:
        if executor == "oban":
            diags.append(
                error(
                    "X504",
                    "`database:` places a pg_cron job, but this task runs on Oban; remove it",
                    task.span("database"),
                )
            )
            return None, diags
        if any(isinstance(s.schedule.meaning, Startup) for s in task.schedules):
            diags.append(
                error(
                    "X504",
                    f"@startup runs in the migration's database, not in "
                    f"`{task.database}`; schedule it with cron fields, or drop "
                    "`database:`",
                    task.span("database"),
                )
            )
            return None, diags
        reasons.append(
            f"runs in database {task.database} (cron.schedule_in_database): the body "
            "is the job's command, since the migration cannot create a procedure "
            "there; PostgreSQL checks it only when the job first runs"
        )
    if executor == "oban" and task.worker is None:
        diags.append(
            error(
                "X503",
                "this task runs on Oban ("
                + ("; ".join(blockers) if blockers else "the spec says `executor: oban`")
                + "), so it needs `worker:`, the Oban worker module that runs it (e.g. "
                "`worker: MyApp.Workers.Export`)",
                task.span("kind"),
            )
        )
        return None, diags
    if (
        executor == "pg_cron"
        and analysis is not None
        and analysis.standalone
        and any(isinstance(s.schedule.meaning, Startup) for s in task.schedules)
    ):
        startup = next(s for s in task.schedules if isinstance(s.schedule.meaning, Startup))
        diags.append(
            error(
                "Q406",
                "@startup runs inside the migration's transaction, where "
                f"{analysis.statements[0].keyword} cannot run; schedule it "
                "with cron fields instead",
                startup.span,
            )
        )
        return None, diags
    return Classified(task, eligible, executor, tuple(reasons), analysis), diags
