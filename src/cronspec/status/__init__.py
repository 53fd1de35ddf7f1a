"""`cronspec status`: what the executors recorded of each managed job, judged.

`model` holds the observations (`db/` reads them) and the verdicts; `judge` is the pure
function from the plan, the observations and a fixed instant to the verdicts.
"""

from .judge import judge
from .model import (
    ALERTS,
    FAILED,
    SKIP_TABLE,
    Flag,
    JobStatus,
    ObanRow,
    ObanState,
    PgCronJob,
    PgCronState,
    RunRecord,
    RunStatus,
    Skip,
    StatusReport,
    duration_argument,
    positive_argument,
)

__all__ = [
    "ALERTS",
    "FAILED",
    "SKIP_TABLE",
    "Flag",
    "JobStatus",
    "ObanRow",
    "ObanState",
    "PgCronJob",
    "PgCronState",
    "RunRecord",
    "RunStatus",
    "Skip",
    "StatusReport",
    "duration_argument",
    "judge",
    "positive_argument",
]
