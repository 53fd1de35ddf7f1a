"""`cronspec compile`, `explain`, `schema` and `init`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, _print_diagnostics


def _compile(args: argparse.Namespace) -> int:
    from ..api import compile_project
    from ..diagnostics import has_errors, printable

    outcome = compile_project(Path(args.root), check=args.check)
    errors = has_errors(outcome.diagnostics)
    _print_diagnostics(
        outcome.diagnostics, args.format, sys.stderr if args.format == "text" else sys.stdout
    )
    if errors:
        return EXIT_FINDINGS
    if outcome.error is not None:
        sys.stderr.write(f"cronspec: error: {printable(outcome.error)}\n")
        return EXIT_FINDINGS
    comparison = outcome.comparison
    assert comparison is not None
    for note in comparison.notes:
        sys.stderr.write(f"cronspec: note: {printable(note)}\n")
    if args.check:
        if comparison.stale:
            sys.stdout.write(comparison.diff)
            names = [*comparison.changed, *comparison.missing, *comparison.extra]
            sys.stderr.write(
                f"cronspec: generated/ is stale ({', '.join(names)}); run "
                "`cronspec compile` and commit the result\n"
            )
            return EXIT_FINDINGS
        return EXIT_OK
    if outcome.wrote:
        names = [*comparison.changed, *comparison.missing, *comparison.extra]
        sys.stderr.write(f"cronspec: wrote {', '.join(sorted(names))}\n")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    """The valid tasks, explained, even while other specs have errors: those are listed on
    stderr, and the exit code is 1."""
    from datetime import datetime

    from ..api import explain
    from ..diagnostics import has_errors, printable
    from ..diagnostics.formats import to_json_obj

    start = None
    if args.start:
        try:
            start = datetime.fromisoformat(args.start)
        except ValueError:
            sys.stderr.write(
                f"cronspec: error: --from {printable(args.start)!r} is not an ISO date-time\n"
            )
            return EXIT_ERROR
    tasks, compiled = explain(Path(args.root), args.task, start, args.count)
    _print_diagnostics(compiled.diagnostics, "text", sys.stderr)
    failed = has_errors(compiled.diagnostics)
    if args.task and not tasks:
        if not failed:
            sys.stderr.write(f"cronspec: error: no task named {printable(args.task)!r}\n")
        return EXIT_FINDINGS
    if args.format == "json":
        document = {"tasks": tasks, "diagnostics": [to_json_obj(d) for d in compiled.diagnostics]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return EXIT_FINDINGS if failed else EXIT_OK
    for task in tasks:
        state = "" if task["enabled"] else " (disabled)"
        sys.stdout.write(f"{task['name']}: {task['classification']} -> {task['executor']}{state}\n")
        for reason in task["reasons"]:
            sys.stdout.write(f"  because {printable(reason)}\n")
        for line in task["policies"]:
            sys.stdout.write(f"  policy: {printable(line)}\n")
        after = task["next_runs_after"][:16].replace("T", " ")
        for s in task["schedules"]:
            emitted = f" [{s['emitted']}]" if s["emitted"] and s["emitted"] != s["schedule"] else ""
            sys.stdout.write(f"  {printable(s['schedule'])}{emitted}: {s['words']}\n")
            if s["next_runs"]:
                sys.stdout.write(
                    f"    next ({task['timezone']}, after {after}, {task['counted_from']}): "
                    + ", ".join(s["next_runs"])
                    + "\n"
                )
            for note in s["notes"]:
                sys.stdout.write(f"    note: {printable(note)}\n")
            for change in s["dst_changes"]:
                if change not in s["notes"]:
                    sys.stdout.write(f"    daylight saving within a year: {printable(change)}\n")
    if failed:
        sys.stderr.write(
            f"cronspec: explained {len(tasks)} valid task{'s' if len(tasks) != 1 else ''}; "
            "the specs above have errors\n"
        )
        return EXIT_FINDINGS
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from ..spec import task_json_schema

    sys.stdout.write(json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from .. import output
    from ..scaffold import NEXT_STEPS, init_files

    root = Path(args.root)
    try:
        created = output.create_new(root, init_files())
    except FileExistsError as exc:
        sys.stderr.write(f"cronspec: error: refusing to overwrite existing files: {exc}\n")
        return EXIT_FINDINGS
    except output.OutputError as exc:
        sys.stderr.write(f"cronspec: error: {exc}\n")
        return EXIT_FINDINGS
    sys.stderr.write(f"cronspec: created {', '.join(created)}\n")
    args.check = False
    args.format = "text"
    code = _compile(args)
    if code == EXIT_OK:
        sys.stderr.write("".join(f"cronspec: {line}\n" for line in NEXT_STEPS.splitlines()))
    return code
