"""Spec to SQL-eligible or app-bound, with the reasons a reviewer reads, and the executor.

Rules, in order:
- `kind: app` or any entry in `needs` makes a task app-bound; each reason names the capability.
- A SQL body is read by PostgreSQL's own parser (classify/pgsql): a body that does not parse,
  uses transaction control, DO blocks or code cronspec cannot see into (another language,
  SQL given as text), or changes how SQL is read, is an error at its place in the spec.
- A body that reaches outside the database (COPY ... PROGRAM, server files, dblink, HTTP) is
  app-bound, unless `reaches:` names that capability: then it is accepted on purpose. pg_net's
  requests are SQL: pg_net queues them and its background worker sends them.
- `executor: auto` sends SQL-eligible tasks to pg_cron and the rest to Oban; `executor: pg_cron`
  on an app-bound task is an error; `executor: oban` on a SQL-eligible task is a warning.
- On pg_cron, `run.py` decides whether the body is wrapped in a procedure or is the job's own
  command (VACUUM, a lone CALL, ...), and what the migration checks in the live database.
- `policy.py` says where the task's run-time policies (overlap, timeout, retry, settings) can
  apply on its executor, and refuses the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..diagnostics import Diagnostic, error, warning
from ..model import Task
from ..schedule import Startup
from ..spec import NEED_WHY
from .body import Body, LiveCheck, finding_reason, reaches_hint, read_body, statements_reason
from .pgsql import CAPABILITIES, Analysis
from .policy import policy_problems
from .run import RunAs, run_as


@dataclass(frozen=True)
class Classified:
    """A task with its verdict: SQL-eligible or not, the executor, and the reasons."""

    task: Task
    eligible: bool  # SQL-eligible
    executor: Literal["pg_cron", "oban"]
    reasons: tuple[str, ...]
    analysis: Analysis | None
    run: RunAs | None = None  # pg_cron tasks: wrapped in a procedure or the job's own command

    @property
    def classification(self) -> str:
        """`sql-eligible` or `app-bound`, as the report says it."""
        return "sql-eligible" if self.eligible else "app-bound"

    @property
    def command(self) -> bool:
        """Whether the body is the job's own command, with no wrapper procedure."""
        return self.run is not None and self.run.mode == "command"

    @property
    def checks(self) -> tuple[LiveCheck, ...]:
        """What the migration checks in the live database for this task."""
        return self.run.checks if self.run is not None else ()


def classify(task: Task) -> tuple[Classified | None, list[Diagnostic]]:
    """The verdict on one task, or None with the diagnostics that prevent one."""
    diags: list[Diagnostic] = []
    reasons: list[str] = []
    blockers: list[str] = []
    body: Body | None = None
    if task.kind == "app":
        blockers.append(f"kind: app: the work is the application worker {task.worker}")
    for need in task.needs:
        blockers.append(f"needs {need}: {NEED_WHY[need]}")
    if task.sql is not None:
        body = read_body(task)
        if body.errors:
            return None, [*body.errors, *body.warnings]
        diags += body.warnings
        unused = _unused_reaches(task, body)
        if unused is not None:
            return None, [*diags, unused]
        blockers += [f"reaches outside the database: {finding_reason(f)}" for f in body.outside]
        if not blockers:
            reasons.append(statements_reason(body))
            reasons += [
                f"reaches outside the database on purpose (`reaches: [{f.capability}]`): "
                + finding_reason(f)
                for f in body.accepted
            ]
            checked = "" if task.database else "; the migration checks that pg_net is installed"
            reasons += [finding_reason(f) + checked for f in body.pg_net]
    eligible = not blockers
    reasons = blockers + reasons
    # SQL that only reaches outside (no `needs`, not `kind: app`) may say so with `reaches:`
    only_outside = body is not None and len(blockers) == len(body.outside)
    hint = reaches_hint(body.outside) if body is not None and only_outside else ""
    if task.executor == "pg_cron" and not eligible:
        message = "`executor: pg_cron` but the task is app-bound: " + "; ".join(blockers)
        if hint:
            message += f"; to run it on pg_cron on purpose, add {hint}"
        diags.append(error("X501", message, task.span("executor")))
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
    if executor == "oban" and task.worker is None:
        message = (
            "this task runs on Oban ("
            + ("; ".join(blockers) if blockers else "the spec says `executor: oban`")
            + "), so it needs `worker:`, the Oban worker module that runs it (e.g. "
            "`worker: MyApp.Workers.Export`)"
        )
        if hint:
            message += f"; or, to run its SQL on pg_cron on purpose, add {hint}"
        diags.append(error("X503", message, task.span("kind")))
        return None, diags
    if executor == "oban" and task.run_as != "auto":
        diags.append(
            error(
                "X506",
                f"`run_as: {task.run_as}` says how a pg_cron job runs the body, but this task "
                "runs on Oban; remove it",
                task.span("run_as"),
            )
        )
        return None, diags
    run = None
    if executor == "pg_cron" and body is not None:
        run, run_diags = run_as(task, body, task.run_as)
        if run is None:
            return None, [*diags, *run_diags]
        reasons.insert(len(reasons) - 1, run.why)
        relations = [c.qualified for c in run.checks if c.kind == "relation"]
        if relations:
            reasons.insert(
                len(reasons) - 1,
                "the migration checks that "
                + _listed(relations)
                + (" exists" if len(relations) == 1 else " exist")
                + " (to_regclass, in the job's database and search_path)",
            )
    policy_diags = policy_problems(task, executor, run, body)
    if policy_diags:
        return None, [*diags, *policy_diags]
    analysis = body.analysis if body is not None else None
    return Classified(task, eligible, executor, tuple(reasons), analysis, run), diags


def _unused_reaches(task: Task, body: Body) -> Diagnostic | None:
    """A capability `reaches:` accepts that the body does not use: a stale acceptance."""
    used = {f.capability for f in body.accepted}
    unused = [c for c in task.reaches if c not in used]
    if not unused:
        return None
    listed = ", ".join(f"`{c}`" for c in unused)
    return error(
        "X505",
        f"`reaches:` accepts {listed}, which the body does not use "
        f"({CAPABILITIES[unused[0]]}); remove it",
        task.span("reaches"),
    )


def _listed(names: list[str], limit: int = 6) -> str:
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)
