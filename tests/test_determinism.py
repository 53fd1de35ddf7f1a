"""The same specs give the same bytes: across hash seeds, locales, zones, working directories,
line endings, key order and the order files were created in."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.common import ROOT

VARIANTS = {
    "hash seed 0": {"PYTHONHASHSEED": "0"},
    "hash seed 12345": {"PYTHONHASHSEED": "12345"},
    "C locale": {"LC_ALL": "C", "LANG": "C"},
    "German locale": {"LC_ALL": "de_DE.UTF-8", "LANG": "de_DE.UTF-8"},
    "Tokyo clock": {"TZ": "Asia/Tokyo"},
}


def _compile(root: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cronspec", "--root", str(root), "compile"],
        env={**os.environ, **(env or {})},
        cwd=cwd or root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _outputs(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "generated").iterdir())}


def _copy_example(dest: Path, order: list[Path] | None = None) -> Path:
    (dest / "specs").mkdir(parents=True)
    for path in order or sorted((ROOT / "specs").iterdir()):
        shutil.copy(path, dest / "specs" / path.name)
    return dest


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    root = _copy_example(tmp_path_factory.mktemp("baseline"))
    _compile(root)
    return _outputs(root)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_environment_does_not_change_output(
    tmp_path: Path, baseline: dict[str, bytes], variant: str
) -> None:
    root = _copy_example(tmp_path / "p")
    _compile(root, VARIANTS[variant])
    assert _outputs(root) == baseline


def test_working_directory_and_creation_order(tmp_path: Path, baseline: dict[str, bytes]) -> None:
    order = sorted((ROOT / "specs").iterdir())
    random.Random(7).shuffle(order)
    root = _copy_example(tmp_path / "p", order)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _compile(root, cwd=elsewhere)
    assert _outputs(root) == baseline


def test_crlf_and_key_order(tmp_path: Path, baseline: dict[str, bytes]) -> None:
    root = _copy_example(tmp_path / "p")
    for index, path in enumerate(sorted((root / "specs").iterdir())):
        data = yaml.safe_load(path.read_text())
        keys = list(data)
        random.Random(index).shuffle(keys)
        text = yaml.safe_dump(
            {k: data[k] for k in keys}, sort_keys=False, allow_unicode=True, default_style=None
        )
        path.write_bytes(text.replace("\n", "\r\n").encode())
    _compile(root)
    assert _outputs(root) == baseline
