"""The Elixir side of the suite: one Elixir VM per session, with the real Oban 2.18.3 on it.

`tests/elixir/server.exs` answers requests on a pipe (see its header). It always parses and
evaluates files with Debian's Elixir; when the oban-stack is built (tests/support/vendor.py), it
runs with the stack on ERL_LIBS and also boots a real Oban on the test cluster, runs the
README's config and boot snippets there, and computes next runs the way Oban's Cron plugin
does. Oban 2.23.1's parser is a separate one-shot VM (`parse_with_2_23`): its module has the same
name as 2.18.3's.

`check_crontab` is the whole check of a generated crontab file: it parses, evaluates without
warnings to the expected shape, Oban starts with it, and the jobs Oban inserts (at boot, and
from each crontab entry) are the plan's, in Elixir terms and as rows in `oban_jobs`.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import selectors
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cronspec.plan import ObanJob, Plan
from support import vendor
from support.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
ELIXIR_DIR = ROOT / "tests" / "elixir"
SERVER = ELIXIR_DIR / "server.exs"
PARSE_2_23 = ELIXIR_DIR / "parse_expressions.exs"
ANSWER_TIMEOUT = 120.0  # seconds for one answer (a start is ~2 s; a boot well under 1 s)
OPT_KEYS = {"args", "queue", "priority", "max_attempts"}
OBAN_DB = "cronspec_oban"
# What Oban 2.18 puts in a job where the entry says nothing (Oban.Job's schema, oban_jobs)
DEFAULT_QUEUE, DEFAULT_MAX_ATTEMPTS, DEFAULT_PRIORITY = "default", 20, 0
HORIZON_DAYS = 366 * 29  # cronspec.schedule.next_runs scans as far


# -- the tagged JSON that tests/elixir/term.exs prints ------------------------------------------


@dataclass(frozen=True)
class Atom:
    name: str


def decode(value: Any) -> Any:
    """Tagged JSON to Python: atoms `Atom`, tuples `tuple`, maps `dict`, the rest as JSON."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        (tag, inner), *rest = value.items()
        assert not rest, f"untagged object {value!r}"
        if tag == "atom":
            return Atom(inner)
        if tag == "tuple":
            return tuple(decode(v) for v in inner)
        if tag == "map":
            return {decode(k): decode(v) for k, v in inner}
        raise AssertionError(f"unexpected Elixir term {tag}: {inner!r}")
    return value


