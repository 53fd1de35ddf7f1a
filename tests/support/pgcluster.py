"""Throwaway PostgreSQL 15 + pg_cron cluster for the test suite.

Usage::

    from support.pgcluster import PgCluster, available

    if (reason := available()) is None:
        with PgCluster() as pg:
            subprocess.run([*pg.psql(), "-f", "generated/migration.sql"], check=True)
            with psycopg.connect(pg.dsn()) as conn: ...

The server listens on a Unix socket in a private temp dir only (no TCP unless
``tcp=True``). When running as root, initdb and the server run as the ``postgres`` user.
pg_cron jobs really run: ``cron.host`` points at the socket dir, so the launcher's libpq
connections (pg_cron's default execution mode) reach the cluster with trust auth.
The cron database is created just after start, so the pg_cron scheduler starts ~1 s later.

``bindir`` picks the server: Debian's /usr/lib/postgresql/15/bin (pg_cron 1.4.2), or the
``bin`` of a private prefix (tests/support/vendor.py builds one with pg_cron 1.6.7 and pg_net).
``preload`` is ``shared_preload_libraries``; with ``pg_net`` there, its worker is pointed at the
cron database (``pg_net.database_name``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["PgCluster", "PgClusterError", "available", "find_bindir", "reap_stale"]

DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"
BINDIR_ENV = "CRONSPEC_PG_BINDIR"
SERVICE_USER = "postgres"
TMP_PREFIX = "cronspec-pg-"
_OWNER_FILE = "owner.pid"
_BINARIES = ("initdb", "pg_ctl", "postgres", "psql")


class PgClusterError(RuntimeError):
    """A cluster command failed; the message carries its output and the server log tail."""


def find_bindir() -> Path:
    """PG 15 bin dir: ``$CRONSPEC_PG_BINDIR`` if set, else /usr/lib/postgresql/15/bin."""
    return Path(os.environ.get(BINDIR_ENV) or DEFAULT_BINDIR)


def _pg_dirs(bindir: Path) -> tuple[Path, Path]:
    """(pkglibdir, sharedir) of the installation owning ``bindir``."""
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        out = subprocess.run(
            [str(pg_config), "--pkglibdir", "--sharedir"],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        lines = out.stdout.split()
        if out.returncode == 0 and len(lines) == 2:
            return Path(lines[0]), Path(lines[1])
    # Debian layout: /usr/lib/postgresql/N/{bin,lib}, /usr/share/postgresql/N
    return bindir.parent / "lib", Path("/usr/share/postgresql") / bindir.parent.name


def _as_service_user() -> list[str]:
    """argv prefix that runs a command as the ``postgres`` user (empty unless root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVICE_USER, "--"]
    return ["setpriv", f"--reuid={SERVICE_USER}", f"--regid={SERVICE_USER}", "--init-groups"]


