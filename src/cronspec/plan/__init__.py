"""The intermediate model: each task placed on its executor (`placement.py`), the desired state
of both executors built from that (`model.py`, `build.py`), and the views of the report and
`cronspec explain`, kept apart from it (`views.py`)."""

from ..schedule import UTC_NAMES, is_utc
from .build import build_plan
from .model import (
    DEPLOY_META,
    HISTORY_JOB,
    HISTORY_SCHEDULE,
    SKIP_TABLE,
    SKIP_UNIQUE,
    STARTUP_UNIQUE,
    TASK_META,
    ObanJob,
    PgCheck,
    PgJob,
    PgProcedure,
    PgWrapper,
    Plan,
    StartupCall,
    body_procedure,
    oban_zone,
    procedure_command,
    quote_ident,
)
from .placement import PlacedSchedule, Placement, place
from .views import ScheduleView, TaskView, report_views, task_views

__all__ = [
    "DEPLOY_META",
    "HISTORY_JOB",
    "HISTORY_SCHEDULE",
    "SKIP_TABLE",
    "SKIP_UNIQUE",
    "STARTUP_UNIQUE",
    "TASK_META",
    "UTC_NAMES",
    "ObanJob",
    "PgCheck",
    "PgJob",
    "PgProcedure",
    "PgWrapper",
    "PlacedSchedule",
    "Placement",
    "Plan",
    "ScheduleView",
    "StartupCall",
    "TaskView",
    "body_procedure",
    "build_plan",
    "is_utc",
    "oban_zone",
    "place",
    "procedure_command",
    "quote_ident",
    "report_views",
    "task_views",
]
