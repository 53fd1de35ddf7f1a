"""`cronspec plan --explain`: the query plans of every pg_cron job, read before deploy.

`targets.targets()` lists the statements to plan (pure), `db/` runs EXPLAIN on them inside
the plan's rolled-back transaction, `review()` reads the plans for work repeated once per row
(pure). `targets` is imported by its users (it needs the SQL parser), not here, so that the
CLI can read the thresholds' defaults without loading it.
"""

from .model import (
    Explained,
    RelationSize,
    Request,
    Review,
    StatementReview,
    Target,
    Thresholds,
)
from .rules import relations, review

__all__ = [
    "Explained",
    "RelationSize",
    "Request",
    "Review",
    "StatementReview",
    "Target",
    "Thresholds",
    "relations",
    "review",
]
