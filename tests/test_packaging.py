"""`pip install .` builds a wheel with the console script and `python -m cronspec`; the
version comes from one place."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from support.common import ROOT

import cronspec


def test_wheel_has_the_console_script_and_package_data(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("cronspec-*.whl")
    assert wheel.name.startswith(f"cronspec-{cronspec.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "cronspec = cronspec.cli:main_entry" in archive.read(entry_points).decode()
        assert {"cronspec/__main__.py", "cronspec/py.typed", "cronspec/render/pg_cron.py"} <= names
        sql = {
            f"cronspec/render/sql/{n}.sql" for n in ("helpers", "bookkeeping", "migrate", "tables")
        }
        assert sql <= names  # the migration's fixed SQL, read as package data
        assert "cronspec/importer/read_crontab.exs" in names  # `import --oban` runs it


def test_version_flag_prints_the_package_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cronspec", "--version"], check=True, capture_output=True, text=True
    )
    assert result.stdout == f"cronspec {cronspec.__version__}\n"
