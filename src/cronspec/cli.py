"""Arguments in, exit code out. Exit codes: 0 clean, 1 findings, 2 usage or internal error.

`cronspec plan` keeps 2 for "changes" (terraform's -detailed-exitcode), so its usage errors and
crashes exit 3 instead.

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
    from .api import LiveOutcome
    from .diagnostics import Diagnostic

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_PLAN_CHANGES, EXIT_PLAN_ERROR = 2, 3  # plan: 2 means changes, so its errors exit 3
EXIT_STATUS_UNKNOWN = 3  # status: the database could not be read, so nothing was judged


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
    p.add_argument(
        "--from",
        dest="start",
        help="count next runs from this ISO time, in each task's zone unless it has an offset "
        "(default: now; REPORT.md counts from [report] from instead)",
    )
    p.add_argument("--count", type=int, default=5, help="next runs per schedule (default 5)")
    sub.add_parser("schema", help="print the JSON Schema of the spec format")
    sub.add_parser("init", help="create cronspec.toml and example specs, then compile")
    for name, text in (
        (
            "plan",
            "run generated/pg_cron.sql rolled back and list its actions "
            "(exit 0 none, 2 changes, 1 clashes or errors, 3 usage error or crash)",
        ),
        ("apply", "apply generated/pg_cron.sql in one transaction and print what it did"),
        ("drift", "exit 1 and a list when objects cronspec owns differ from the generated state"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--dsn",
            default=os.environ.get("CRONSPEC_DSN", ""),
            help="libpq connection string or URL (default: $CRONSPEC_DSN, then the PG* variables)",
        )
        if name == "plan":
            p.add_argument(
                "--format",
                choices=("text", "json", "github"),
                default="text",
                help="text (default), json, or github: --explain's findings as workflow "
                "annotations",
            )
            _explain_options(p)
        else:
            p.add_argument("--format", choices=("text", "json"), default="text")
        if name != "drift":
            p.add_argument(
                "--adopt",
                action="store_true",
                help="take over hand-made jobs and procedures that are exactly what a spec "
                "declares",
            )
    p = sub.add_parser(
        "import",
        help="write specs for existing pg_cron jobs (--dsn) or Oban crontab entries (--oban); "
        "exit 0 all imported, 1 something listed or an error",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dsn", help="read cron.job of this database (libpq string or URL)")
    source.add_argument(
        "--oban",
        metavar="FILE",
        help="read the Oban.Plugins.Cron crontab of this Elixir config file (with Elixir)",
    )
    p.add_argument("--role", help="--dsn: import this role's jobs (a superuser sees every role's)")
    p.add_argument("--out", metavar="DIR", help="write the specs here (default: the specs folder)")
    p.add_argument("--force", action="store_true", help="replace specs that exist")
    _status_parser(sub)
    return parser


def _import(args: argparse.Namespace) -> int:
    from .api import import_oban, import_pg_cron
    from .diagnostics import has_errors

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
        first, *more = outcome.error
        sys.stderr.write(f"cronspec: error: {first}\n")
        for line in more:
            sys.stderr.write(f"cronspec: {line}\n")
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


def _status_parser(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="last runs, durations and flags of every managed job on pg_cron and Oban "
        "(exit 0 healthy, 1 failing or late, 3 database not readable)",
    )
    p.add_argument("--dsn", default=os.environ.get("CRONSPEC_DSN", ""), help="as for plan")
    p.add_argument("--format", choices=("text", "json", "github"), default="text")
    p.add_argument("--runs", default="10", help="runs read per job (default 10)")
    p.add_argument("--grace", default="5m", help="late after: 90s, 5m, 2h (default 5m)")
    p.add_argument("--oban-prefix", default="public", help="schema of oban_jobs (public)")
    p.add_argument("--oban-dsn", help="the database of Oban's tables, when not --dsn's")


# queryplan.Thresholds' defaults, written out: importing it would slow `--help` by two thirds
# (tests/test_explain.py holds the two together)
EXPLAIN_DEFAULTS = {"rows": 1000, "pages": 100, "loops": 10}


def _explain_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--explain",
        action="store_true",
        help="also EXPLAIN every statement of every pg_cron job in the plan's transaction and "
        "flag work repeated once per row (exit 1 when anything is flagged)",
    )
    for flag, text in (
        ("rows", "a relation is large from this many estimated rows"),
        ("pages", "... or from this many pages"),
        ("loops", "flag per-row work estimated to run this often"),
    ):
        value = EXPLAIN_DEFAULTS[flag]
        p.add_argument(f"--explain-min-{flag}", type=int, default=value, metavar="N",
                       help=f"{text} (default {value})")  # fmt: skip


def _print_diagnostics(diags: Sequence[Diagnostic], fmt: str, stream: TextIO) -> None:
    from .diagnostics.formats import FORMATTERS

    if diags or fmt == "json":
        stream.write(FORMATTERS[fmt](diags))


def _compile(args: argparse.Namespace) -> int:
    from .api import compile_project
    from .diagnostics import has_errors, printable

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

    from .api import explain
    from .diagnostics import has_errors, printable
    from .diagnostics.formats import to_json_obj

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
    from .spec import task_json_schema

    sys.stdout.write(json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from . import output
    from .scaffold import NEXT_STEPS, init_files

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
            from .queryplan.report import review_json

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
        from .api import InternalError

        bug = isinstance(exc, InternalError | AssertionError)
        kind = "internal error (a cronspec bug)" if bug else "error"
        sys.stderr.write(f"cronspec: {kind}: {type(exc).__name__}: {exc}\n")
        return EXIT_PLAN_ERROR


def _live_command(args: argparse.Namespace) -> int:
    from .api import live

    explain = None
    if getattr(args, "explain", False):
        from .queryplan.model import Thresholds

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
        first, *more = outcome.error.lines()
        sys.stderr.write(f"cronspec: error: {first}\n")
        for line in more:
            sys.stderr.write(f"cronspec: {line}\n")
        return EXIT_FINDINGS
    _print_changes(outcome, "json" if args.format == "json" else "text")
    if outcome.review is not None and args.format != "json":
        from .queryplan.report import review_text

        sys.stdout.write(review_text(outcome.review, args.format))
    if outcome.command == "plan":
        if outcome.clashes or (outcome.review is not None and outcome.review.findings):
            return EXIT_FINDINGS
        return EXIT_PLAN_CHANGES if outcome.changes else EXIT_OK
    if outcome.command == "drift":
        return EXIT_FINDINGS if outcome.actions else EXIT_OK
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from .api import status
    from .render.status import FORMATS
    from .status import duration_argument, positive_argument

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
        first, *more = outcome.error.lines()
        sys.stderr.write(f"cronspec: error: {first}\n")
        for line in more:
            sys.stderr.write(f"cronspec: {line}\n")
        return EXIT_STATUS_UNKNOWN
    assert outcome.report is not None
    sys.stdout.write(FORMATS[args.format](outcome.report))
    return EXIT_FINDINGS if outcome.report.alerts else EXIT_OK


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
