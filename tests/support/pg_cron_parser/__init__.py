"""pg_cron's own schedule parser, run inside the test servers (1.4.2 and 1.6.7).

`cron.schedule` only says whether pg_cron takes a text; what it then runs stays inside the
server. `cronspec_parser.c` calls pg_cron's exported `parse_cron_entry` (Vixie cron's parser,
src/entry.c) in the running server and returns the `entry` it builds, which `read` decodes into
the minutes, hours, days, months and weekdays pg_cron's launcher tests (`ShouldRunTask` in
src/pg_cron.c), and its flags: a day field starting with `*` (`DOM_STAR`, `DOW_STAR`: the two
day fields then AND, else OR), `@reboot`, and `$` (`DOM_LAST`, 1.6).

`N seconds` is not read by this parser (pg_cron tries it second, in job_metadata.c); the tests
check those through `cron.schedule` and by letting a job fire.

The library is built once per session with PGXS against Debian's PostgreSQL 15 (both servers
are that PostgreSQL) into a temporary folder the server can read.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
PG_CONFIG = Path("/usr/lib/postgresql/15/bin/pg_config")
SIZE = 56  # bytes of `entry` returned: 1.4.2's whole struct (1.6's is 52 in a larger block)
# entry.h: bitstr_t bit_decl(minute, 60), (hour, 24), (dom, 31), (month, 12), (dow, 8); int flags
FIELDS = (("minute", 60, 0), ("hour", 24, 0), ("dom", 31, 1), ("month", 12, 1), ("dow", 8, 0))
DOM_STAR, DOW_STAR, WHEN_REBOOT, DOM_LAST = 0x01, 0x02, 0x04, 0x20


@dataclass(frozen=True)
class PgRead:
    """What pg_cron's parser made of a text, as its launcher tests it."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    doms: tuple[int, ...]
    months: tuple[int, ...]
    dows: tuple[int, ...]  # 0-6 (pg_cron sets bit 0 and bit 7 for Sunday; tm_wday is 0-6)
    either_day: bool  # neither day field starts with `*`: a day matches when either does
    reboot: bool
    last_dom: bool

    @property
    def fires(self) -> bool:
        """Whether some minute of some day can match (a reversed range sets no bit)."""
        return bool(self.minutes and self.hours and self.months and (self.doms or self.dows))


@cache
def library() -> Path:
    """The built library (once per session)."""
    folder = Path(tempfile.mkdtemp(prefix="cronspec-pgparser-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name in ("cronspec_parser.c", "Makefile"):
        shutil.copy(HERE / name, folder / name)
    proc = subprocess.run(
        ["make", "-s", f"PG_CONFIG={PG_CONFIG}", "with_llvm=no"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise AssertionError(f"building the pg_cron parser probe failed:\n{proc.stderr}")
    os.chmod(folder, 0o755)  # the server runs as `postgres`
    return folder / "cronspec_parser.so"


def why_unavailable() -> str | None:
    """One line saying why the probe cannot be built here, or None."""
    if not PG_CONFIG.exists():
        return f"{PG_CONFIG} is missing: apt-get install postgresql-server-dev-15"
    if shutil.which("make") is None or shutil.which("gcc") is None:
        return "make and gcc are missing: apt-get install build-essential"
    return None


class Reader:
    """pg_cron's parser on one connection (superuser: it creates a C function in pg_temp)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        conn.execute(
            "CREATE FUNCTION pg_temp.cronspec_parse_schedule(text, int) RETURNS bytea "
            f"AS '{library()}', 'cronspec_parse_schedule' LANGUAGE C STRICT"
        )
        self.offset = self._layout()

    def raw(self, text: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT pg_temp.cronspec_parse_schedule(%s, %s)", (text, SIZE)
        ).fetchone()
        assert row is not None
        return None if row[0] is None else bytes(row[0])

    def _layout(self) -> int:
        """Where the bit fields start: after the pointers and ids of `entry` (24 bytes in
        Vixie's struct, then a `cmd` pointer in 1.4, a `secondsInterval` int in 1.5+)."""
        raw = self.raw("1 2 3 4 5")
        assert raw is not None
        want = ((1,), (2,), (3,), (4,), (5,))
        found = [o for o in range(0, SIZE - 23, 4) if _bits(raw, o) == want]
        assert len(found) == 1, f"cannot find pg_cron's entry layout in {raw.hex()}"
        return found[0]

    def read(self, text: str) -> PgRead | None:
        """pg_cron's reading of `text`, or None where its parser refuses it."""
        raw = self.raw(text)
        if raw is None:
            return None
        minutes, hours, doms, months, dows = _bits(raw, self.offset)
        flags = int.from_bytes(raw[self.offset + 20 : self.offset + 24], "little")
        return PgRead(
            minutes,
            hours,
            doms,
            months,
            tuple(sorted({d % 7 for d in dows})),
            not flags & (DOM_STAR | DOW_STAR),
            bool(flags & WHEN_REBOOT),
            bool(flags & DOM_LAST),
        )


def _bits(raw: bytes, offset: int) -> tuple[tuple[int, ...], ...]:
    out = []
    at = offset
    for _, count, low in FIELDS:
        size = (count + 7) >> 3
        chunk = raw[at : at + size]
        out.append(tuple(i + low for i in range(count) if chunk[i >> 3] >> (i & 7) & 1))
        at += size
    return tuple(out)
