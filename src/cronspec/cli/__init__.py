"""Arguments in, exit code out. Exit codes: 0 clean, 1 findings, 2 usage or internal error.

`cronspec plan` keeps 2 for "changes" (terraform's -detailed-exitcode), so its usage errors and
crashes exit 3 instead.

Heavy modules (pydantic, sqlglot) are imported inside the commands so that `--help` and
`--version` stay fast.

`parser` (the arguments), `common` (exit codes, diagnostics), one module per command family:
`compile` (compile, explain, schema, init), `reconcile` (plan, apply, drift), `imports`
(import), `observe` (status).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_PLAN_CHANGES,
    EXIT_PLAN_ERROR,
    EXIT_STATUS_UNKNOWN,
)
from .compile import _compile, _explain, _init, _schema
from .imports import _import
from .observe import _status
from .parser import EXPLAIN_DEFAULTS, _parser
from .reconcile import _live

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_PLAN_CHANGES",
    "EXIT_PLAN_ERROR",
    "EXIT_STATUS_UNKNOWN",
    "EXPLAIN_DEFAULTS",
    "main",
    "main_entry",
]


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv, skipping the global options (for plan's usage errors)."""
    words = iter(argv)
    for word in words:
        if word in ("-C", "--root"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


COMMANDS = {
    "compile": _compile,
    "explain": _explain,
    "schema": _schema,
    "init": _init,
    "plan": _live,
    "apply": _live,
    "drift": _live,
    "import": _import,
    "status": _status,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code (0 clean, 1 findings, 2 usage or internal error)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
        if code == EXIT_ERROR and _command_of(sys.argv[1:] if argv is None else argv) == "plan":
            return EXIT_PLAN_ERROR
        return code
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug or a broken environment: one line, exit 2
        from ..api import InternalError

        kind = (
            "internal error (a cronspec bug)"
            if isinstance(exc, InternalError | AssertionError)
            else "error"
        )
        sys.stderr.write(f"cronspec: {kind}: {type(exc).__name__}: {exc}\n")
        return EXIT_ERROR


def main_entry() -> None:
    """The `cronspec` console script."""
    raise SystemExit(main())
