"""Arguments in, exit code out. Exit codes: 0 clean, 1 findings, 2 usage or internal error.

Heavy modules (pydantic, sqlglot) are imported inside the commands so that `--help` and
`--version` stay fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__

if TYPE_CHECKING:
    from .diagnostics import Diagnostic

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cronspec: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cronspec",
        description="Compile specs/*.yaml into a pg_cron migration and an Oban crontab.",
    )
    parser.add_argument("--version", action="version", version=f"cronspec {__version__}")
    parser.add_argument("-C", "--root", default=".", help="project folder (default: .)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def formats(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--format",
            choices=("text", "json", "github"),
            default="text",
            help="diagnostics format (default: text)",
        )

    p = sub.add_parser("compile", help="validate specs and write generated/")
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff when generated/ is stale",
    )
    formats(p)
    p = sub.add_parser("explain", help="classification, reasons and schedules per task")
    p.add_argument("task", nargs="?", help="one task (default: all)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--from", dest="start", help="count next runs from this ISO time (default: now)")
    p.add_argument("--count", type=int, default=5, help="next runs per schedule (default 5)")
    sub.add_parser("schema", help="print the JSON Schema of the spec format")
    sub.add_parser("init", help="create cronspec.toml and example specs, then compile")
    for name, text in (
        ("plan", "what applying generated/pg_cron.sql would change (exit 0 none, 2 changes)"),
        ("apply", "apply generated/pg_cron.sql in one transaction and print what changed"),
        ("drift", "exit 1 and a list when the live database differs from the generated state"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--dsn",
            default=os.environ.get("CRONSPEC_DSN", ""),
            help="libpq connection string or URL (default: $CRONSPEC_DSN, then the PG* variables)",
        )
        p.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _print_diagnostics(diags: Sequence[Diagnostic], fmt: str, stream: TextIO) -> None:
    from .diagnostics.formats import FORMATTERS

    if diags or fmt == "json":
        stream.write(FORMATTERS[fmt](diags))


def _compile(args: argparse.Namespace) -> int:
    from .api import compile_project
    from .diagnostics import has_errors

    outcome = compile_project(Path(args.root), check=args.check)
    errors = has_errors(outcome.diagnostics)
    _print_diagnostics(
        outcome.diagnostics, args.format, sys.stderr if args.format == "text" else sys.stdout
    )
    if errors:
        return EXIT_FINDINGS
    comparison = outcome.comparison
    assert comparison is not None
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
    from datetime import datetime

    from .api import explain
    from .diagnostics import has_errors

    start = None
    if args.start:
        try:
            start = datetime.fromisoformat(args.start)
        except ValueError:
            sys.stderr.write(f"cronspec: error: --from {args.start!r} is not an ISO date-time\n")
            return EXIT_ERROR
    tasks, compiled = explain(Path(args.root), args.task, start, args.count)
    _print_diagnostics(compiled.diagnostics, "text", sys.stderr)
    if has_errors(compiled.diagnostics):
        return EXIT_FINDINGS
    if args.task and not tasks:
        sys.stderr.write(f"cronspec: error: no task named {args.task!r}\n")
        return EXIT_FINDINGS
    if args.format == "json":
        sys.stdout.write(json.dumps({"tasks": tasks}, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    for task in tasks:
        state = "" if task["enabled"] else " (disabled)"
        sys.stdout.write(f"{task['name']}: {task['classification']} -> {task['executor']}{state}\n")
        for reason in task["reasons"]:
            sys.stdout.write(f"  because {reason}\n")
        for s in task["schedules"]:
            emitted = f" [{s['emitted']}]" if s["emitted"] and s["emitted"] != s["schedule"] else ""
            sys.stdout.write(f"  {s['schedule']}{emitted}: {s['words']}\n")
            if s["next_runs"]:
                sys.stdout.write(
                    f"    next ({task['timezone']}): " + ", ".join(s["next_runs"]) + "\n"
                )
            for note in s["notes"]:
                sys.stdout.write(f"    note: {note}\n")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from .spec import task_json_schema

    sys.stdout.write(json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from . import output
    from .scaffold import init_files

    root = Path(args.root)
    try:
        created = output.create_new(root, init_files())
    except FileExistsError as exc:
        sys.stderr.write(f"cronspec: error: refusing to overwrite existing files: {exc}\n")
        return EXIT_FINDINGS
    sys.stderr.write(f"cronspec: created {', '.join(created)}\n")
    args.check = False
    args.format = "text"
    return _compile(args)


_SIGNS = {"add": "+", "change": "~", "remove": "-", "clash": "!"}


def _print_changes(command: str, changes: list[Any], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps({"changes": [c.as_dict() for c in changes]}, indent=2) + "\n")
        return
    counts = {a: sum(c.action == a for c in changes) for a in _SIGNS}
    summary = ", ".join(f"{n} to {a}" for a, n in counts.items() if n) or "no changes"
    sys.stdout.write(f"cronspec {command}: {summary}\n")
    for c in changes:
        sys.stdout.write(f"  {_SIGNS[c.action]} {c.kind} {c.name}\n")
        for detail in c.details:
            sys.stdout.write(f"      {detail}\n")


def _live(args: argparse.Namespace) -> int:
    from . import db
    from .api import compile_project
    from .diagnostics import has_errors

    outcome = compile_project(Path(args.root), check=True)
    _print_diagnostics(outcome.diagnostics, "text", sys.stderr)
    if has_errors(outcome.diagnostics):
        return EXIT_FINDINGS
    plan = outcome.compiled.plan
    assert plan is not None and outcome.comparison is not None
    if outcome.comparison.stale:
        level = "error" if args.command == "apply" else "warning"
        sys.stderr.write(
            f"cronspec: {level}: generated/ is stale against specs/; run "
            "`cronspec compile` and review the diff first\n"
        )
        if args.command == "apply":
            return EXIT_FINDINGS
    try:
        conn = db.connect(args.dsn)
        with conn:
            state = db.read_state(conn)
            if args.command == "drift":
                changes = db.drift(plan, state)
                _print_changes("drift", changes, args.format)
                return EXIT_FINDINGS if changes else EXIT_OK
            changes = db.compare(plan, state)
            if args.command == "plan":
                _print_changes("plan", changes, args.format)
                if any(c.action == "clash" for c in changes):
                    return EXIT_FINDINGS
                return 2 if changes else EXIT_OK
            sql = outcome.compiled.files["pg_cron.sql"]
            db.apply_sql(conn, sql)
            _print_changes("apply", changes, args.format)
            return EXIT_OK
    except db.DbError as exc:
        sys.stderr.write(f"cronspec: error: {exc}\n")
        return EXIT_FINDINGS


COMMANDS = {
    "compile": _compile,
    "explain": _explain,
    "schema": _schema,
    "init": _init,
    "plan": _live,
    "apply": _live,
    "drift": _live,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code (0 clean, 1 findings, 2 usage or internal error)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug or a broken environment: one line, exit 2
        from .api import InternalError

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
