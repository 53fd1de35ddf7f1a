"""The one package that talks to PostgreSQL: run the migration, for real or rolled back, and read
what it did.

There is no second diff here: the migration decides every action itself and records it in the
temporary table `cronspec_action`. A plan runs the migration without its final COMMIT, reads
that table and rolls back; an apply reads it and commits. Every database failure becomes a
`DbError` carrying the server's message, DETAIL and HINT.

`connection` (connect, DbError), `migration` (run_migration, Report), `explain` (plan
--explain), `cron_jobs` (what `cronspec import --dsn` reads), `status` (what `cronspec status`
reads).
"""

from .connection import DbError, connect
from .cron_jobs import ImportSource, read_cron_jobs
from .explain import explain_in_database, explain_statements
from .migration import ACTIONS, CHANGES, Action, Report, run_migration
from .status import Observed, read_status

__all__ = [
    "ACTIONS",
    "CHANGES",
    "Action",
    "DbError",
    "ImportSource",
    "Observed",
    "Report",
    "connect",
    "explain_in_database",
    "explain_statements",
    "read_cron_jobs",
    "read_status",
    "run_migration",
]
