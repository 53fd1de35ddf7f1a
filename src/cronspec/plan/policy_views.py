"""What the report and `cronspec explain` say of a task's run-time policies: one line per
policy, saying what carries it on the task's executor (the procedure, the job's command, the
crontab entry) and what it does there."""

from __future__ import annotations

from ..model import Policy, Task
from .model import SKIP_TABLE, SKIP_UNIQUE, body_procedure, quote_ident


def policy_lines(task: Task, executor: str, jobs: int, schema: str) -> tuple[str, ...]:
    """The task's policies in words, on `executor` (`jobs`: how many pg_cron jobs it has)."""
    p = task.policy
    if executor == "oban":
        return _oban(p)
    lines: list[str] = []
    procedure = f"{quote_ident(schema)}.{quote_ident(task.name)}"
    body = f"{quote_ident(schema)}.{quote_ident(body_procedure(task.name))}"
    if p.wrapped:
        lines.append(
            f"the procedure its jobs call, {procedure}, is cronspec's plpgsql wrapper around "
            f"{body}, the procedure of its body; a manual CALL of {procedure} goes through it too"
        )
    if p.skip:
        its = f"any of its {jobs} jobs" if jobs > 1 else "its job"
        lines.append(
            "overlap: skip: the wrapper takes a try-lock on the task (pg_try_advisory_xact_lock, "
            f"held until the run's transaction ends); a run that finds another under way ({its}, "
            f"or a manual CALL) returns at once, and is recorded in {SKIP_TABLE} for cronspec "
            "status (pg_cron says such a run succeeded)"
        )
    elif p.overlap == "queue":
        line = (
            "overlap: queue, pg_cron's own behaviour: a job's runs never overlap; a run due "
            "while one is under way waits and starts right after it (an `N seconds` job keeps "
            "at most one waiting)"
        )
        if jobs > 1:
            line += f"; its {jobs} jobs are apart, and may run at the same time"
        lines.append(line)
    if p.retry is not None:
        backoff = p.retry.backoff
        apart = f", {backoff.text} apart" if backoff else ", one right after another"
        lines.append(
            f"retry: {p.retry.attempts} tries in all{apart}, in the same run: a failed try's "
            "writes are undone, and the last failure is the run's (failed in "
            "cron.job_run_details)"
            + ("; the timeout ends the run, and is not retried" if p.timeout else "")
        )
    if p.timeout is not None:
        lines.append(
            f"timeout: {p.timeout.text}: each job's command sets statement_timeout to "
            f"{p.timeout.setting} before its CALL, for the whole run"
            + (" (retries and their waits included)" if p.retry else "")
            + "; a manual CALL, and @startup, run with their session's statement_timeout; "
            "the migration refuses it where cron.use_background_workers = on, where it would "
            "have no effect"
        )
    if p.settings:
        listed = ", ".join(f"{name} = {value}" for name, value in p.settings)
        lines.append(
            f"settings: {listed}: SET clauses of {body if p.wrapped else procedure}, so they "
            "hold wherever the body runs; the server checks them when the migration creates it"
        )
    return tuple(lines)


def _oban(p: Policy) -> tuple[str, ...]:
    lines: list[str] = []
    if p.skip:
        states = ", ".join(SKIP_UNIQUE.states or ())
        lines.append(
            f"overlap: skip: the crontab entry's unique (by worker and meta's cronspec_task, "
            f"period infinity, states {states}): Oban's Cron plugin inserts no job of the task "
            "while one is still waiting, executing or due for another attempt; Oban does not "
            "record such a skip"
        )
    if p.retry is not None:
        lines.append(
            f"retry: {p.retry.attempts} tries: the job's max_attempts; Oban waits between "
            "attempts as the worker's backoff/1 says"
        )
    return tuple(lines)
