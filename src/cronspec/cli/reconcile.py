"""`cronspec plan`, `apply` and `drift`: the migration's actions, printed, and their exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_PLAN_CHANGES,
    EXIT_PLAN_ERROR,
    _print_diagnostics,
    _print_error,
)

if TYPE_CHECKING:
    from ..api import LiveOutcome


_SIGNS = {"add": "+", "change": "~", "remove": "-", "adopt": "<", "clash": "!", "run": ">"}
_WORDS = {
    "plan": {"add": "to add", "change": "to change", "remove": "to remove", "adopt": "to adopt"},
    "apply": {"add": "added", "change": "changed", "remove": "removed", "adopt": "adopted"},
}


def _print_changes(outcome: LiveOutcome, fmt: str) -> None:
    """The migration's actions: a summary line, then one entry per action that is not
    `unchanged`, with its details and hint."""
    command = outcome.command
    report = outcome.report
    assert report is not None
    actions = outcome.actions
    if fmt == "json":
        document: dict[str, object] = {
            "command": command,
            "project": outcome.project,
            "role": report.role,
            "actions": [a.as_dict() for a in actions],
        }
        if outcome.review is not None:
            from ..queryplan.report import review_json

            document["explain"] = review_json(outcome.review)
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    words = _WORDS["apply" if command == "apply" else "plan"]
    counts = {a: sum(x.action == a for x in actions) for a in (*words, "clash")}
    parts = [f"{n} {words.get(a, 'clashes' if n > 1 else 'clash')}" for a, n in counts.items() if n]
    summary = ", ".join(parts) or ("no drift" if command == "drift" else "no changes")
    unchanged = sum(a.action == "unchanged" for a in actions)
    runs = sum(a.action == "run" for a in actions)
    if unchanged:
        summary += f"; {unchanged} unchanged"
    if runs:
        summary += f"; {runs} @startup " + ("run" if command == "apply" else "to run at apply")
    sys.stdout.write(
        f"cronspec {command}: {summary} (project {outcome.project}, role {report.role})\n"
    )
    for a in actions:
        if a.action == "unchanged":
            continue
        sys.stdout.write(f"  {_SIGNS[a.action]} {a.kind} {a.name}\n")
        for detail in a.details:
            sys.stdout.write(f"      {detail}\n")
        if a.hint:
            sys.stdout.write(f"      hint: {a.hint}\n")


def _live(args: argparse.Namespace) -> int:
    try:
        return _live_command(args)
    except Exception as exc:
        if args.command != "plan":
            raise
        # plan's 2 means "changes": a crash must not look like one
        from ..api import InternalError

        bug = isinstance(exc, InternalError | AssertionError)
        kind = "internal error (a cronspec bug)" if bug else "error"
        sys.stderr.write(f"cronspec: {kind}: {type(exc).__name__}: {exc}\n")
        return EXIT_PLAN_ERROR


def _live_command(args: argparse.Namespace) -> int:
    from ..api import live

    explain = None
    if getattr(args, "explain", False):
        from ..queryplan.model import Thresholds

        explain = Thresholds(args.explain_min_rows, args.explain_min_pages, args.explain_min_loops)
    outcome = live(
        Path(args.root),
        args.command,
        args.dsn,
        adopt=getattr(args, "adopt", False),
        explain=explain,
    )
    # the specs' warnings are compile's to show (R701 on the example would repeat at every deploy)
    _print_diagnostics([d for d in outcome.compiled.diagnostics if d.is_error], "text", sys.stderr)
    if not outcome.compiled.ok:
        return EXIT_FINDINGS
    if outcome.stale and outcome.command != "apply":
        sys.stderr.write(
            "cronspec: warning: generated/ is stale against specs/; run `cronspec compile` "
            "and review the diff first\n"
        )
    if outcome.error is not None:
        _print_error(outcome.error.lines())
        return EXIT_FINDINGS
    _print_changes(outcome, "json" if args.format == "json" else "text")
    if outcome.review is not None and args.format != "json":
        from ..queryplan.report import review_text

        sys.stdout.write(review_text(outcome.review, args.format))
    if outcome.command == "plan":
        if outcome.clashes or (outcome.review is not None and outcome.review.findings):
            return EXIT_FINDINGS
        return EXIT_PLAN_CHANGES if outcome.changes else EXIT_OK
    if outcome.command == "drift":
        return EXIT_FINDINGS if outcome.actions else EXIT_OK
    return EXIT_OK
