"""One function per command, returning values. The CLI is a thin shell over these.

`compile` (compile, explain), `reconcile` (plan, apply, drift), `imports` (import),
`observe` (status).
"""

from .compile import (
    Compiled,
    CompileOutcome,
    InternalError,
    compile_project,
    compile_specs,
    explain,
    load_tasks,
    render_files,
)
from .imports import ImportOutcome, import_oban, import_pg_cron
from .observe import StatusOutcome, status
from .reconcile import LiveCommand, LiveOutcome, live

__all__ = [
    "CompileOutcome",
    "Compiled",
    "ImportOutcome",
    "InternalError",
    "LiveCommand",
    "LiveOutcome",
    "StatusOutcome",
    "compile_project",
    "compile_specs",
    "explain",
    "import_oban",
    "import_pg_cron",
    "live",
    "load_tasks",
    "render_files",
    "status",
]
