"""The arguments: one parser for every command (argparse only: `--help` imports nothing else)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .. import __version__
from .common import EXIT_ERROR


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