def _unreachable_for_others(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot enter, if any."""
    for folder in [*reversed(path.parents), path]:
        with contextlib.suppress(OSError):
            if not folder.stat().st_mode & 0o001:
                return folder
    return None


def available(bindir: Path | None = None, preload: tuple[str, ...] = ("pg_cron",)) -> str | None:
    """None if a cluster can be started here, else a short reason why not."""
    bindir = bindir or find_bindir()
    for name in _BINARIES:
        if not os.access(bindir / name, os.X_OK):
            return f"{bindir / name} not found (install postgresql-15 or set {BINDIR_ENV})"
    libdir, sharedir = _pg_dirs(bindir)
    for lib in preload:
        if not (libdir / f"{lib}.so").exists():
            hint = " (install postgresql-15-cron)" if lib == "pg_cron" else ""
            return f"{libdir / lib}.so not found{hint}"
        if not (sharedir / "extension" / f"{lib}.control").exists():
            return f"{sharedir / 'extension' / lib}.control not found"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return f"running as root but there is no '{SERVICE_USER}' user to run the server"
        if not (shutil.which("runuser") or shutil.which("setpriv")):
            return "running as root but neither runuser nor setpriv is available"
        if blocked := _unreachable_for_others(bindir):
            return f"the server runs as '{SERVICE_USER}', who cannot enter {blocked} (mode o-x)"
    return None


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _conninfo_value(value: str) -> str:
    if value and not any(c in value for c in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tmp_parent() -> str:
    """Temp parent dir short enough for a Unix socket path (sun_path is 108 bytes)."""
    tmp = tempfile.gettempdir()
    return tmp if len(tmp) + len(TMP_PREFIX) + 8 + len("/.s.PGSQL.65535") < 100 else "/tmp"


def _clean_env() -> dict[str, str]:
    """os.environ without PG* variables (PGOPTIONS, PGDATABASE... must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


class PgCluster:
    """A private PostgreSQL cluster with pg_cron preloaded; use as a context manager."""

    def __init__(
        self,
        dbname: str = "cronspec_test",
        *,
        tcp: bool = False,
        extra_conf: dict[str, str] | None = None,
        bindir: Path | str | None = None,
        preload: tuple[str, ...] = ("pg_cron",),
    ) -> None:
        """Configure (not start) a cluster whose pg_cron database is ``dbname``.

        ``tcp`` also listens on 127.0.0.1 at a free port; ``extra_conf`` maps GUC names to
        raw postgresql.conf values (e.g. ``{"cron.use_background_workers": "on"}``);
        ``preload`` is ``shared_preload_libraries`` (pg_cron first).
        """
        self.dbname = dbname
        self.tcp = tcp
        self.extra_conf = dict(extra_conf or {})
        self.bindir = Path(bindir) if bindir is not None else find_bindir()
        self.preload = preload
        self.user = SERVICE_USER
        self.port = 0
        self.root: Path | None = None  # temp dir; also the Unix socket dir
        self._running = False

    # -- paths -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """Unix socket directory (the libpq ``host``)."""
        return str(self._root())

    @property
    def datadir(self) -> Path:
        return self._root() / "data"

    @property
    def logfile(self) -> Path:
        return self._root() / "server.log"

    def _root(self) -> Path:
        if self.root is None:
            raise PgClusterError("cluster not started")
        return self.root

    def _bin(self, name: str) -> str:
        return str(self.bindir / name)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> str:
        """initdb, configure, start, create ``dbname``; return its DSN."""
        if self._running:
            return self.dsn()
        reason = available(self.bindir, self.preload)
        if reason:
            raise PgClusterError(reason)
        reap_stale(self.bindir)
        self.root = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=_tmp_parent()))
        atexit.register(self.stop)
        try:
            (self.root / _OWNER_FILE).write_text(f"{os.getpid()}\n")
            if os.geteuid() == 0:
                pw = pwd.getpwnam(SERVICE_USER)
                os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.port = _free_port()
            self._run_as_service(
                self._bin("initdb"),
                "-D",
                str(self.datadir),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
            self._write_conf()
            self._run_as_service(
                self._bin("pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-w",
                "-t",
                "30",
                "start",
            )
            self._running = True
            self.sql(f"CREATE DATABASE {_quote_ident(self.dbname)}", dbname="postgres")
        except BaseException:
            self.stop()
            raise
        return self.dsn()

    def _write_conf(self) -> None:
        conf: dict[str, str] = {
            "shared_preload_libraries": "'" + ",".join(self.preload) + "'",
            "cron.database_name": f"'{self.dbname}'",
            # pg_cron's launcher connects with libpq to cron.host:port; point it at our socket.
            "cron.host": f"'{self.host}'",
            "listen_addresses": "'127.0.0.1'" if self.tcp else "''",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.host}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "40",
            "shared_buffers": "32MB",
            "max_wal_size": "256MB",
            "timezone": "'UTC'",
            "log_min_messages": "warning",
        }
        if "pg_net" in self.preload:
            # its worker connects to this database (it retries each second until it exists)
            conf["pg_net.database_name"] = f"'{self.dbname}'"
        conf.update(self.extra_conf)
        text = "".join(f"{k} = {v}\n" for k, v in conf.items())
        with (self.datadir / "postgresql.conf").open("a") as f:
            f.write("\n# cronspec test cluster\n" + text)

    def stop(self) -> None:
        """Stop the server (immediate) and remove the temp dir; safe to call twice."""
        atexit.unregister(self.stop)
        root, self.root = self.root, None
        if root is None:
            return
        self._running = False
        _stop_datadir(self.bindir, root / "data")
        shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- clients -----------------------------------------------------------------------

    def dsn(self, dbname: str | None = None) -> str:
        """libpq keyword DSN for ``dbname`` (default: the pg_cron database)."""
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "dbname": dbname or self.dbname,
        }
        return " ".join(f"{k}={_conninfo_value(v)}" for k, v in parts.items())

    def psql(self, dbname: str | None = None) -> list[str]:
        """argv prefix running psql against ``dbname``; append ``-f file`` or ``-c sql``."""
        return [
            self._bin("psql"),
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-w",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            dbname or self.dbname,
        ]

    def env(self) -> dict[str, str]:
        """Environment for client subprocesses: os.environ minus PG* variables."""
        return _clean_env()

    def sql(self, sql: str, dbname: str | None = None) -> str:
        """Run ``sql`` with psql (unaligned, tuples only); return stdout. Raises on error."""
        proc = subprocess.run(
            [*self.psql(dbname), "-qAt", "-c", sql],
            capture_output=True,
            text=True,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if proc.returncode != 0:
            raise PgClusterError(f"psql failed: {sql!r}\n{proc.stderr.strip()}")
        return proc.stdout

    def new_database(self, name: str, template: str = "template1") -> str:
        """CREATE DATABASE ``name`` from ``template`` (file copy, fast); return its DSN.

        The pg_cron database cannot be a template: the cron launcher stays connected to it.
        """
        self.sql(
            f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(template)}",
            dbname="postgres",
        )
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE ``name`` (WITH FORCE: terminates its sessions)."""
        self.sql(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)", dbname="postgres")

    def server_log(self) -> str:
        """Contents of the server log (for assertion messages)."""
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def _run_as_service(self, *argv: str) -> None:
        proc = subprocess.run(
            [*_as_service_user(), *argv],
            capture_output=True,
            text=True,
            cwd=self._root(),
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if proc.returncode != 0:
            log = self.server_log()[-2000:]
            raise PgClusterError(
                f"{Path(argv[0]).name} failed (exit {proc.returncode}):\n"
                f"{proc.stdout}{proc.stderr}\n--- server log tail ---\n{log}"
            )


def _stop_datadir(bindir: Path, datadir: Path) -> None:
    """pg_ctl -m immediate stop; SIGQUIT the postmaster if pg_ctl fails."""
    if not (datadir / "postmaster.pid").exists():
        return
    proc = subprocess.run(
        [
            *_as_service_user(),
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-m",
            "immediate",
            "-w",
            "-t",
            "10",
            "stop",
        ],
        capture_output=True,
        text=True,
        cwd="/",
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode == 0:
        return
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((datadir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale(bindir: Path | None = None) -> list[Path]:
    """Stop and delete clusters left by test processes that died without cleanup
    (SIGKILL skips atexit). Returns the removed dirs."""
    removed: list[Path] = []
    for root in Path(_tmp_parent()).glob(TMP_PREFIX + "*"):
        try:
            owner = int((root / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        _stop_datadir(bindir or find_bindir(), root / "data")
        shutil.rmtree(root, ignore_errors=True)
        removed.append(root)
    return removed
