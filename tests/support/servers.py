"""The PostgreSQL servers the suite runs: Debian's pg_cron 1.4.2 and the vendored pg_cron 1.6.7.

Both are PostgreSQL 15 from Debian; the 1.6.7 one runs from the private prefix that
tests/support/vendor.py builds (pg_cron 1.6.7 and pg_net 0.20.5 in a copy of Debian's
PostgreSQL 15, so Debian's pg_partman is there as well). conftest.py starts each one once per
session, on first use.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from support import vendor
from support.pgcluster import DEFAULT_BINDIR, PgCluster, available


@dataclass(frozen=True)
class Kind:
    """One kind of server: which pg_cron, where its binaries come from, what it preloads."""

    key: str  # fixture-facing key: "1.4" or "1.6"
    pg_cron: str  # the release: "1.4.2"
    extversion: str  # what `CREATE EXTENSION pg_cron` installs there (1.6.x says "1.6")
    preload: tuple[str, ...]
    origin: str  # for the report header

    @property
    def id(self) -> str:
        """Test id: `pg_cron-1.4.2`."""
        return f"pg_cron-{self.pg_cron}"

    @property
    def target(self) -> str:
        """cronspec's `[pg_cron] version` for this server."""
        return self.key

    def bindir(self) -> Path | str:
        """Its bin folder, or one line saying why it cannot start here."""
        if self.key == "1.4":
            bindir = Path(DEFAULT_BINDIR)
        else:
            prefix = vendor.locate("pg")
            if isinstance(prefix, str):
                return prefix
            bindir = prefix / vendor.DEBIAN_PG.relative_to("/") / "bin"
        return available(bindir, self.preload) or bindir

    def start(self, dbname: str) -> PgCluster:
        bindir = self.bindir()
        assert isinstance(bindir, Path), bindir
        pg = PgCluster(dbname, bindir=bindir, preload=self.preload)
        pg.start()
        try:
            pg.sql("CREATE EXTENSION IF NOT EXISTS pg_cron")
            got = pg.sql("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").strip()
            if got != self.extversion:
                raise AssertionError(f"{self.id}: pg_cron reports extversion {got!r}")
        except BaseException:
            pg.stop()
            raise
        return pg


KINDS: dict[str, Kind] = {
    "1.4": Kind("1.4", "1.4.2", "1.4-1", ("pg_cron",), "Debian postgresql-15-cron"),
    "1.6": Kind("1.6", "1.6.7", "1.6", ("pg_cron", "pg_net"), "vendored, with pg_net 0.20.5"),
}


@dataclass(frozen=True)
class Server:
    """A running server of one kind (what the parametrized `pg_server` fixture gives)."""

    kind: Kind
    cluster: PgCluster

    @property
    def id(self) -> str:
        return self.kind.id

    @property
    def target(self) -> str:
        return self.kind.target


@cache
def debian_version(package: str) -> str | None:
    try:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None
