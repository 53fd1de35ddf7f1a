"""Shared fixtures: the project's example, a scratch project factory, the real executors.

The database fixtures start throwaway PostgreSQL 15 servers, each once per session on first use:

- `cluster`, `db`, `psql`: Debian's pg_cron 1.4.2 (as they always were);
- `cluster16`, `db16`, `psql16`: pg_cron 1.6.7 with pg_net 0.20.5 preloaded, from the private
  prefix tests/support/vendor.py builds (Debian's pg_partman is in both servers);
- `pg_server`, `pg_db`, `pg_psql`: the same, parametrized over both servers (test ids
  `[pg_cron-1.4.2]` and `[pg_cron-1.6.7]`). A test adopts both servers by asking for these
  instead of `cluster`/`db`/`psql`; `pg_server.target` is cronspec's `[pg_cron] version`.

`elixir` is one Elixir VM for the session; `oban` is the real Oban 2.18.3 on it (id
`[oban-2.18.3]`), `oban_parser` Oban 2.23.1's parser (tests/support/oban.py). Where a real component
is missing, its tests skip on a developer's machine with one line saying what is missing and
how to get it, and fail under CI=true.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support import servers, vendor
from support.common import MISSING, PSQL, RESET_SQL, ROOT, elixir_reason, need
from support.oban import ElixirServer, Oban, parse_with_2_23
from support.pgcluster import PgCluster
from support.servers import KINDS, Server

CRON_DB = "cronspec_test"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A missing component skips many tests: report them under one line, not one per test."""
    report: pytest.TestReport = yield
    _count(item, report)
    if report.skipped and isinstance(report.longrepr, tuple):
        message = report.longrepr[2].removeprefix("Skipped: ")
        if message in MISSING:
            report.longrepr = (__file__, None, report.longrepr[2])  # type: ignore[assignment]
    return report


def _start(key: str) -> Iterator[PgCluster]:
    kind = KINDS[key]
    bindir = kind.bindir()
    need(bindir if isinstance(bindir, str) else None, f"PostgreSQL 15 with pg_cron {kind.pg_cron}")
    pg = kind.start(CRON_DB)
    try:
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def cluster() -> Iterator[PgCluster]:
    """Debian's PostgreSQL 15 with pg_cron 1.4.2."""
    yield from _start("1.4")


@pytest.fixture(scope="session")
def cluster16() -> Iterator[PgCluster]:
    """PostgreSQL 15 with pg_cron 1.6.7 and pg_net 0.20.5 (shared_preload_libraries)."""
    yield from _start("1.6")


_CLUSTER_FIXTURE = {"1.4": "cluster", "1.6": "cluster16"}


@pytest.fixture(scope="session", params=list(KINDS), ids=[k.id for k in KINDS.values()])
def pg_server(request: pytest.FixtureRequest) -> Server:
    """Each server in turn (ids `pg_cron-1.4.2`, `pg_cron-1.6.7`), each started once."""
    key: str = request.param
    return Server(KINDS[key], request.getfixturevalue(_CLUSTER_FIXTURE[key]))


def reset(cluster: PgCluster) -> str:
    """Empty the cron database of jobs, run details, schemas and tables; return its DSN."""
    cluster.sql(RESET_SQL)
    return cluster.dsn()


@pytest.fixture
def db(cluster: PgCluster) -> str:
    """The pg_cron 1.4.2 cron database, emptied of jobs, schemas and tables; returns its DSN."""
    return reset(cluster)


@pytest.fixture
def db16(cluster16: PgCluster) -> str:
    """The same on the pg_cron 1.6.7 server."""
    return reset(cluster16)


@pytest.fixture
def pg_db(pg_server: Server) -> str:
    """The same on each server in turn."""
    return reset(pg_server.cluster)


@pytest.fixture
def psql(cluster: PgCluster) -> PSQL:
    """Run psql on the cron database: psql(file=...) or psql(sql=...)."""
    return psql_runner(cluster)


@pytest.fixture
def psql16(cluster16: PgCluster) -> PSQL:
    return psql_runner(cluster16)


@pytest.fixture
def pg_psql(pg_server: Server) -> PSQL:
    return psql_runner(pg_server.cluster)


