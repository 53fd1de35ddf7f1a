"""`cronspec status`'s exit codes other than 0 and 1: usage errors exit 2, a database that
cannot be read exits 3 (nothing was judged), specs with errors exit 1 with their diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.common import SQL_TASK
from support.dbtools import write_project

from cronspec.cli import main

CLI = Callable[..., tuple[int, str, str]]


def test_a_database_that_cannot_be_reached_exits_3(tmp_path: Path, cli: CLI) -> None:
    root = write_project(tmp_path, {"t": SQL_TASK.format(name="t", schedule="0 3 * * *")})
    dsn = f"host={tmp_path} port=1 dbname=nowhere connect_timeout=2"
    code, out, err = cli(root, "status", "--dsn", dsn)
    assert code == 3 and out == ""
    assert err.startswith("cronspec: error: cannot connect: ")


def test_specs_with_errors_exit_1_before_any_connection(tmp_path: Path, cli: CLI) -> None:
    root = write_project(tmp_path, {"t": SQL_TASK.format(name="t", schedule="61 * * * *")})
    code, out, err = cli(root, "status", "--dsn", "host=/nonexistent")
    assert code == 1 and out == ""
    assert "error[C302]" in err


@pytest.mark.parametrize("args", [["--runs", "0"], ["--grace", "soon"], ["--format", "xml"]])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert main(["--root", str(tmp_path), "status", "--dsn", "x", *args]) == 2
