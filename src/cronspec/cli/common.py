"""Exit codes, and the printers of diagnostics and of an error every command shares."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..diagnostics import Diagnostic

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_PLAN_CHANGES, EXIT_PLAN_ERROR = 2, 3  # plan: 2 means changes, so its errors exit 3
EXIT_STATUS_UNKNOWN = 3  # status: the database could not be read, so nothing was judged


def _print_diagnostics(diags: Sequence[Diagnostic], fmt: str, stream: TextIO) -> None:
    from ..diagnostics.formats import FORMATTERS

    if diags or fmt == "json":
        stream.write(FORMATTERS[fmt](diags))


def _print_error(lines: Sequence[str]) -> None:
    """An error that is not a spec's: its first line `cronspec: error: ...`, then its details."""
    first, *more = lines
    sys.stderr.write(f"cronspec: error: {first}\n")
    for line in more:
        sys.stderr.write(f"cronspec: {line}\n")
