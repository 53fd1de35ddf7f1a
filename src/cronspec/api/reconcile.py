"""`cronspec plan`, `apply` and `drift`: the project's migration against the live database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .. import db, queryplan
from .compile import Compiled, compile_project

LiveCommand = Literal["plan", "apply", "drift"]


@dataclass(frozen=True)
class LiveOutcome:
    """What `cronspec plan`, `apply` or `drift` found: the migration's own record of its actions.

    `error` is set when the specs do not compile (see `compiled.diagnostics`), when generated/
    is stale for an apply, or when the database refused the migration.
    """

    command: LiveCommand
    compiled: Compiled
    stale: bool = False
    report: db.Report | None = None
    error: db.DbError | None = None
    review: queryplan.Review | None = None  # `plan --explain`: the query plans, read

    @property
    def project(self) -> str:
        """The project whose objects the migration manages."""
        return self.compiled.config.project if self.compiled.config else "default"

    @property
    def actions(self) -> tuple[db.Action, ...]:
        """Every action for plan and apply; for drift, the changes to objects cronspec owns and
        the clashes (what keeps the generated state from applying)."""
        if self.report is None:
            return ()
        if self.command == "drift":
            return tuple(a for a in self.report.actions if a.drift or a.action == "clash")
        return self.report.actions

    @property
    def clashes(self) -> bool:
        """Whether the migration refused an object that is not this project's."""
        return any(a.action == "clash" for a in self.actions)

    @property
    def changes(self) -> bool:
        """Whether applying would change the database (adoptions count)."""
        return any(a.changes for a in self.actions)


def live(
    root: Path,
    command: LiveCommand,
    dsn: str,
    *,
    adopt: bool = False,
    explain: queryplan.Thresholds | None = None,
) -> LiveOutcome:
    """Run the project's migration against a database: rolled back (plan, drift) or committed.

    All three run the same SQL as generated/pg_cron.sql, so a plan shows exactly what an apply
    does. An apply refuses a stale generated/ (plan and drift only warn: see `stale`).

    `explain` (plan only): EXPLAIN every statement of every pg_cron job inside the plan's
    transaction, after the migration ran, and read the plans for per-row work (`review`).
    """
    outcome = compile_project(root, check=True)
    compiled = outcome.compiled
    if outcome.error is not None:
        return LiveOutcome(command, compiled, error=db.DbError(outcome.error))
    if not compiled.ok or outcome.comparison is None:
        return LiveOutcome(command, compiled)
    stale = outcome.comparison.stale
    if stale and command == "apply":
        return LiveOutcome(
            command,
            compiled,
            stale,
            error=db.DbError(
                "generated/ is stale against specs/; run `cronspec compile` and review the "
                "diff first"
            ),
        )
    targets: tuple[queryplan.Target, ...] = ()
    if explain is not None and command == "plan":
        from ..queryplan.targets import targets as explain_targets  # loads libpg_query

        targets = explain_targets(compiled.placements, compiled.plan)
    here = [t.request for t in targets if t.request is not None and t.request.database is None]
    try:
        conn = db.connect(dsn)
        with conn:
            report = db.run_migration(
                conn,
                compiled.files["pg_cron.sql"],
                plan=command != "apply",
                adopt=adopt,
                explain=here,
            )
        review = None
        if explain is not None and command == "plan":
            review = queryplan.review(targets, _explained(dsn, targets, report), explain)
    except db.DbError as exc:
        return LiveOutcome(command, compiled, stale, error=exc)
    return LiveOutcome(command, compiled, stale, report, review=review)


def _explained(
    dsn: str, targets: tuple[queryplan.Target, ...], report: db.Report
) -> list[queryplan.Explained | None]:
    """The EXPLAIN result of each target, in order: those of the migration's database from the
    plan's own transaction, the others (`database:` tasks) from their database."""
    here = iter(report.explained)
    elsewhere: dict[str, list[queryplan.Request]] = {}
    for t in targets:
        if t.request is not None and t.request.database is not None:
            elsewhere.setdefault(t.request.database, []).append(t.request)
    there = {
        name: iter(db.explain_in_database(dsn, name, requests))
        for name, requests in elsewhere.items()
    }
    out: list[queryplan.Explained | None] = []
    for t in targets:
        if t.request is None:
            out.append(None)
        elif t.request.database is None:
            out.append(next(here))
        else:
            out.append(next(there[t.request.database]))
    return out
