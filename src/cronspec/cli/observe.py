"""`cronspec status`: the report, and 3 when the database could not be read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_STATUS_UNKNOWN,
    _print_diagnostics,
    _print_error,
)


def _status(args: argparse.Namespace) -> int:
    from ..api import status
    from ..render.status import FORMATS
    from ..status import duration_argument, positive_argument

    try:
        runs, grace = positive_argument(args.runs), duration_argument(args.grace)
    except ValueError as exc:
        sys.stderr.write(f"cronspec: error: {exc}\n")
        return EXIT_ERROR
    outcome = status(
        Path(args.root),
        args.dsn,
        runs=runs,
        grace=grace,
        oban_prefix=args.oban_prefix,
        oban_dsn=args.oban_dsn,
    )
    # the specs' warnings are for compile; a monitor prints what keeps it from judging
    errors = [d for d in outcome.compiled.diagnostics if d.is_error]
    _print_diagnostics(errors, "text", sys.stderr)
    if not outcome.compiled.ok:
        return EXIT_FINDINGS
    if outcome.error is not None:
        _print_error(outcome.error.lines())
        return EXIT_STATUS_UNKNOWN
    assert outcome.report is not None
    sys.stdout.write(FORMATS[args.format](outcome.report))
    return EXIT_FINDINGS if outcome.report.alerts else EXIT_OK
