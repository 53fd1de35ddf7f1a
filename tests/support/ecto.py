"""The README's Ecto migration, run by the real Ecto migrator (tests/elixir/server.exs
`migrate`) on a test server's cron database."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from support.oban import ROOT, ElixirServer
from support.pgcluster import PgCluster


@cache
def readme_migration() -> str:
    """The README's Ecto migration, as written there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Ecto\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```elixir\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, f"README's Ecto section has {len(blocks)} elixir blocks, not 1"
    return blocks[0]


def write_migration(
    folder: Path, version: int, *, name: str = "", no_transaction: bool = False
) -> Path:
    """The README's migration as migration `version` in `folder` (module name + `name`),
    optionally with Ecto's transaction and lock turned off."""
    text = readme_migration().replace("Migrations.Cronspec do", f"Migrations.Cronspec{name} do")
    if no_transaction:
        text = text.replace(
            "  use Ecto.Migration\n",
            "  use Ecto.Migration\n"
            "  @disable_ddl_transaction true\n"
            "  @disable_migration_lock true\n",
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}_cronspec{name.lower()}.exs"
    path.write_text(text, encoding="utf-8")
    return path


def migrate(
    server: ElixirServer,
    cluster: PgCluster,
    root: Path,
    folder: Path,
    direction: str,
    step: int = 1,
) -> dict[str, Any]:
    """`mix ecto.migrate` ("up", every pending version) or `mix ecto.rollback` ("down", `step`
    versions) in `root` on the cluster's cron database: the versions run, or `error`."""
    return server.request(
        "migrate",
        {
            "socket_dir": cluster.host,
            "port": cluster.port,
            "user": cluster.user,
            "database": cluster.dbname,
            "root": str(root),
            "dir": str(folder),
            "direction": direction,
            "step": step,
        },
    )
