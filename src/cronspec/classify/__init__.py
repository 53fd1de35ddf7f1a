"""A task to SQL-eligible or app-bound, with the reasons a reviewer reads, and its executor
(`rules.py`); how a pg_cron job runs its body (`run.py`); from what PostgreSQL's own parser says
the body does (`pgsql/`, read through `body.py`).
The parse-back of what cronspec emits is render/parseback.py."""

from .body import LiveCheck
from .rules import Classified, classify
from .run import RunAs

__all__ = ["Classified", "LiveCheck", "RunAs", "classify"]
