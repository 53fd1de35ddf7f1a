"""The golden cases: one folder per case under tests/cases/, each a small project.

A folder holds `specs/` (or the folder its cronspec.toml names) and, optionally, a
cronspec.toml. A case whose name ends in `-bad` must fail (errors, no output); every other case
must compile, warnings allowed. `test_cases.py` snapshots the diagnostics and every output.
"""

from __future__ import annotations

from pathlib import Path

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"


def case_names() -> list[str]:
    """Every case folder's name, sorted."""
    return sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


def must_fail(name: str) -> bool:
    """Whether the case is one of failing input (its name ends in `-bad`)."""
    return name.endswith("-bad")
