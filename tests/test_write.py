"""compile writes generated/ all or nothing: a failure or a kill at any moment leaves the
previous folder intact; leftovers of a killed run are cleaned by the next."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import APP_TASK, SQL_TASK

from cronspec import output
from cronspec.api import compile_project

Project = Callable[..., Path]


def _state(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "generated").iterdir())}


def _specs(hour: int, count: int = 40) -> dict[str, str]:
    specs = {
        f"t{i:03d}.yaml": SQL_TASK.format(name=f"t{i:03d}", schedule=f"0 {hour} * * *")
        for i in range(count)
    }
    specs["app.yaml"] = APP_TASK.format(name="app", schedule=f"0 {hour} * * *")
    return specs


def _write_specs(root: Path, specs: dict[str, str]) -> None:
    for name, text in specs.items():
        (root / "specs" / name).write_text(text)


def test_a_failure_while_writing_leaves_the_old_folder(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(_specs(1))
    compile_project(root)
    before = _state(root)
    _write_specs(root, _specs(2))
    calls = []

    def failing(path: Path, content: str) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        path.write_text(content)

    monkeypatch.setattr(output, "_write_file", failing)
    with pytest.raises(OSError, match="disk full"):
        compile_project(root)
    assert _state(root) == before
    assert not list(root.glob(".cronspec-tmp-*"))


def test_killed_at_any_moment_leaves_old_or_new(project: Project) -> None:
    root = project(_specs(1, count=300))
    compile_project(root)
    old = _state(root)
    _write_specs(root, _specs(2, count=300))
    rng = random.Random(3)
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-m", "cronspec", "--root", str(root), "compile"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.2))
        child.send_signal(signal.SIGKILL)
        child.wait()
        state = _state(root)
        if state != old:
            assert compile_project(root, check=True).comparison is not None
            assert not compile_project(root, check=True).comparison.stale, (
                "generated/ is neither the old nor the new state"
            )
            # go back to the old state for the next round
            _write_specs(root, _specs(1, count=300))
            compile_project(root)
            assert _state(root) == old
            _write_specs(root, _specs(2, count=300))
    compile_project(root)
    assert not [p for p in root.iterdir() if p.name.startswith(".cronspec-tmp-")]
    assert os.listdir(root / "generated")
