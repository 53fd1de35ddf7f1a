"""Problems in specs as values: a registered code, a severity, a message and a span.

Every stage returns diagnostics instead of raising; the CLI sorts them and prints them in one of
the formats of `formats.py`. Exceptions are for bugs and broken environments. The codes, with
their severity, live in `codes.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .codes import CODES, Severity

__all__ = [
    "Diagnostic",
    "Origin",
    "Severity",
    "Span",
    "error",
    "has_errors",
    "position",
    "printable",
    "sort_diagnostics",
    "warning",
]


@dataclass(frozen=True, order=True)
class Span:
    """A range of a file: 1-based line and column of its first character, and the line and
    column just after its last one (the end is exclusive, as in ruff and LSP).

    `line == 0` means the file as a whole, with no range.
    """

    path: str
    line: int = 0
    col: int = 0
    end_line: int = 0
    end_col: int = 0

    def __post_init__(self) -> None:
        if self.line > 0 and (self.end_line, self.end_col) < (self.line, self.col):
            raise AssertionError(f"bug: span {self} has no end, or ends before it starts")

    @classmethod
    def at(cls, path: str, line: int, col: int, width: int = 1) -> Span:
        """`width` characters on one line, from `line`:`col`."""
        return cls(path, line, col, line, col + max(width, 0))

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{max(self.col, 1)}"


def printable(text: str) -> str:
    """`text` with every character that is not printable escaped (`\\u000a`, `\\u001b`,
    `\\u200d`): a file name or value echoed in a diagnostic or the report cannot start a new
    line, move the terminal's cursor or hide itself."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@dataclass(frozen=True)
class Origin:
    """Where a piece of text (a schedule, an SQL body) sits in a file, so that positions inside
    the text become spans of the file.

    When `exact`, line L, column C of the text is line `line + L - 1`, column `col + C - 1` of the
    file (a one-line schedule; a literal block scalar, whose lines keep one indentation). Other
    text (folded or quoted YAML) does not map line for line: every position is `whole`.
    """

    path: str
    line: int = 1
    col: int = 1
    exact: bool = True
    whole: Span | None = None
    # Quoted, plain or folded text: per line and column of the text, the file's (line, column)
    # (load/scalars.py); each row ends with the position after its last character.
    grid: tuple[tuple[tuple[int, int], ...], ...] | None = None

    def _mapped(self, line: int, col: int) -> tuple[int, int]:
        assert self.grid is not None
        if line > len(self.grid):  # past the text's end
            return self.grid[-1][-1]
        row = self.grid[max(line, 1) - 1]
        if col - 1 < len(row):
            return row[max(col, 1) - 1]
        last_line, last_col = row[-1]
        return last_line, last_col + col - len(row)

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        """The file's span for text positions (1-based; the end just after the last character)."""
        if self.grid:
            start = self._mapped(line, col)
            end = start
            if (end_line, end_col) > (line, col):
                if end_col > 1:
                    last = self._mapped(end_line, end_col - 1)
                    end = (last[0], last[1] + 1)
                else:
                    end = self._mapped(end_line, end_col)
            return Span(self.path, *start, *max(start, end))
        if not self.exact:
            return self.whole or Span.at(self.path, self.line, self.col)
        return Span(
            self.path,
            self.line + line - 1,
            self.col + col - 1,
            self.line + end_line - 1,
            self.col + end_col - 1,
        )


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a code of the registry, its severity there, a message and where it is."""

    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        """Whether it fails the run."""
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str, int, int]:
        """File, line, column first: the order a reader goes through a file."""
        s = self.span
        return (s.path, s.line, s.col, self.code, self.message, s.end_line, s.end_col)


def _registered(code: str, severity: Severity) -> str:
    entry = CODES.get(code)
    if entry is None or entry.severity is not severity:
        raise AssertionError(f"bug: {code} is not a registered {severity.value} code")
    return code


def error(code: str, message: str, span: Span) -> Diagnostic:
    """An error with a code the registry lists as one."""
    return Diagnostic(_registered(code, Severity.ERROR), message, span, Severity.ERROR)


def warning(code: str, message: str, span: Span) -> Diagnostic:
    """A warning with a code the registry lists as one."""
    return Diagnostic(_registered(code, Severity.WARNING), message, span, Severity.WARNING)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    """Whether any of them fails the run."""
    return any(d.is_error for d in diags)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file, line, column; exact duplicates dropped."""
    return sorted(set(diags), key=Diagnostic.sort_key)
