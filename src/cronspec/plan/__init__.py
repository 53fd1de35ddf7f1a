"""The intermediate model: each task placed on its executor (`placement.py`), the desired state
of both executors built from that (`model.py`, `build.py`), and the views of the report and
`cronspec explain`, kept apart from it (`views.py`)."""

from ..schedule import UTC_NAMES, is_utc
from .build import build_plan
from .model import (
    HISTORY_JOB,
    HISTORY_SCHEDULE,
    ObanJob,
    PgCheck,
    PgJob,
    PgProcedure,
    Plan,
    StartupCall,
    oban_zone,
    procedure_command,
    quote_ident,
)
from .placement import PlacedSchedule, Placement, place
from .views import ScheduleView, TaskView, report_views, task_views

__all__ = [
    "HISTORY_JOB",
    "HISTORY_SCHEDULE",
    "UTC_NAMES",
    "ObanJob",
    "PgCheck",
    "PgJob",
    "PgProcedure",
    "PlacedSchedule",
    "Placement",
    "Plan",
    "ScheduleView",
    "StartupCall",
    "TaskView",
    "build_plan",
    "is_utc",
    "oban_zone",
    "place",
    "procedure_command",
    "quote_ident",
    "report_views",
    "task_views",
]
