"""Projects compiled for the server a test runs on (`[pg_cron] version` = `pg_server.target`).

The live test modules run on pg_cron 1.4.2 and 1.6.7 (`pg_server`); a migration written for
the server's own version exercises what that version adds (the `cron.timezone` check, long job
names, `$`, seconds) instead of running a 1.4 file everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

from support.pgcluster import PgCluster
from support.servers import Kind

_VERSION = re.compile(r"(?m)^\s*version\s*=")


def with_version(toml: str | None, version: str) -> str:
    """cronspec.toml text whose `[pg_cron] version` is `version`, unless it names one itself
    (a test of the version check means its own)."""
    text = toml or ""
    sections = re.split(r"(?m)^(?=\[)", text)
    for i, section in enumerate(sections):
        if section.startswith("[pg_cron]"):
            if _VERSION.search(section):
                return text
            head, _, rest = section.partition("\n")
            sections[i] = f'{head}\nversion = "{version}"\n{rest}'
            return "".join(sections)
    sep = "" if not text or text.endswith("\n") else "\n"
    return f'{text}{sep}[pg_cron]\nversion = "{version}"\n'


def target_root(root: Path, version: str) -> Path:
    """Make the project at `root` target `version` (its cronspec.toml rewritten); returns it."""
    path = root / "cronspec.toml"
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    path.write_text(with_version(old, version), encoding="utf-8")
    return root


def start_server(kind: Kind, dbname: str, conf: dict[str, str]) -> PgCluster:
    """A server of `kind` with settings of its own (a third cluster beside the session's
    two, e.g. another `cron.timezone`, which pg_cron reads only at server start)."""
    bindir = kind.bindir()
    assert isinstance(bindir, Path), bindir
    pg = PgCluster(dbname, bindir=bindir, preload=kind.preload, extra_conf=conf)
    pg.start()
    try:
        pg.sql("CREATE EXTENSION IF NOT EXISTS pg_cron")
    except BaseException:
        pg.stop()
        raise
    return pg
