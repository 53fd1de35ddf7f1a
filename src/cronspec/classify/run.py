"""How a pg_cron task's body runs: wrapped in cronspec's procedure, or as the job's own command.
This is the one place that decides it, and says why (the reason the report shows).

What the real server says (tests/test_pgsql_server.py replays each on PostgreSQL 15):
- VACUUM, ... CONCURRENTLY, REINDEX SCHEMA/DATABASE/SYSTEM, CLUSTER without a table, CREATE/DROP
  DATABASE and TABLESPACE, ALTER SYSTEM, DISCARD ALL, CREATE SUBSCRIPTION refuse a procedure
  and a transaction block: alone, they are the job's own command;
- CALL of a procedure that COMMITs works only as the whole command, unwrapped (pg_partman's
  `run_maintenance_proc`): a lone CALL is the job's own command;
- REINDEX and CLUSTER of a partitioned table refuse a transaction block too: alone, the job's own
  command (it works for any table there); among others, the migration checks the table is not
  partitioned;
- a LANGUAGE sql procedure analyses all its statements before it runs the first, so it cannot
  use a table its own body creates: such a body is the job's own command, which pg_cron runs as
  one transaction;
- LOCK and DECLARE without HOLD fail alone at top level: as a whole command they are refused;
- a command runs with the database's settings, so text whose meaning depends on
  standard_conforming_strings is refused there (the procedure fixes the setting on).

`asked` is what the spec asks for (a `run_as` field: `auto` is this module's rule; `procedure`
always wraps, `command` never does), refused where the server would refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..diagnostics import Diagnostic, error
from ..model import Task
from ..schedule import Startup
from .body import Body, LiveCheck, place

RunMode = Literal["procedure", "command"]
Asked = Literal["auto", "procedure", "command"]

_PROCEDURE_WHY = (
    "wrapped in a LANGUAGE sql procedure the migration creates (PostgreSQL checks the body "
    "then), with standard_conforming_strings fixed on"
)


@dataclass(frozen=True)
class RunAs:
    """How the job runs the body, why, and what the migration checks before it schedules it."""

    mode: RunMode
    why: str
    command: str = ""  # mode "command": the job's command, the body as written
    checks: tuple[LiveCheck, ...] = ()


def run_as(task: Task, body: Body, asked: Asked = "auto") -> tuple[RunAs | None, list[Diagnostic]]:
    """Wrapped or bare, and why; or None with the diagnostics of a body that cannot run so."""
    a = body.analysis
    where = task.sql_origin
    lone = a.statements[0] if len(a.statements) == 1 else None
    startup = next((s for s in task.schedules if isinstance(s.schedule.meaning, Startup)), None)
    own = a.of("own_relation")
    diags: list[Diagnostic] = []
    mode: RunMode = "procedure"
    why = _PROCEDURE_WHY
    if task.database is not None:
        if asked == "procedure":
            message = (
                f"`run_as: procedure`, but the job runs in database `{task.database}`, where the "
                "migration cannot create a procedure; remove `run_as` (the body is then the "
                "job's command), or drop `database:`"
            )
            return None, [error("X504", message, task.span("run_as"))]
        mode = "command"
        why = (
            f"runs in database {task.database} (cron.schedule_in_database): the body is the "
            "job's command, since the migration cannot create a procedure there; PostgreSQL "
            "checks it only when the job first runs, and the migration cannot check there that "
            "its relations exist or that pg_net is installed"
        )
    elif lone is not None and lone.placement == "alone":
        if asked == "procedure":
            message = (
                f"`run_as: procedure`, but {lone.why} cannot run inside a procedure (PostgreSQL "
                "refuses it in a transaction block); remove `run_as` and it runs as the job's "
                "only statement"
            )
            return None, [error("Q404", message, place(where, lone.span))]
        mode = "command"
        why = (
            f"{lone.why} cannot run inside a transaction or procedure: scheduled as the job's "
            "only statement, with no wrapper procedure"
        )
    elif lone is not None and lone.placement == "top_level" and asked != "procedure":
        mode = "command"
        why = (
            "a lone CALL is the job's own command, with no wrapper procedure, so a procedure "
            "that COMMITs works (as pg_partman's run_maintenance_proc does)"
        )
    elif lone is not None and lone.placement == "alone_if_partitioned" and asked != "procedure":
        mode = "command"
        why = (
            f"{lone.why} of a partitioned table cannot run inside a transaction or procedure: "
            "the job's own command, which works for any table"
        )
    elif own and asked != "procedure":
        mode = "command"
        why = (
            f"{own[0].message.split(', but ')[0]}, and a LANGUAGE sql procedure analyses all its "
            "statements before it runs the first: the body is the job's own command, which "
            "pg_cron runs as one transaction"
        )
    elif own:
        return None, [error("Q404", own[0].message, place(where, own[0].span))]
    if asked == "command" and mode == "procedure":
        mode, why = (
            "command",
            (
                "run_as: command: the body is the job's command exactly as written, which pg_cron "
                "runs as one transaction; no procedure is created, so PostgreSQL checks the body "
                "itself only when the job runs"
            ),
        )
    elif asked == "procedure":
        why = "run_as: procedure: " + why
    if mode == "command":
        diags += _command_problems(task, body)
        if startup is not None and lone is not None and lone.placement in ("alone", "top_level"):
            what = (
                f"{lone.why} cannot run"
                if lone.placement == "alone"
                else "a procedure that COMMITs fails (so a lone CALL is the job's own command)"
            )
            message = (
                f"@startup runs inside the migration's transaction, where {what}; schedule it "
                "with cron fields instead"
            )
            diags.append(error("Q406", message, startup.span))
    if diags:
        return None, diags
    command = task.sql.rstrip("\n") if task.sql is not None else ""
    if lone is not None and lone.placement != "anywhere" and asked != "command":
        command = lone.text  # `run_as: command` keeps the body exactly as written
    if mode == "procedure":
        command = ""
    return RunAs(mode, why, command, _checks(task, body, mode, startup is not None)), []


def _command_problems(task: Task, body: Body) -> list[Diagnostic]:
    """A body that is the job's own command runs with the database's settings, at top level."""
    a = body.analysis
    where = task.sql_origin
    diags = [
        error(
            "Q411",
            "the body is the job's own command, which PostgreSQL reads with the database's "
            f"standard_conforming_strings: {f.message}",
            place(where, f.span),
        )
        for f in a.of("scs_dependent")
    ]
    if len(a.statements) == 1 and a.statements[0].placement == "in_block":
        s = a.statements[0]
        diags.append(
            error(
                "Q412",
                f"{s.why} alone as the job's command fails (it can only be used in transaction "
                "blocks); give it the statements it protects, in the same task",
                place(where, s.span),
            )
        )
    return diags


def _checks(task: Task, body: Body, mode: RunMode, startup: bool) -> tuple[LiveCheck, ...]:
    if task.database is not None:
        return ()  # the migration runs in another database: it cannot look there
    checks = list(body.checks())
    a = body.analysis
    alone_command = mode == "command" and len(a.statements) == 1
    for s in a.statements:
        if s.placement != "alone_if_partitioned" or (alone_command and not startup):
            continue
        target = next((r for r in a.relations if r.statement == s.index), None)
        if target is not None:
            checks.append(
                LiveCheck("not_partitioned", target.schema, target.name, s.span.line, s.why)
            )
    return tuple(checks)
