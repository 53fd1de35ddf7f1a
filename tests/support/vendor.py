"""The real executors Debian lacks, built once from the vendored sources into a cache.

The sources are found through ONE environment variable, ``CRONSPEC_VENDOR_DIR`` (``.ci/run``
sets it to ``../shared/vendor``). Each part is built into
``$CRONSPEC_CACHE_DIR/<name>-<hash>``, where the hash covers the part's sources, the recipe
below and the system tools it is built with, so a second build finds it and does nothing:

- ``pg``: pg_cron 1.6.7 and pg_net 0.20.5 in ONE private PostgreSQL 15 prefix, a copy of
  Debian's /usr/lib/postgresql/15 and /usr/share/postgresql/15 (pg_partman's files included),
  as pg_cron's BUILD.md explains; its server is ``PREFIX/usr/lib/postgresql/15/bin/postgres``;
- ``oban``: Oban 2.18.3 with Ecto, Postgrex and tz, compiled by the stack's own ``build.sh``;
  ``ERL_LIBS=PREFIX/lib``;
- ``parser``: Oban 2.23.1's ``Oban.Cron.Expression`` alone, by ``elixirc``; ``-pa PREFIX/ebin``.

The cache is ``$CRONSPEC_CACHE_DIR``, else ``/var/cache/cronspec`` for root (the PostgreSQL
server runs as ``postgres``, which cannot enter /root), else ``~/.cache/cronspec``.

Command line (stdlib only; ``make test-deps`` runs it)::

    python tests/support/vendor.py build     # build what is missing, one line per part
    python tests/support/vendor.py status    # where each part is, or why it is missing

Tests call :func:`locate`: a built part's folder, or one line saying what is missing and how
to get it (the suite skips with it, or fails under ``CI=true``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VENDOR_ENV = "CRONSPEC_VENDOR_DIR"
CACHE_ENV = "CRONSPEC_CACHE_DIR"
DEBIAN_PG = Path("/usr/lib/postgresql/15")
DEBIAN_PG_SHARE = Path("/usr/share/postgresql/15")
PG_CONFIG = DEBIAN_PG / "bin" / "pg_config"
STAMP = ".cronspec-built"  # written last: a folder without it is not a finished build
HOW = "run `make test-deps`"


class VendorError(RuntimeError):
    """A build step failed; the message is one line, with the log path for the details."""


@dataclass(frozen=True)
class Part:
    key: str
    title: str  # what it is, for messages: "pg_cron 1.6.7 + pg_net 0.20.5"
    name: str  # cache folder name before the hash
    sources: tuple[str, ...]  # folders under CRONSPEC_VENDOR_DIR
    recipe: int  # bump when the build steps change
    tools: tuple[tuple[str, ...], ...]  # commands whose output is part of the key
    needs: tuple[str, ...]  # executables the build needs (Debian packages in HOW)


PARTS: dict[str, Part] = {
    p.key: p
    for p in (
        Part(
            "pg",
            "pg_cron 1.6.7 + pg_net 0.20.5",
            "pg15-cron-1.6.7-net-0.20.5",
            ("pg_cron-1.6.7", "pg_net-0.20.5"),
            1,
            (
                (str(PG_CONFIG), "--version"),
                ("dpkg-query", "-W", "postgresql-15", "postgresql-15-partman"),
            ),
            (str(PG_CONFIG), "make", "cc"),
        ),
        Part(
            "oban",
            "Oban 2.18.3 (oban-stack)",
            "oban-stack-2.18.3",
            ("oban-stack",),
            1,
            (("elixir", "--version"),),
            ("elixir", "erl"),
        ),
        Part(
            "parser",
            "Oban 2.23.1's cron parser",
            "oban-expression-2.23.1",
            ("oban-2.23.1-cron-expression",),
            1,
            (("elixir", "--version"),),
            ("elixirc",),
        ),
    )
}


# -- where things are --------------------------------------------------------------------------


def vendor_dir() -> Path | None:
    value = os.environ.get(VENDOR_ENV, "").strip()
    return Path(value).resolve() if value else None


def cache_dir() -> Path:
    if value := os.environ.get(CACHE_ENV, "").strip():
        return Path(value).resolve()
    if os.geteuid() == 0:
        return Path("/var/cache/cronspec")
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "cronspec"


def _missing_sources(part: Part) -> str | None:
    root = vendor_dir()
    if root is None:
        return (
            f"{VENDOR_ENV} is not set (point it at the vendored sources, "
            f"e.g. {VENDOR_ENV}=../shared/vendor, then {HOW})"
        )
    for folder in part.sources:
        if not (root / folder).is_dir():
            return (
                f"{root / folder} does not exist (set {VENDOR_ENV} to the folder holding "
                f"{', '.join(part.sources)}, then {HOW})"
            )
    return None


@cache
def _tool_output(argv: tuple[str, ...]) -> str:
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        return f"{argv[0]}: {exc.strerror}"
    return f"{proc.returncode}\n{proc.stdout}{proc.stderr}"


@cache
def digest(key: str) -> str:
    """Hash of a part's sources (paths, modes, contents), recipe and build tools."""
    part = PARTS[key]
    root = vendor_dir()
    assert root is not None
    h = hashlib.sha256(f"{part.name}\nrecipe {part.recipe}\n".encode())
    for folder in part.sources:
        base = root / folder
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            mode = "x" if path.stat().st_mode & stat.S_IXUSR else "-"
            h.update(f"{rel}\0{mode}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    for argv in part.tools:
        h.update(("\0".join(argv) + "\0" + _tool_output(argv)).encode())
    return h.hexdigest()[:16]


def target(key: str) -> Path:
    part = PARTS[key]
    return cache_dir() / f"{part.name}-{digest(key)}"


def locate(key: str) -> Path | str:
    """The built part's folder, or one line saying what is missing and how to get it."""
    part = PARTS[key]
    if reason := _missing_sources(part):
        return reason
    path = target(key)
    if (path / STAMP).is_file():
        return path
    return f"not built from these sources yet ({path} is missing): {HOW}"


# -- building ----------------------------------------------------------------------------------


def _run(argv: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        raise VendorError(
            f"`{' '.join(argv)}` failed (exit {proc.returncode}): {tail[0]}; see {log}"
        )


def _writable_copy(source: Path, dest: Path) -> Path:
    """Copy a read-only source tree to a scratch folder the build may write into."""
    shutil.copytree(source, dest, symlinks=True)
    for path in [dest, *dest.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IRUSR)
    return dest


def _build_pg(out: Path, scratch: Path, log: Path) -> None:
    root = vendor_dir()
    assert root is not None
    # 1. the private prefix: Debian's PostgreSQL 15, pg_partman included (copied as installed)
    lib = out / DEBIAN_PG.relative_to("/")
    share = out / DEBIAN_PG_SHARE.relative_to("/")
    shutil.copytree(DEBIAN_PG, lib, symlinks=True)
    shutil.copytree(DEBIAN_PG_SHARE, share, symlinks=True)
    # Debian's pg_cron 1.4.2 must not linger in the 1.6 server
    for stale in [*(lib / "lib").glob("pg_cron*"), *(share / "extension").glob("pg_cron*")]:
        stale.unlink()
    # 2. pg_cron and pg_net with PGXS against Debian's pg_config, installed with DESTDIR
    jobs = f"-j{os.cpu_count() or 1}"
    for folder in ("pg_cron-1.6.7", "pg_net-0.20.5"):
        src = _writable_copy(root / folder, scratch / folder)
        _run(["make", jobs, f"PG_CONFIG={PG_CONFIG}"], log, src)
        _run(["make", "install", f"PG_CONFIG={PG_CONFIG}", f"DESTDIR={out}"], log, src)
    for name in ("pg_cron.so", "pg_net.so"):
        if not (lib / "lib" / name).is_file():
            raise VendorError(f"{lib / 'lib' / name} was not installed; see {log}")


def _build_oban(out: Path, scratch: Path, log: Path) -> None:
    root = vendor_dir()
    assert root is not None
    _run(["bash", str(root / "oban-stack" / "build.sh"), str(out)], log, scratch)
    # build.sh's scratch (Mix's build state and MIX_HOME) is not needed at run time
    for leftover in (".build", ".mix", ".hex"):
        shutil.rmtree(out / leftover, ignore_errors=True)
    (out / "env.sh").unlink(missing_ok=True)  # it names the scratch folder; use ERL_LIBS=lib


def _build_parser(out: Path, scratch: Path, log: Path) -> None:
    root = vendor_dir()
    assert root is not None
    source = root / "oban-2.23.1-cron-expression" / "expression.ex"
    (out / "ebin").mkdir(parents=True)
    _run(["elixirc", "-o", str(out / "ebin"), str(source)], log, scratch)
    if not (out / "ebin" / "Elixir.Oban.Cron.Expression.beam").is_file():
        raise VendorError(f"elixirc produced no Oban.Cron.Expression; see {log}")


BUILDERS: dict[str, Callable[[Path, Path, Path], None]] = {
    "pg": _build_pg,
    "oban": _build_oban,
    "parser": _build_parser,
}


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(key: str) -> tuple[Path, float | None]:
    """Build the part unless it is cached; (its folder, seconds spent or None if cached)."""
    part = PARTS[key]
    if reason := _missing_sources(part):
        raise VendorError(f"missing: {reason}")
    for tool in part.needs:
        if shutil.which(tool) is None:
            raise VendorError(f"{part.title}: `{tool}` not found; run scripts/install-test-deps.sh")
    final = target(key)
    cache = final.parent
    cache.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # the server runs as postgres and must reach the prefix
        cache.chmod(cache.stat().st_mode | 0o755)
    with _lock(cache / f".{part.name}.lock"):
        if (final / STAMP).is_file():
            return final, None
        started = time.monotonic()
        shutil.rmtree(final, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{part.name}-", dir=cache))
        try:
            out, scratch = work / "out", work / "scratch"
            out.mkdir()
            scratch.mkdir()
            log = cache / f"{final.name}.log"
            log.write_text(f"building {part.title} into {final}\n")
            BUILDERS[key](out, scratch, log)
            (out / STAMP).write_text(f"{part.title}\nsources: {', '.join(part.sources)}\n")
            out.chmod(0o755)
            out.rename(final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return final, time.monotonic() - started


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command not in {"build", "status"} or len(argv) > 1:
        print("usage: vendor.py [build|status]", file=sys.stderr)
        return 2
    in_ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    failed = False
    for key, part in PARTS.items():
        if command == "status" or _missing_sources(part):
            where = locate(key)
            print(f"vendor: {part.title}: {'missing: ' if isinstance(where, str) else ''}{where}")
            failed |= isinstance(where, str)
            continue
        try:
            path, seconds = build(key)
        except VendorError as exc:
            print(f"vendor: error: {part.title}: {exc}", file=sys.stderr)
            failed = True
            continue
        done = "cached" if seconds is None else f"built in {seconds:.1f} s"
        print(f"vendor: {part.title}: {done}: {path}")
    # Outside CI a missing part only makes its tests skip; in CI every test must run.
    return 1 if failed and (in_ci or (command == "build" and vendor_dir() is not None)) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
