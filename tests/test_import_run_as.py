"""`run_as`: how a pg_cron job runs a task's body, decided in one place (classify/run.py).

`procedure` wraps it (PostgreSQL checks the body when the migration creates it), `command`
makes the body the job's command as written (pg_cron runs it as one transaction; nothing checks
it before the job runs), `auto` wraps unless the body must run at top level or in another
database. `cronspec import` writes `run_as: command` so that an imported job keeps its command
and is adopted as it is. The forms are checked on the real servers: the command in `cron.job`,
the procedures there are (or not), and on pg_cron 1.6.7 jobs that really ran.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.builders import classified, settings, task
from support.dbtools import (
    apply_actions,
    compiled,
    execute,
    jobs,
    poll,
    procedures,
    query,
    write_project,
)

from cronspec.classify import classify
from cronspec.diagnostics import Diagnostic
from cronspec.model import RunAs
from cronspec.plan import build_plan, place

VACUUM = "VACUUM (ANALYZE) run_as_t; -- nightly\n"
TWO = "INSERT INTO run_as_t VALUES (1);\nINSERT INTO run_as_t VALUES (2); -- two\n"


def command_of(body: str, run_as: RunAs, database: str | None = None) -> tuple[str, int]:
    """The job's command and the number of procedures the plan makes."""
    c = classified(dataclasses.replace(task(sql=body, database=database), run_as=run_as))
    placements, diags = place([c], settings())
    plan, more = build_plan(placements, settings())
    assert plan is not None, [*diags, *more]
    (job,) = plan.jobs
    return job.command, len(plan.procedures)


@pytest.mark.parametrize(
    ("body", "run_as", "database", "want"),
    [
        (TWO, "auto", None, ('CALL "cronspec"."x"()', 1)),
        (TWO, "procedure", None, ('CALL "cronspec"."x"()', 1)),
        (TWO, "command", None, (TWO.strip(), 0)),
        (VACUUM, "auto", None, ("VACUUM (ANALYZE) run_as_t", 0)),
        (VACUUM, "command", None, (VACUUM.strip(), 0)),
        (TWO, "auto", "analytics", (TWO.strip(), 0)),
        (TWO, "command", "analytics", (TWO.strip(), 0)),
    ],
)
def test_the_form_decides_the_command(
    body: str, run_as: RunAs, database: str | None, want: tuple[str, int]
) -> None:
    assert command_of(body, run_as, database) == want


def test_each_form_says_why() -> None:
    reasons = {
        run_as: classified(dataclasses.replace(task(sql=TWO), run_as=run_as)).reasons
        for run_as in ("auto", "procedure", "command")
    }
    assert not any("run_as:" in r for r in reasons["auto"])
    assert any(
        r.startswith("run_as: procedure: wrapped in a LANGUAGE sql procedure")
        for r in reasons["procedure"]
    )
    (command,) = [r for r in reasons["command"] if r.startswith("run_as: command")]
    assert "one transaction" in command
    assert "PostgreSQL checks the body itself only when the job runs" in command


@pytest.mark.parametrize(
    ("body", "database", "words"),
    [
        (VACUUM, None, ("Q404", "VACUUM cannot run inside a procedure")),
        (TWO, "analytics", ("X504", "`analytics`")),
    ],
)
def test_a_procedure_that_cannot_be_is_an_error(
    body: str, database: str | None, words: tuple[str, str]
) -> None:
    t = dataclasses.replace(task(sql=body, database=database), run_as="procedure")
    result, diags = classify(t)
    assert result is None
    (diag,) = diags
    code, text = words
    assert isinstance(diag, Diagnostic) and diag.code == code and text in diag.message


def test_run_as_on_oban_is_an_error() -> None:
    t = dataclasses.replace(task(executor="oban", worker="My.Worker"), run_as="command")
    result, diags = classify(t)
    assert result is None and [d.code for d in diags] == ["X502", "X506"]


# --- on the real servers -------------------------------------------------------------------------

SPEC = "name: {name}\ndescription: d\nkind: sql\nschedule: {schedule}\n{extra}sql: |\n{body}"


def spec(name: str, body: str, *, schedule: str = "'0 3 * * *'", extra: str = "") -> str:
    indented = "".join(f"  {line}\n" for line in body.splitlines())
    return SPEC.format(name=name, schedule=schedule, extra=extra, body=indented)


def test_a_command_is_the_job_as_written_and_no_procedure(pg_db: str, tmp_path: Path) -> None:
    execute(pg_db, "CREATE TABLE run_as_t (n int)")
    specs = {
        "two": spec("two", TWO, extra="run_as: command\n"),
        "vacuum": spec("vacuum", VACUUM, extra="run_as: command\n"),
        "wrapped": spec("wrapped", TWO, extra="run_as: procedure\n"),
    }
    root = write_project(tmp_path, specs)
    apply_actions(pg_db, compiled(root).files["pg_cron.sql"])
    live = jobs(pg_db)
    assert live["two"][1] == TWO.strip()
    assert live["vacuum"][1] == VACUUM.strip()
    assert live["wrapped"][1] == 'CALL "cronspec"."wrapped"()'
    assert set(procedures(pg_db)) == {"wrapped"}


def test_a_command_at_startup_runs_every_statement(pg_db: str, tmp_path: Path) -> None:
    execute(pg_db, "CREATE TABLE run_as_t (n int)")
    specs = {
        "seed": spec("seed", TWO, schedule="['@startup', '0 3 * * *']", extra="run_as: command\n")
    }
    apply_actions(pg_db, compiled(write_project(tmp_path, specs)).files["pg_cron.sql"])
    assert query(pg_db, "SELECT n FROM run_as_t ORDER BY n") == [(1,), (2,)]
    assert procedures(pg_db) == {}


def runs(dsn: str, names: tuple[str, ...]) -> Callable[[list[tuple[Any, ...]]], bool]:
    return lambda got: {r[0] for r in got} >= set(names)


def test_commands_run_by_pg_cron_as_one_transaction(db16: str, tmp_path: Path) -> None:
    execute(db16, "CREATE TABLE run_as_t (n int PRIMARY KEY)")
    every = "'1 seconds'"
    specs = {
        "two": spec(
            "two",
            "INSERT INTO run_as_t VALUES (1) ON CONFLICT DO NOTHING;\nSELECT 1;\n",
            schedule=every,
            extra="run_as: command\n",
        ),
        "vacuum": spec("vacuum", VACUUM, schedule=every, extra="run_as: command\n"),
        # the second statement fails: the first one's row must not stay (one transaction)
        "undone": spec(
            "undone",
            "INSERT INTO run_as_t VALUES (7);\nSELECT 1 / 0;\n",
            schedule=every,
            extra="run_as: command\n",
        ),
    }
    root = write_project(tmp_path, specs, '[pg_cron]\nversion = "1.6"\n')
    apply_actions(db16, compiled(root).files["pg_cron.sql"])
    got = poll(
        db16,
        "SELECT j.jobname, d.status, d.return_message FROM cron.job_run_details d "
        "JOIN cron.job j USING (jobid) WHERE d.status IN ('succeeded', 'failed')",
        runs(db16, ("two", "vacuum", "undone")),
    )
    status = {(name, state) for name, state, _ in got}
    assert {("two", "succeeded"), ("vacuum", "succeeded"), ("undone", "failed")} <= status, got
    assert ("two", "failed") not in status and ("vacuum", "failed") not in status, got
    assert any("division by zero" in message for name, _, message in got if name == "undone")
    assert query(db16, "SELECT n FROM run_as_t ORDER BY n") == [(1,)]
