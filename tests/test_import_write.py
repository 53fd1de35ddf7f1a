"""The import writes specs with output.py's writer (`add_files`): all or nothing, beside what the
folder holds, never replacing a spec unless asked, and a run killed at any step is finished or
undone by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cronspec import output

OLD = {"keep.yaml": "name: keep\n", "a.yaml": "name: a\n"}
NEW = {"a.yaml": "name: a  # new\n", "b.yaml": "name: b\n", "c.yaml": "name: c\n"}

WRITER = """
import json, sys
from pathlib import Path
from cronspec import output
output.add_files(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text()), replace=True)
"""


def folder_with_old(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    for old in specs.iterdir():
        if old.is_file():
            old.unlink()
    for name, text in OLD.items():
        (specs / name).write_text(text)
    return specs


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir() if p.is_file()}


def test_an_existing_spec_stops_the_whole_write(tmp_path: Path) -> None:
    specs = folder_with_old(tmp_path)
    with pytest.raises(FileExistsError) as info:
        output.add_files(specs, NEW)
    assert info.value.filename == "a.yaml"
    assert contents(specs) == OLD  # b and c were not written either
    assert sorted(os.listdir(specs)) == sorted(OLD)


def test_replace_writes_every_file_and_leaves_the_others(tmp_path: Path) -> None:
    specs = folder_with_old(tmp_path)
    keep = (specs / "keep.yaml").stat().st_ino
    assert output.add_files(specs, NEW, replace=True) == sorted(NEW)
    assert contents(specs) == {"keep.yaml": OLD["keep.yaml"], **NEW}
    assert (specs / "keep.yaml").stat().st_ino == keep
    assert sorted(os.listdir(specs)) == sorted({*OLD, *NEW})  # nothing left behind


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    assert output.add_files(tmp_path / "new" / "specs", {"x.yaml": "x\n"}) == ["x.yaml"]
    assert (tmp_path / "new" / "specs" / "x.yaml").read_text() == "x\n"


def test_killed_at_every_step_is_finished_or_undone(tmp_path: Path) -> None:
    import json

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    files = tmp_path / "files.json"
    files.write_text(json.dumps(NEW))
    step = 0
    while True:
        step += 1
        specs = folder_with_old(tmp_path)
        env = {**os.environ, "CRONSPEC_TEST_KILL_AT": str(step)}
        code = subprocess.run(
            [sys.executable, str(script), str(specs), str(files)], env=env, check=False
        ).returncode
        if code == 0:
            break
        assert code == -signal.SIGKILL
        for name, text in contents(specs).items():  # every file whole: old or new
            assert text in (OLD.get(name), NEW.get(name)), name
        output.add_files(specs, {}, replace=True)  # the next write recovers first
        now = contents(specs)
        assert now in ({**OLD}, {"keep.yaml": OLD["keep.yaml"], **NEW}), (step, now)
        assert sorted(os.listdir(specs)) == sorted(now)
    assert step > 4, "the kill hook was not honoured"
