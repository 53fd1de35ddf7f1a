"""One function per command, returning values. The CLI is a thin shell over these.

`compile` (compile, explain), `reconcile` (plan, apply, drift), `imports` (import),
`observe` (status).

The names below are imported on first use (PEP 562), so that `compile` does not import the
importer, status and database code that only the other commands use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# each name of __all__, and the module of this package it comes from
_HOMES = {
    "CompileOutcome": "compile",
    "Compiled": "compile",
    "ImportOutcome": "imports",
    "InternalError": "compile",
    "LiveCommand": "reconcile",
    "LiveOutcome": "reconcile",
    "StatusOutcome": "observe",
    "compile_project": "compile",
    "compile_specs": "compile",
    "explain": "compile",
    "import_oban": "imports",
    "import_pg_cron": "imports",
    "live": "reconcile",
    "load_tasks": "compile",
    "render_files": "compile",
    "status": "observe",
}

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


def __getattr__(name: str) -> Any:
    """A name of __all__, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, with those not imported yet."""
    return sorted({*globals(), *__all__})
