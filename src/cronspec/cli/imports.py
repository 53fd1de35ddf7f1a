"""`cronspec import`: what was written, listed and skipped."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, _print_diagnostics, _print_error


def _import(args: argparse.Namespace) -> int:
    from ..api import import_oban, import_pg_cron
    from ..diagnostics import has_errors

    root, out = Path(args.root), Path(args.out) if args.out else None
    if args.oban is None:
        outcome = import_pg_cron(root, args.dsn, role=args.role, out=out, force=args.force)
    elif args.role is not None:
        sys.stderr.write("cronspec: error: --role goes with --dsn, not --oban\n")
        return EXIT_ERROR
    else:
        outcome = import_oban(root, Path(args.oban), out=out, force=args.force)
    _print_diagnostics(outcome.diagnostics, "text", sys.stderr)
    if has_errors(outcome.diagnostics):
        return EXIT_FINDINGS
    if outcome.error:
        _print_error(outcome.error)
        return EXIT_FINDINGS
    conversion = outcome.conversion
    assert conversion is not None
    for path, spec in zip(outcome.written, conversion.specs, strict=True):
        sys.stdout.write(f"wrote {path}: {spec.source}\n")
    for item in conversion.listed:
        sys.stdout.write(f"not imported: {item.source}: {item.reason}\n")
    for item in conversion.skipped:
        sys.stdout.write(f"skipped: {item.source}: {item.reason}\n")
    for note in conversion.notes:
        sys.stdout.write(f"note: {note}\n")
    summary = f"{len(outcome.written)} written, {len(conversion.listed)} not imported" + (
        f", {len(conversion.skipped)} skipped (cronspec's own)" if conversion.skipped else ""
    )
    then = ", then cronspec plan --dsn URL --adopt" if args.oban is None else ""
    then = f"; next: cronspec compile{then}" if outcome.written else ""
    sys.stderr.write(f"cronspec import: {summary}{then}\n")
    return EXIT_OK if outcome.complete else EXIT_FINDINGS