def same(actual: Any, expected: Any) -> bool:
    """Equal, with floats equal only when they are the same double (sign of zero included)."""
    if isinstance(expected, float) or isinstance(actual, float):
        return (
            type(actual) is type(expected)
            and isinstance(actual, float)
            and (actual == expected and math.copysign(1, actual) == math.copysign(1, expected))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list | tuple):
        return (
            type(actual) is type(expected)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return type(actual) is type(expected) and actual == expected


def same_json(stored: Any, expected: Any) -> bool:
    """A value read back from jsonb equals what was inserted: jsonb keeps numbers as numeric, so
    a float comes back as the same number (`1.0e300` as an integer, `-0.0` as `0.0`)."""
    if isinstance(expected, float):
        return isinstance(stored, int | float) and float(stored) == expected
    if isinstance(expected, dict):
        return (
            isinstance(stored, dict)
            and stored.keys() == expected.keys()
            and all(same_json(stored[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(stored, list)
            and len(stored) == len(expected)
            and all(same_json(s, e) for s, e in zip(stored, expected, strict=True))
        )
    return same(stored, expected)


# -- the Elixir VM -------------------------------------------------------------------------------


class ElixirServer:
    """`elixir tests/elixir/server.exs`, with the oban-stack on ERL_LIBS when `erl_libs` is set."""

    def __init__(self, erl_libs: Path | None) -> None:
        env = dict(os.environ)
        env.pop("ERL_LIBS", None)
        if erl_libs is not None:
            env["ERL_LIBS"] = str(erl_libs)
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            ["elixir", str(SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="ascii",  # requests are paths and JSON; answers are ASCII-only JSON
            cwd=ROOT,
            env=env,
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.with_oban = erl_libs is not None
        self.connected: str | None = None
        atexit.register(self.close)

    def ask(self, op: str, arg: str | Mapping[str, Any] = "") -> dict[str, Any]:
        """One request; the decoded answer. Fails on an answer that says `ok: false`."""
        answer = self.request(op, arg)
        assert answer["ok"], f"elixir {op} failed:\n{answer['error']}"
        return answer

    def request(self, op: str, arg: str | Mapping[str, Any] = "") -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        text = arg if isinstance(arg, str) else json.dumps(arg, ensure_ascii=True)
        line = f"{op} {text}".rstrip()
        assert "\n" not in line
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AssertionError(f"elixir has exited:\n{self.log()[-3000:]}") from None
        if not self.selector.select(ANSWER_TIMEOUT):
            self.close()
            raise AssertionError(f"elixir did not answer {op!r} in {ANSWER_TIMEOUT} s")
        reply = self.proc.stdout.readline()
        if not reply:
            raise AssertionError(f"elixir exited on {op!r}:\n{self.log()[-3000:]}")
        answer = decode(json.loads(reply))
        assert isinstance(answer, dict)
        return answer

    def log(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read()
        self.stderr.seek(0, os.SEEK_END)
        return text

    def parse(self, path: Path) -> None:
        answer = self.request("parse", str(path))
        assert answer["ok"], f"{path} does not parse as Elixir:\n{answer['error']}"

    def evaluate(self, path: Path) -> Any:
        answer = self.request("eval", str(path))
        assert answer["ok"], f"{path} does not evaluate as Elixir:\n{answer['error']}"
        assert answer["warnings"] == "", f"{path}: Elixir warns:\n{answer['warnings']}"
        return answer["term"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        atexit.unregister(self.close)
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


# -- the real Oban -------------------------------------------------------------------------------


@cache
def readme_snippets() -> tuple[str, str]:
    """The README's Oban config snippet and boot snippet, as written there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## The Oban side\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```elixir\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2, f"README's Oban section has {len(blocks)} elixir blocks, not 2"
    return blocks[0], blocks[1]


@dataclass(frozen=True)
class Job:
    """A job Oban inserted: the Elixir values of its `%Oban.Job{}`, and its row in oban_jobs."""

    worker: str
    args: Any
    queue: str
    priority: int | None
    max_attempts: int
    tags: list[str]
    meta: dict[Any, Any]
    row: dict[str, Any]  # worker, args (jsonb text), queue, priority, max_attempts, state, ...

    @property
    def stored_args(self) -> Any:
        return json.loads(self.row["args"])


@dataclass(frozen=True)
class Boot:
    """What real Oban made of a project's crontab with the README's snippets."""

    accepted: bool
    error: str
    timezone: str
    startup: list[Job]  # inserted by the boot snippet, performed by real workers
    cron: list[Job]  # one per crontab entry, as the Cron plugin builds it


class Oban:
    """The real Oban 2.18.3 of the session, on its own database of the test cluster."""

    id = "oban-2.18.3"

    def __init__(self, server: ElixirServer, cluster: PgCluster) -> None:
        assert server.with_oban
        self.server = server
        if server.connected != cluster.host:
            cluster.sql(f"DROP DATABASE IF EXISTS {OBAN_DB}", dbname="postgres")
            cluster.sql(f"CREATE DATABASE {OBAN_DB}", dbname="postgres")
            server.ask(
                "connect",
                {
                    "socket_dir": cluster.host,
                    "port": cluster.port,
                    "user": cluster.user,
                    "database": OBAN_DB,
                },
            )
            server.connected = cluster.host
        self.version = server.ask("info")["oban"]
        self.snippets = _snippet_files()

    def boot(self, root: Path, *, config: Path | None = None, boot: Path | None = None) -> Boot:
        """Start Oban in `root` (which has generated/oban_crontab.exs) with the README's
        snippets, or the given snippet files."""
        answer = self.server.ask(
            "boot",
            {
                "root": str(root),
                "config": str(config or self.snippets[0]),
                "boot": str(boot or self.snippets[1]),
            },
        )
        if not answer["accepted"]:
            return Boot(False, answer["error"], "", [], [])
        return Boot(
            True,
            "",
            answer["timezone"],
            [_job(j) for j in answer["startup"]],
            [_job(j) for j in answer["cron"]],
        )

    def next_runs(
        self,
        items: Sequence[tuple[str, str, str, int]],
        horizon_days: int = HORIZON_DAYS,
        *,
        brute_force: bool = False,
    ) -> list[list[str] | str]:
        """For each (expr, zone, after ISO 8601, count): the runs as isoformat() strings,
        or Oban's parse error. `brute_force` asks now?/2 of every minute (slow)."""
        request = {"items": list(items), "horizon_days": horizon_days, "brute_force": brute_force}
        answer = self.server.ask("next", request)
        return [r["runs"] if "runs" in r else r["error"] for r in answer["runs"]]


@cache
def _snippet_files() -> tuple[Path, Path]:
    folder = Path(tempfile.mkdtemp(prefix="cronspec-oban-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    config, boot = readme_snippets()
    (folder / "config.exs").write_text("import Config\n" + config, encoding="utf-8")
    (folder / "boot.exs").write_text(boot, encoding="utf-8")
    return folder / "config.exs", folder / "boot.exs"


def _job(raw: Mapping[str, Any]) -> Job:
    return Job(
        raw["worker"],
        raw["args"],
        raw["queue"],
        raw["priority"],
        raw["max_attempts"],
        raw["tags"],
        raw["meta"],
        dict(raw["row"]),
    )


def parse_with_2_23(expressions: Sequence[str]) -> list[str | None]:
    """Oban 2.23.1's own parser on each expression: None if it parses, else its message.
    One Elixir start for the whole list."""
    ebin = vendor.locate("parser")
    assert isinstance(ebin, Path), ebin
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as listing:
        for expr in expressions:
            assert "\n" not in expr
            listing.write(expr + "\n")
        listing.flush()
        proc = subprocess.run(
            ["elixir", "-pa", str(ebin / "ebin"), str(PARSE_2_23), listing.name],
            capture_output=True,
            text=True,
            check=False,
            timeout=ANSWER_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 0, proc.stderr
    results = [decode(json.loads(line)) for line in proc.stdout.splitlines()]
    assert len(results) == len(expressions), proc.stdout
    return [None if r["ok"] else r["error"] for r in results]


# -- what a crontab file must mean ---------------------------------------------------------------


def oban_worker(worker: str) -> str:
    """Oban.Worker.to_string/1: how Oban names the worker module in a job."""
    return worker.removeprefix("Elixir.")


def expected_job(job: ObanJob) -> dict[str, Any]:
    """The job Oban must insert for a plan entry, Oban's defaults filled in."""
    opts = dict(job.opts)
    return {
        "worker": oban_worker(job.worker),
        "args": opts.get("args", {}),
        "queue": str(opts.get("queue", DEFAULT_QUEUE)),
        "priority": opts.get("priority", DEFAULT_PRIORITY),
        "max_attempts": opts.get("max_attempts", DEFAULT_MAX_ATTEMPTS),
    }


def check_job(actual: Job, want: Mapping[str, Any], where: str, *, performed: bool) -> None:
    """`actual` is `want` in Elixir terms (exactly) and as stored in oban_jobs."""
    got = {
        "worker": actual.worker,
        "args": actual.args,
        "queue": actual.queue,
        "priority": DEFAULT_PRIORITY if actual.priority is None else actual.priority,
        "max_attempts": actual.max_attempts,
    }
    assert same(got, dict(want)), f"{where}: Oban built\n{got!r}\nthe plan says\n{want!r}"
    row = actual.row
    stored = {k: row[k] for k in ("worker", "queue", "priority", "max_attempts")}
    assert stored == {k: want[k] for k in stored}, f"{where}: oban_jobs holds {row!r}"
    assert same_json(actual.stored_args, want["args"]), f"{where}: oban_jobs args {row['args']}"
    assert row["state"] == ("completed" if performed else "available"), row


def check_shape(term: Any, plan: Plan) -> None:
    assert isinstance(term, dict), term
    assert set(term) == {Atom("timezone"), Atom("crontab"), Atom("startup")}, term.keys()
    assert term[Atom("timezone")] == plan.oban_timezone
    crontab, startup = term[Atom("crontab")], term[Atom("startup")]
    assert isinstance(crontab, list) and isinstance(startup, list)
    cron_jobs = [j for j in plan.oban_jobs if j.expr]
    assert len(crontab) == len(cron_jobs)
    for entry, job in zip(crontab, cron_jobs, strict=True):
        assert isinstance(entry, tuple) and len(entry) in (2, 3), entry
        expr, worker = entry[0], entry[1]
        assert expr == job.expr
        fields = expr.split(" ")
        assert expr == "@reboot" or (len(fields) == 5 and all(fields)), (
            f"not a 5-field cron expression or @reboot: {expr!r}"
        )
        assert worker == Atom("Elixir." + oban_worker(job.worker))
        check_keyword(entry[2] if len(entry) == 3 else [], OPT_KEYS)
        assert (len(entry) == 3) == bool(job.opts)
    startup_jobs = [j for j in plan.oban_jobs if j.expr is None]
    assert len(startup) == len(startup_jobs)
    for entry, job in zip(startup, startup_jobs, strict=True):
        assert isinstance(entry, tuple) and len(entry) == 3, entry
        assert entry[0] == Atom("Elixir." + oban_worker(job.worker))
        assert isinstance(entry[1], dict) and all(isinstance(k, str) for k in entry[1])
        check_keyword(entry[2], OPT_KEYS - {"args"})


def check_keyword(opts: Any, allowed: set[str]) -> None:
    assert isinstance(opts, list), opts
    keys = []
    for pair in opts:
        assert isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], Atom), pair
        keys.append(pair[0].name)
    assert len(set(keys)) == len(keys) and set(keys) <= allowed, keys


def crontab_path(root: Path) -> Path:
    return root / "generated" / "oban_crontab.exs"


def write_crontab(root: Path, files: Mapping[str, str]) -> Path:
    """Put a compiled crontab where the README's snippets read it: ROOT/generated/."""
    path = crontab_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(files["oban_crontab.exs"], encoding="utf-8")
    return path


def check_crontab(oban: Oban, root: Path, plan: Plan) -> Boot:
    """ROOT/generated/oban_crontab.exs parses and evaluates without warnings to the plan's
    entries; real Oban starts with it through the README's snippets; the startup jobs it
    inserts and performs, and the job its Cron plugin inserts for each entry, are the plan's."""
    path = crontab_path(root)
    oban.server.parse(path)
    check_shape(oban.server.evaluate(path), plan)
    booted = oban.boot(root)
    assert booted.accepted, f"{path}: Oban {oban.version} refused it: {booted.error}"
    assert booted.timezone == plan.oban_timezone
    cron_jobs = [j for j in plan.oban_jobs if j.expr]
    startup_jobs = [j for j in plan.oban_jobs if j.expr is None]
    assert len(booted.startup) == len(startup_jobs), booted.startup
    assert len(booted.cron) == len(cron_jobs), booted.cron
    for actual, job in zip(booted.startup, startup_jobs, strict=True):
        check_job(actual, expected_job(job), f"{job.task} @startup", performed=True)
    for actual, job in zip(booted.cron, cron_jobs, strict=True):
        check_job(actual, expected_job(job), f"{job.task} {job.expr!r}", performed=False)
        assert actual.meta == {Atom("cron"): True, Atom("cron_expr"): "@reboot"}, actual.meta
    return booted
