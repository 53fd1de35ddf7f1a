"""`cronspec status`: what the executors recorded, judged."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from .. import db
from ..status import StatusReport, judge
from .compile import Compiled, compile_specs


@dataclass(frozen=True)
class StatusOutcome:
    """What `cronspec status` found. `report` is None when the specs do not compile (see
    `compiled.diagnostics`) or the database could not be read (`error`)."""

    compiled: Compiled
    report: StatusReport | None = None
    error: db.DbError | None = None


def status(
    root: Path,
    dsn: str,
    *,
    runs: int = 10,
    grace: timedelta = timedelta(minutes=5),
    oban_prefix: str = "public",
    oban_dsn: str | None = None,
) -> StatusOutcome:
    """Every job the project manages, on pg_cron (cronspec's bookkeeping, cron.job and
    cron.job_run_details) and on Oban (`oban_jobs`, in the same database unless `oban_dsn`),
    with its last `runs` runs, judged at the database's clock."""
    compiled = compile_specs(root)
    plan = compiled.plan
    if plan is None or not compiled.ok:
        return StatusOutcome(compiled)
    tasks = sorted({job.task for job in plan.oban_jobs})
    workers = sorted({job.worker.removeprefix("Elixir.") for job in plan.oban_jobs})
    try:
        with db.connect(dsn) as conn:
            oban = None
            if plan.oban_jobs:
                oban_conn = db.connect(oban_dsn) if oban_dsn else conn
                oban = (oban_conn, oban_prefix, tasks, workers)
            try:
                observed = db.read_status(conn, plan.project, runs, oban)
            finally:
                if oban is not None and oban[0] is not conn:
                    oban[0].close()
    except db.DbError as exc:
        return StatusOutcome(compiled, error=exc)
    if observed.pg_cron is None and plan.jobs:
        return StatusOutcome(
            compiled,
            error=db.DbError(
                f"pg_cron is not installed in database {observed.database}, and the specs "
                f"have {len(plan.jobs)} pg_cron jobs",
                hint="point --dsn at the database named by cron.database_name; Oban's tables "
                "can be elsewhere (--oban-dsn)",
            ),
        )
    notes = []
    if plan.oban_jobs and observed.oban is None:
        where = "the --oban-dsn database" if oban_dsn else f"database {observed.database}"
        notes.append(
            f"no {oban_prefix}.oban_jobs in {where}: Oban's tasks are not judged (--oban-prefix, "
            "--oban-dsn)"
        )
    report = judge(
        plan,
        observed.pg_cron,
        observed.oban,
        now=observed.now,
        grace=grace,
        runs=runs,
        role=observed.role,
        notes=notes,
    )
    if any(j.executor == "oban" and "never ran" in j.flags for j in report.jobs):
        report = replace(
            report,
            notes=(
                *report.notes,
                "Oban's Pruner deletes finished jobs (after 60 s by default): keep them longer "
                "than the longest interval (`max_age`) for status to see their runs",
            ),
        )
    return StatusOutcome(compiled, report)