def psql_runner(cluster: PgCluster) -> PSQL:
    """psql on the cluster's cron database: run(file=...) or run(sql=...)."""

    def run(
        *, file: Path | None = None, sql: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [*cluster.psql(), "-q"]
        argv += ["-f", str(file)] if file is not None else ["-c", sql or ""]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=cluster.env(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"psql failed ({result.returncode}): {result.stderr}")
        return result

    return run


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """A scratch project: project({"name.yaml": text, ...}, toml=...) -> its root."""

    def make(specs: dict[str, str], toml: str | None = None) -> Path:
        root = tmp_path / "proj"
        if root.exists():
            shutil.rmtree(root)
        (root / "specs").mkdir(parents=True)
        for name, text in specs.items():
            (root / "specs" / name).write_text(text, encoding="utf-8")
        if toml is not None:
            (root / "cronspec.toml").write_text(toml, encoding="utf-8")
        return root

    return make


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the repository's example project (specs/, cronspec.toml, generated/)."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copytree(ROOT / "specs", root / "specs")
    if (ROOT / "generated").is_dir():
        shutil.copytree(ROOT / "generated", root / "generated")
    if (ROOT / "cronspec.toml").is_file():
        shutil.copy(ROOT / "cronspec.toml", root / "cronspec.toml")
    return root


@pytest.fixture(scope="session")
def elixir() -> Iterator[ElixirServer]:
    """The session's Elixir VM (tests/elixir/server.exs), with the real Oban on it if built."""
    need(elixir_reason(), "Elixir (Debian's `elixir`)")
    stack = vendor.locate("oban")
    server = ElixirServer(stack / "lib" if isinstance(stack, Path) else None)
    yield server
    server.close()


@pytest.fixture(scope="session", params=["2.18.3"], ids=["oban-2.18.3"])
def oban(request: pytest.FixtureRequest, elixir: ElixirServer) -> Oban:
    """The real Oban 2.18.3, on a database of the pg_cron 1.4.2 cluster (id `oban-2.18.3`)."""
    stack = vendor.locate("oban")
    need(stack if isinstance(stack, str) else None, "Oban 2.18.3 (oban-stack)")
    return Oban(elixir, request.getfixturevalue("cluster"))


@pytest.fixture(scope="session", params=["2.23.1"], ids=["oban-2.23.1-parser"])
def oban_parser() -> Callable[[Sequence[str]], list[str | None]]:
    """Oban 2.23.1's cron parser: parse(expressions) -> None or the parser's message each."""
    need(elixir_reason(), "Elixir (Debian's `elixir`)")
    ebin = vendor.locate("parser")
    need(ebin if isinstance(ebin, str) else None, "Oban 2.23.1's cron parser")
    return parse_with_2_23


def _executors() -> dict[str, str]:
    """Each real executor's test id, and where it comes from (or why it is missing)."""
    found = {}
    for kind in KINDS.values():
        bindir = kind.bindir()
        where = f"missing: {bindir}" if isinstance(bindir, str) else str(bindir.parent)
        origin = kind.origin
        if kind.key == "1.4" and (deb := servers.debian_version("postgresql-15-cron")):
            origin += f" {deb}"
        found[kind.id] = f"{origin}: {where}"
    partman = servers.debian_version("postgresql-15-partman")
    found["pg_partman"] = (
        f"Debian postgresql-15-partman {partman}, in both servers"
        if partman
        else "missing: apt-get install postgresql-15-partman"
    )
    for key, name, title in (
        ("oban", "oban-2.18.3", "real Oban with Ecto, Postgrex, tz"),
        ("parser", "oban-2.23.1-parser", "Oban 2.23.1's cron parser"),
    ):
        where = vendor.locate(key)
        found[name] = f"{title}: {'missing: ' if isinstance(where, str) else ''}{where}"
    return found


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Which real executors this run uses, with their versions (or why one is missing)."""
    lines = [f"{name} ({about})" for name, about in _executors().items()]
    return ["executors: " + lines[0], *("           " + line for line in lines[1:])]


_SERVER_FIXTURES = {
    "pg_cron-1.4.2": {"cluster", "db", "psql"},
    "pg_cron-1.6.7": {"cluster16", "db16", "psql16"},
    "oban-2.18.3": {"oban"},
    "oban-2.23.1-parser": {"oban_parser"},
}
_RAN: dict[str, dict[str, int]] = {name: {} for name in _SERVER_FIXTURES}


def _executors_of(item: pytest.Item) -> list[str]:
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    server = callspec.params.get("pg_server") if callspec is not None else None
    if server is not None:
        names.add(_CLUSTER_FIXTURE[server])
    return [name for name, fixtures in _SERVER_FIXTURES.items() if names & fixtures]


def _count(item: pytest.Item, report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        for name in _executors_of(item):
            _RAN[name][outcome] = _RAN[name].get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What ran on which executor (shown with -q too, unlike the header)."""
    if not any(_RAN.values()):
        return
    about = _executors()
    terminalreporter.write_sep("-", "real executors")
    for name, counts in _RAN.items():
        tally = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no tests"
        terminalreporter.write_line(f"{name}: {tally} ({about[name]})")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """cli(root, "compile", "--check") -> (exit code, stdout, stderr), in-process."""
    from cronspec.cli import main

    def run(root: Path, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--root", str(root), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
