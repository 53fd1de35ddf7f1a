"""tests/support/vendor.py: built once per source, found again, rebuilt when the source changes.

On a scratch vendor folder holding a small parser source and a scratch cache, with the real
`elixirc` (the parser part is the quickest to build).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import vendor
from support.common import elixir_reason, need

SOURCE = """\
defmodule Oban.Cron.Expression do
  def parse(input), do: {:ok, input}
end
"""


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    need(elixir_reason(), "Elixir (Debian's `elixir`)")
    source = tmp_path / "vendor" / "oban-2.23.1-cron-expression"
    source.mkdir(parents=True)
    (source / "expression.ex").write_text(SOURCE, encoding="utf-8")
    monkeypatch.setenv(vendor.VENDOR_ENV, str(tmp_path / "vendor"))
    monkeypatch.setenv(vendor.CACHE_ENV, str(tmp_path / "cache"))
    vendor.digest.cache_clear()
    yield source
    vendor.digest.cache_clear()


def test_built_once_and_found(scratch: Path) -> None:
    assert "not built from these sources yet" in str(vendor.locate("parser"))
    path, seconds = vendor.build("parser")
    assert seconds is not None
    assert (path / "ebin" / "Elixir.Oban.Cron.Expression.beam").is_file()
    assert vendor.locate("parser") == path
    again, seconds = vendor.build("parser")
    assert (again, seconds) == (path, None)  # nothing rebuilt


def test_a_changed_source_is_a_new_build(scratch: Path) -> None:
    first, _ = vendor.build("parser")
    (scratch / "expression.ex").write_text(SOURCE.replace("input}", "input, 1}"))
    vendor.digest.cache_clear()
    assert "not built" in str(vendor.locate("parser"))
    second, seconds = vendor.build("parser")
    assert second != first and seconds is not None
    assert first.is_dir()  # the old build stays for whoever still uses it


def test_a_failed_build_leaves_nothing(scratch: Path) -> None:
    (scratch / "expression.ex").write_text("defmodule Broken do\n")
    with pytest.raises(vendor.VendorError, match="elixirc"):
        vendor.build("parser")
    cache = Path(vendor.cache_dir())
    assert [p.name for p in cache.iterdir() if p.is_dir()] == []
    assert isinstance(vendor.locate("parser"), str)


def test_missing_sources_say_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(vendor.VENDOR_ENV, raising=False)
    reason = vendor.locate("oban")
    assert isinstance(reason, str) and "\n" not in reason
    assert "CRONSPEC_VENDOR_DIR is not set" in reason and "make test-deps" in reason
    monkeypatch.setenv(vendor.VENDOR_ENV, str(tmp_path))
    reason = vendor.locate("pg")
    assert isinstance(reason, str) and f"{tmp_path}/pg_cron-1.6.7 does not exist" in reason


def test_the_cache_is_reachable_by_the_server_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vendor.CACHE_ENV, raising=False)
    cache = vendor.cache_dir()
    if os.geteuid() == 0:
        assert cache == Path("/var/cache/cronspec")  # not under /root (mode 700)
    else:
        assert cache.name == "cronspec"
