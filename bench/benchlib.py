"""Helpers shared by the benchmarks: timing a child process, the machine, RESULTS.md sections.

Standard library only, so that it can be imported before anything heavy.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
WORK = BENCH_DIR / "work"

PACKAGES = (
    "cronspec",
    "pydantic",
    "pydantic-core",
    "sqlglot",
    "PyYAML",
    "croniter",
    "sqlfluff",
    "psycopg",
    "psycopg-binary",
)


@dataclass(frozen=True)
class Sample:
    """One child process: wall time and CPU time (user + system) in seconds, and peak resident
    memory in MB (10^6 bytes)."""

    wall: float
    cpu: float
    maxrss_mb: float


class ChildFailed(RuntimeError):
    pass


def child_env() -> dict[str, str]:
    """The environment for measured children: bytecode caching on, as on a developer's machine
    (this sandbox sets PYTHONDONTWRITEBYTECODE=1), with the cache under bench/work/ so that
    nothing is written into src/."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def run_child(
    argv: Sequence[str], cwd: Path | None = None, *, ok_codes: Iterable[int] = (0,)
) -> Sample:
    """Run `argv` as a fresh process; its own rusage comes from os.wait4, so the peak memory
    is this child's, not the largest of all children so far (RUSAGE_CHILDREN's maximum)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in set(ok_codes):
            out.seek(0)
            tail = out.read()[-3000:].decode("utf-8", "replace")
            raise ChildFailed(f"{' '.join(argv)} (cwd {cwd}) exited {proc.returncode}:\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, cpu, usage.ru_maxrss * 1024 / 1e6)  # Linux reports KiB


def wait_for_quiet(max_wait: float, threshold: float = 1.0) -> float:
    """Wait (up to `max_wait` seconds) for the 1-minute load average to fall below
    `threshold`; return the load average when starting."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return float("nan")
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 / 1024 if match else float("nan")


def package_versions(names: Iterable[str] = PACKAGES) -> str:
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def git_state() -> str:
    """HEAD, and a digest of src/ so that uncommitted edits (others work there concurrently)
    are told apart."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    digest = hashlib.sha256()
    for path in sorted((REPO / "src").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "src") else ""
    return f"{head}{dirty} (src/*.py sha256 {digest.hexdigest()[:12]})"


START_GIT = git_state()
START_LOAD = os.getloadavg()[0]


def machine_lines() -> list[str]:
    lines = [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; RAM {ram_gib():.1f} GiB; "
        f"load average (1 min) at start {START_LOAD:.2f}, at end {os.getloadavg()[0]:.2f}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- Packages: {package_versions()}",
        f"- cronspec source: git {START_GIT}",
    ]
    end = git_state()
    if end != START_GIT:
        lines.append(f"- **src/ changed during the run**: at the end it was {end}")
    return lines


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        shown = script.relative_to(REPO).as_posix()
    except ValueError:
        shown = str(script)
    return " ".join([".venv/bin/python", shown, *sys.argv[1:]])


_HEADER = (
    "# cronspec benchmarks\n\n"
    "Generated by `bench/compile_bench.py` and `bench/db_bench.py`; notes outside the marked "
    "sections are kept when they rerun.\n"
)


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace the section between `<!-- name:start -->` and `<!-- name:end -->` in RESULTS.md
    (appending it when absent); the rest of the file, including hand-written notes, stays."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n")


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def example_copy(cronspec: Path) -> Path:
    """A copy of the repository's example (specs/, cronspec.toml) in bench/work/example/, with
    generated/ compiled fresh by the current cronspec: an up-to-date tree that others' edits to
    src/ or generated/ cannot make stale half-way through a benchmark."""
    root = WORK / "example"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "specs", root / "specs")
    if (REPO / "cronspec.toml").exists():
        shutil.copy2(REPO / "cronspec.toml", root / "cronspec.toml")
    run_child([str(cronspec), "-C", str(root), "compile"])
    return root
