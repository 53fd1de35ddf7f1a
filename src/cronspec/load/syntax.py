"""PyYAML's syntax errors in words a new user can act on: most come from a value that needed
quotes (`schedule: @daily`, `description: Backup: nightly`), and the message shows the line
with the value quoted."""

from __future__ import annotations

import json
import re

import yaml

from ..diagnostics import Diagnostic, Span, error

MAX_DEPTH = 16

_CRON_LIKE = re.compile(r"^\s*(?:-\s*)?(?:[\w-]+\s*:\s*)?\*(?:/\d+)?(?:\s|$)")
# `key: value` or `- value` on one line: where an unquoted value starts
_VALUE_LINE = re.compile(r"^(\s*(?:-\s+)?(?:[\w-]+:\s+)?)(\S.*?)\s*$")
_UNQUOTABLE = {"@": "`@`", "`": "a backtick", "%": "`%`"}


def quoted(value: str) -> str:
    """A YAML double-quoted scalar of `value` (JSON's escapes are YAML's too)."""
    return json.dumps(value, ensure_ascii=False)


def _quoting_hint(
    path: str, line: int, col: int, source_line: str, problem: str
) -> Diagnostic | None:
    """Y119 when an unquoted value is the cause: YAML read its first character, or a `: ` in
    it, as syntax. The message gives the line with the value quoted."""
    match = _VALUE_LINE.match(source_line)
    if match is None:
        return None
    lead, value = match.groups()
    start = len(lead) + 1  # 1-based column of the value
    fixed = f"{lead.strip()} {quoted(value)}".strip()
    if "cannot start any token" in problem and col == start and value[0] in _UNQUOTABLE:
        what = f"{_UNQUOTABLE[value[0]]} cannot start an unquoted YAML value"
    elif "alias" in problem and value.startswith("*"):
        what = "an unquoted value starting with `*` is read by YAML as an alias"
    elif "mapping values are not allowed" in problem and col > start and ": " in value + " ":
        what = "`: ` inside an unquoted value reads as a new key"
    else:
        return None
    return error("Y119", f"{what}; quote it: {fixed}", Span.at(path, line, start, len(value)))


def syntax_error(path: str, text: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """PyYAML's syntax error as a diagnostic: a code of its own where the cause is known (an
    unquoted cron expression or value, several documents, deep nesting), Y101 else."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    problem = exc.problem or "invalid YAML"
    lines = text.split("\n")
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    star = _CRON_LIKE.match(source_line)
    if star:
        at = source_line.index("*") + 1
        return error(
            "Y112",
            "a value starting with `*` is read by YAML as an alias; quote the cron expression, "
            'e.g. schedule: "*/5 * * * *"',
            Span.at(path, line, at, len(source_line.rstrip()) - at + 1),
        )
    if "expected a single document" in problem or (
        exc.context and "expected a single document" in exc.context
    ):
        return error(
            "Y105",
            "file holds more than one YAML document; one task per file",
            Span.at(path, line, col),
        )
    if "maximum nesting depth" in problem:
        return error("Y110", f"nesting deeper than {MAX_DEPTH} levels", Span.at(path, line, col))
    hint = _quoting_hint(path, line, col, source_line, f"{problem} {exc.context or ''}")
    if hint is not None:
        return hint
    return error("Y101", f"invalid YAML: {problem}", Span.at(path, line, col))
