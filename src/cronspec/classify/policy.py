"""Where a task's run-time policies can apply, once its executor and (on pg_cron) how its job
runs the body are known; refused, saying why, where they cannot.

On pg_cron every policy is carried by the procedure cronspec wraps the body in: the SET clauses
of `settings`, the plpgsql wrapper of `overlap: skip` and `retry`, and for `timeout` the job's
command that CALLs it (`SET LOCAL statement_timeout = ...; CALL ...`: a procedure's own
statement_timeout has no effect on a pg_cron run). A body that is the job's own command (VACUUM,
a lone CALL, `run_as: command`, `database:`) has no procedure to carry them, and nothing may run
before it in its command: a policy there is refused (P803).

On Oban, a crontab entry carries `unique` (for `overlap: skip`) and `max_attempts` (for
`retry.attempts`); a timeout, a backoff and settings live in the worker module, and Oban runs a
task's jobs side by side: those are refused with what to write in the worker instead (P804).
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic, error
from ..model import Task
from .body import Body
from .run import RunAs


def policy_problems(
    task: Task, executor: str, run: RunAs | None, body: Body | None
) -> list[Diagnostic]:
    """What prevents the task's policies on its executor; empty when they all apply."""
    if executor == "oban":
        return _oban_problems(task)
    if run is not None and run.mode == "command":
        return _command_problems(task, run, body)
    return []


def _keys(task: Task) -> list[str]:
    """The policies that change anything (an explicit `overlap: queue` is pg_cron's own)."""
    p = task.policy
    return [k for k in p.written if not (k == "overlap" and not p.skip)]


def _listed(keys: list[str]) -> str:
    names = [f"`{'overlap: skip' if k == 'overlap' else k}`" for k in keys]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return text + (" needs" if len(names) == 1 else " need")


def _command_problems(task: Task, run: RunAs, body: Body | None) -> list[Diagnostic]:
    keys = _keys(task)
    if not keys:
        return []
    need = _listed(keys) + " the procedure cronspec wraps the body in"
    statements = body.analysis.statements if body is not None else ()
    lone = statements[0] if len(statements) == 1 else None
    if task.database is not None:
        why = (
            f"the job runs in database `{task.database}`, where the migration cannot create a "
            f"procedure, so the body is the job's command; {need}: drop `database:` for "
            + ("it" if len(keys) == 1 else "them")
        )
    elif task.run_as == "command":
        why = f"`run_as: command` makes the body the job's command, but {need}; remove `run_as`"
    elif lone is not None and lone.placement == "top_level":
        why = (
            "a lone CALL is the job's own command, so that a procedure that COMMITs works, but "
            f"{need}, where a COMMIT fails (as it does after a SET in the command); if the "
            "procedure does not COMMIT, add `run_as: procedure`"
        )
    elif lone is not None and lone.placement in ("alone", "alone_if_partitioned"):
        why = (
            f"{lone.why} cannot run inside a transaction or procedure, so it is the job's only "
            f"statement, but {need}, and nothing may run before it in the command; give the "
            "policies to a task of their own"
        )
    else:
        why = f"the body is the job's own command ({run.why.split(':')[0]}), but {need}"
    return [error("P803", why, task.policy.span(keys[0], task.span(keys[0])))]


def _oban_problems(task: Task) -> list[Diagnostic]:
    p = task.policy
    worker = task.worker or "the worker"
    diags: list[Diagnostic] = []
    span = p.span

    def refuse(key: str, what: str) -> None:
        diags.append(
            error(
                "P804",
                f"Oban cannot take `{key}` from a crontab entry: {what}",
                span(key, task.span(key.split(".")[0])),
            )
        )

    if p.overlap == "queue":
        refuse(
            "overlap",
            "it runs a task's jobs side by side, up to its queue's limit; to run them one after "
            "another, give the task a queue of its own with `limit: 1` in the app's Oban config "
            "(or use `overlap: skip`), and remove `overlap: queue`",
        )
    if p.timeout is not None:
        refuse(
            "timeout",
            f"it is the worker's callback; in {worker} write `@impl Oban.Worker` and "
            f"`def timeout(_job), do: {p.timeout.ms}` (milliseconds), and remove `timeout`",
        )
    if p.retry is not None and p.retry.backoff is not None:
        seconds = -(-p.retry.backoff.ms // 1000)
        refuse(
            "retry.backoff",
            f"it is the worker's callback; in {worker} write `@impl Oban.Worker` and "
            f"`def backoff(_job), do: {seconds}` (seconds), and remove `retry.backoff` "
            "(`retry.attempts` becomes the job's max_attempts)",
        )
    if p.settings:
        name, value = p.settings[0]
        refuse(
            "settings",
            "settings belong to the database session of the worker's queries; have "
            f"{worker} run them in a transaction that sets them first (`Repo.transaction(fn -> "
            f'Repo.query!("SELECT set_config($1, $2, true)", [{_elixir(name)}, {_elixir(value)}]);'
            " ... end)`), and remove `settings`",
        )
    if p.skip and task.unique is not None:
        diags.append(
            error(
                "P805",
                "`overlap: skip` is the crontab entry's `unique` on Oban (until the task's job "
                "is done), and `unique` says another; keep one of the two",
                task.span("unique"),
            )
        )
    if p.retry is not None and task.max_attempts is not None:
        diags.append(
            error(
                "P805",
                f"`retry.attempts` ({p.retry.attempts}) and `max_attempts` "
                f"({task.max_attempts}) say the same on Oban; keep `retry` and remove "
                "`max_attempts`",
                task.span("max_attempts"),
            )
        )
    return diags


def _elixir(text: str) -> str:
    """`text` as an Elixir string in a hint, when it needs no escape; else a word for it (the
    hint is copied into code: nothing in it may end the string or interpolate)."""
    if re.fullmatch(r"[A-Za-z0-9 _.,:/+=@%-]*", text):
        return f'"{text}"'
    return "value" if text else '""'
