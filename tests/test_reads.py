"""Every `*.yaml` and `*.yml` entry of specs/ is read or reported with its path, and limits are
checked before reading: a spec that cannot be read must never drop its task silently (the next
plan would remove the job)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.common import SQL_TASK
from support.write import unprivileged

from cronspec.api import compile_specs
from cronspec.diagnostics.formats import format_text
from cronspec.load.project import MAX_SPECS
from cronspec.load.source import MAX_FILE_BYTES

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]
GOOD = {"a.yaml": SQL_TASK.format(name="a", schedule="0 1 * * *")}


def _only(root: Path, cli: Cli) -> str:
    """The one diagnostic line of a compile that must fail and write nothing."""
    code, out, err = cli(root, "compile")
    assert code == 1 and out == "", err
    assert not (root / "generated").exists()
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_dangling_link_is_reported(project: Project, cli: Cli) -> None:
    root = project(GOOD)
    (root / "specs" / "b.yaml").symlink_to("gone.yaml")
    assert _only(root, cli) == (
        "specs/b.yaml: error[Y114]: a symbolic link to `gone.yaml`, which does not exist; fix "
        "or delete the link"
    )


def test_a_link_loop_is_reported(project: Project, cli: Cli) -> None:
    root = project(GOOD)
    (root / "specs" / "b.yaml").symlink_to("c.yaml")
    (root / "specs" / "c.yaml").symlink_to("b.yaml")
    code, _, err = cli(root, "compile")
    assert code == 1
    assert err.splitlines() == [
        f"specs/{n}.yaml: error[Y114]: a symbolic link that loops back on itself; fix or "
        "delete the link"
        for n in "bc"
    ]


def test_a_link_to_a_spec_is_read(project: Project, cli: Cli) -> None:
    root = project({"shared.txt": SQL_TASK.format(name="b", schedule="0 2 * * *")})
    (root / "specs" / "b.yaml").symlink_to("shared.txt")
    compiled = compile_specs(root)
    assert compiled.ok and compiled.plan is not None
    assert [j.jobname for j in compiled.plan.jobs] == ["b"]


def test_a_folder_is_reported(project: Project, cli: Cli) -> None:
    root = project(GOOD)
    (root / "specs" / "b.yaml").mkdir()
    assert _only(root, cli) == (
        "specs/b.yaml: error[Y114]: a folder, not a spec file; rename it so that its name does "
        "not end in .yaml"
    )


def test_a_fifo_is_reported_without_hanging(project: Project) -> None:
    root = project(GOOD)
    os.mkfifo(root / "specs" / "b.yml")
    run = subprocess.run(
        [sys.executable, "-m", "cronspec", "--root", str(root), "compile"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert run.stderr == (
        "specs/b.yml: error[Y114]: a fifo, not a regular file; a spec is a file\n"
    )


@pytest.mark.parametrize("name", ["b.YAML", "b.Yaml", "b.YML", "b.yAml"])
def test_other_capitalisations_are_reported(project: Project, cli: Cli, name: str) -> None:
    suffix = name.split(".")[1]
    root = project({**GOOD, name: SQL_TASK.format(name="b", schedule="0 2 * * *")})
    assert _only(root, cli) == (
        f"specs/{name}: error[Y115]: spec files end in `.yaml` or `.yml`, in lowercase; "
        f"rename it to `b.{suffix.lower()}`"
    )


def test_the_50001st_spec_is_an_error_and_nothing_is_read(tmp_path: Path, cli: Cli) -> None:
    specs = tmp_path / "p" / "specs"
    specs.mkdir(parents=True)
    for i in range(MAX_SPECS + 1):
        (specs / f"t{i:05d}.yaml").touch()  # empty: each would be a Y104 if it were read
    assert _only(tmp_path / "p", cli) == (
        f"specs: error[Y116]: {MAX_SPECS + 1} spec files, over the limit of {MAX_SPECS} for one "
        "project; none was read"
    )


def test_exactly_the_limit_is_read(tmp_path: Path) -> None:
    specs = tmp_path / "p" / "specs"
    specs.mkdir(parents=True)
    for i in range(MAX_SPECS):
        (specs / f"t{i:05d}.yaml").touch()
    codes = {d.code for d in compile_specs(tmp_path / "p").diagnostics}
    assert codes == {"Y104"}


def test_a_huge_spec_is_refused_by_its_size_before_it_is_read(tmp_path: Path) -> None:
    """A 3 GiB (sparse) spec: refused by fstat, so the process never holds it (its peak RSS is
    measured: ~45 MiB, as for any compile; reading the file took 3.1 GB)."""
    root = tmp_path / "p"
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "a.yaml").write_text(GOOD["a.yaml"])
    with (root / "specs" / "big.yaml").open("wb") as handle:
        handle.truncate(3 * 1024**3)
    # VmHWM, the peak RSS of this process image (ru_maxrss would carry pytest's over exec)
    script = (
        "import re\n"
        "from cronspec.cli import main\n"
        f"code = main(['--root', {str(root)!r}, 'compile'])\n"
        "status = open('/proc/self/status').read()\n"
        "print(code, re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    code, max_rss_kib = map(int, run.stdout.split())
    assert code == 1
    assert run.stderr == (
        f"specs/big.yaml: error[Y109]: file is {3 * 1024**3} bytes, over the "
        f"{MAX_FILE_BYTES}-byte limit for one spec\n"
    )
    assert max_rss_kib < 256 * 1024, f"{max_rss_kib} KiB: the file was read"


def test_a_spec_at_the_limit_is_read(project: Project) -> None:
    text = GOOD["a.yaml"]
    padded = text + "#" * (MAX_FILE_BYTES - len(text) - 1) + "\n"
    assert len(padded.encode()) == MAX_FILE_BYTES
    assert compile_specs(project({"a.yaml": padded})).ok
    over = compile_specs(project({"a.yaml": padded + "\n"}))
    assert [d.code for d in over.diagnostics] == ["Y109"]


def test_the_specs_folder_being_a_file_is_reported(tmp_path: Path, cli: Cli) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "specs").write_text("not a folder\n")
    assert _only(root, cli) == (
        "specs: error[Y114]: the specs folder `specs` is a file; point `specs` in cronspec.toml "
        "at a folder"
    )


@pytest.fixture
def open_project() -> Iterator[Path]:
    """A project in a folder the unprivileged user may enter (tmp_path's parents are 0700)."""
    base = Path(tempfile.mkdtemp(prefix="cronspec-reads-"))
    base.chmod(0o755)
    root = base / "p"
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "a.yaml").write_text(GOOD["a.yaml"])
    (root / "specs" / "b.yaml").write_text(SQL_TASK.format(name="b", schedule="0 2 * * *"))
    yield root
    for path in [base, *base.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(base)


def test_an_unreadable_spec_is_reported(open_project: Path, cli: Cli) -> None:
    (open_project / "specs" / "b.yaml").chmod(0)
    with unprivileged(open_project):
        line = _only(open_project, cli)
    assert line == "specs/b.yaml: error[Y114]: cannot read it: Permission denied"


def test_an_unreadable_specs_folder_is_reported(open_project: Path, cli: Cli) -> None:
    (open_project / "specs").chmod(0o311)  # may enter, may not list
    with unprivileged(open_project):
        line = _only(open_project, cli)
    assert line == "specs: error[Y114]: cannot read the specs folder: Permission denied"


def test_an_unreadable_config_is_reported(open_project: Path, cli: Cli) -> None:
    (open_project / "cronspec.toml").write_text('project = "x"\n')
    (open_project / "cronspec.toml").chmod(0)
    with unprivileged(open_project):
        line = _only(open_project, cli)
    assert line == "cronspec.toml: error[T603]: cannot read cronspec.toml: Permission denied"


def test_every_problem_is_reported_at_once(project: Project, cli: Cli) -> None:
    root = project({**GOOD, "c.YML": "x"})
    (root / "specs" / "b.yaml").symlink_to("gone.yaml")
    (root / "specs" / "d.yaml").mkdir()
    code, _, err = cli(root, "compile")
    assert code == 1
    assert [line.split(": error")[0] for line in err.splitlines()] == [
        "specs/b.yaml",
        "specs/c.YML",
        "specs/d.yaml",
    ]
    assert format_text(compile_specs(root).diagnostics) == err
