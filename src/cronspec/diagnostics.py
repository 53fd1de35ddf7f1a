"""Problems in specs as values: a stable code, a severity, a message and a position.

Every stage returns diagnostics instead of raising; the CLI sorts and prints them in one of
three formats (text, json, github). Exceptions are reserved for bugs and broken environments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based position in a file. `line == 0` means the file as a whole."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{max(self.col, 1)}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.path, self.span.line, self.span.col, self.code, self.message)


def error(code: str, message: str, span: Span) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.ERROR)


def warning(code: str, message: str, span: Span) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.WARNING)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file, line, column; exact duplicates dropped."""
    return sorted(set(diags), key=Diagnostic.sort_key)


def _one_line(message: str) -> str:
    """One printable line: spec text echoed in a message cannot move the terminal's cursor."""
    text = " ".join(message.split())
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def format_text(diags: Sequence[Diagnostic]) -> str:
    return "".join(
        f"{d.span}: {d.severity.value}[{d.code}]: {_one_line(d.message)}\n" for d in diags
    )


def _github_escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_escape_property(value: str) -> str:
    return _github_escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(diags: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands (`::error file=...,line=...::message`)."""
    lines = []
    for d in diags:
        props = [f"file={_github_escape_property(d.span.path)}"]
        if d.span.line > 0:
            props.append(f"line={d.span.line}")
            props.append(f"col={max(d.span.col, 1)}")
        props.append(f"title={_github_escape_property(f'cronspec {d.code}')}")
        lines.append(
            f"::{d.severity.value} {','.join(props)}::{_github_escape_data(_one_line(d.message))}\n"
        )
    return "".join(lines)


def to_json_obj(d: Diagnostic) -> dict[str, object]:
    return {
        "path": d.span.path,
        "line": d.span.line,
        "column": d.span.col,
        "severity": d.severity.value,
        "code": d.code,
        "message": _one_line(d.message),
    }


def format_json(diags: Sequence[Diagnostic]) -> str:
    return json.dumps({"diagnostics": [to_json_obj(d) for d in diags]}, indent=2) + "\n"


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}
