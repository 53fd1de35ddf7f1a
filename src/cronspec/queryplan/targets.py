"""What `cronspec plan --explain` asks PostgreSQL to plan: every statement of every pg_cron job.

A procedure's body is planned statement by statement, as PostgreSQL runs it; a bare command
(VACUUM, a single CALL, a `database:` task's body) likewise. Statements are split by
PostgreSQL's own parser (libpg_query), so each one's place in the spec is exact.

Only statements with a query plan are explained: SELECT, INSERT, UPDATE, DELETE, MERGE,
CREATE TABLE AS and DECLARE. The others are listed with the reason they are not, and so is a
statement that uses a relation an earlier statement of the same body creates (it cannot be
planned before that statement ran, and EXPLAIN runs nothing).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..classify import pgsql
from ..diagnostics import Origin, Span
from ..plan import HISTORY_JOB, Placement, Plan
from .model import Request, Target

# libpg_query's node types whose statements EXPLAIN (without ANALYZE) plans and does not run
EXPLAINABLE = frozenset(
    {
        "SelectStmt",
        "InsertStmt",
        "UpdateStmt",
        "DeleteStmt",
        "MergeStmt",
        "CreateTableAsStmt",
        "DeclareCursorStmt",
    }
)
_WHY_NOT = {
    "CallStmt": "CALL runs a procedure whose statements PostgreSQL plans only when they run",
    "ExecuteStmt": "EXECUTE runs a statement prepared at run time",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW has no plan of its own",
}


def targets(placements: Iterable[Placement], plan: Plan | None = None) -> tuple[Target, ...]:
    """One target per statement of every task on pg_cron (and cronspec's own history job)."""
    found: list[Target] = []
    for placement in placements:
        classified = placement.classified
        task = classified.task
        if classified.executor != "pg_cron" or task.sql is None:
            continue
        found.extend(_task_targets(task.name, task.path, task.sql, task.sql_origin, task.database))
    if plan is not None:
        for job in plan.jobs:
            if job.task == HISTORY_JOB:  # its command is cronspec's own: a DELETE
                span = Span(job.spec)
                found.append(
                    Target(
                        job.task, job.spec, 0, "DELETE", span, Request(job.database, job.command)
                    )
                )
    return tuple(found)


def _task_targets(
    task: str, spec: str, body: str, origin: Origin, database: str | None
) -> list[Target]:
    analysis = pgsql.analyze(body)
    if analysis.error is not None:
        problem = analysis.error
        span = origin.span(
            problem.span.line, problem.span.col, problem.span.end_line, problem.span.end_col
        )
        why = f"PostgreSQL's parser refuses the body: {problem.message}"
        return [Target(task, spec, 0, "?", span, None, why, database)]
    created: dict[int, str] = {}
    for rel in analysis.relations:
        if rel.role == "uses" and rel.created_here:
            created.setdefault(rel.statement, rel.qualified)
    out = []
    for s in analysis.statements:
        span = origin.span(s.span.line, s.span.col, s.span.end_line, s.span.end_col)
        skip = ""
        if s.node not in EXPLAINABLE:
            skip = _WHY_NOT.get(s.node, f"{s.kind} has no query plan")
        elif s.index in created:
            skip = (
                f"uses {created[s.index]}, which an earlier statement of the body creates: it "
                "can be planned only once that statement ran"
            )
        request = None if skip else Request(database, s.text)
        out.append(Target(task, spec, s.index, s.kind, span, request, skip, database))
    return out
