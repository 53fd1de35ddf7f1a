"""One function per output format of diagnostics: text, json and github.

- text: `path:line:col: severity[CODE]: message`, one line each, for people and editors;
- json: `{"diagnostics": [...]}` with `line`, `column`, `endLine` and `endColumn`;
- github: GitHub Actions workflow commands, which annotate the lines of a pull request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from . import Diagnostic, Span, printable


def _one_line(message: str) -> str:
    """One printable line: spec text echoed in a message cannot move the terminal's cursor."""
    return printable(" ".join(message.split()))


def _where(span: Span) -> str:
    """`path:line:col`, the path's control characters escaped (a newline in a file name must
    not forge a second diagnostic)."""
    path = printable(span.path)
    return path if span.line <= 0 else f"{path}:{span.line}:{max(span.col, 1)}"


def format_text(diags: Sequence[Diagnostic]) -> str:
    """`path:line:col: severity[CODE]: message` lines."""
    return "".join(
        f"{_where(d.span)}: {d.severity.value}[{d.code}]: {_one_line(d.message)}\n" for d in diags
    )


def _github_escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_escape_property(value: str) -> str:
    return _github_escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(diags: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands (`::error file=...,line=...,endColumn=...::message`)."""
    lines = []
    for d in diags:
        s = d.span
        props = [f"file={_github_escape_property(printable(s.path))}"]
        if s.line > 0:
            props.append(f"line={s.line}")
            props.append(f"col={max(s.col, 1)}")
            if s.end_line > 0:
                props.append(f"endLine={s.end_line}")
                props.append(f"endColumn={s.end_col}")
        props.append(f"title={_github_escape_property(f'cronspec {d.code}')}")
        lines.append(
            f"::{d.severity.value} {','.join(props)}::{_github_escape_data(_one_line(d.message))}\n"
        )
    return "".join(lines)


def to_json_obj(d: Diagnostic) -> dict[str, object]:
    """One diagnostic as the JSON format writes it."""
    return {
        "path": d.span.path,
        "line": d.span.line,
        "column": d.span.col,
        "endLine": d.span.end_line,
        "endColumn": d.span.end_col,
        "severity": d.severity.value,
        "code": d.code,
        "message": _one_line(d.message),
    }


def format_json(diags: Sequence[Diagnostic]) -> str:
    """`{"diagnostics": [...]}`, indented, with a final newline."""
    return json.dumps({"diagnostics": [to_json_obj(d) for d in diags]}, indent=2) + "\n"


FORMATTERS: dict[str, Callable[[Sequence[Diagnostic]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
}
