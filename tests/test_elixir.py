"""generated/oban_crontab.exs read by the real Elixir: it parses, evaluates and means the plan.

One `elixir tests/elixir/check_server.exs` process serves the whole session (see
`elixir_checker`), so each file costs a request, not an Elixir start. For every file it checks:

- `Code.string_to_quoted!/2` accepts it, and `Code.eval_file/1` evaluates it without warnings
  (stub worker modules, one per alias in the file, are defined first);
- the term is `%{timezone: tz, crontab: [{expr, Worker} | {expr, Worker, opts}],
  startup: [{Worker, args, opts}]}` with 5-field expressions and keyword opts;
- the README's way to use it (tests/elixir/load_crontab.exs: the Oban.Plugins.Cron config and
  `for {worker, args, opts} <- startup, do: worker.new(args, opts) |> Oban.insert!()`, run
  against stubs that build job params as Oban.Job.new/2 does) makes exactly the plan's jobs.

test_adversarial.py reuses `check_crontab` for its spec sets.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import math
import selectors
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, elixir_reason, need

from cronspec.api import compile_project, compile_specs
from cronspec.plan import ObanJob, Plan
from cronspec.render.oban import elixir_float, elixir_string, elixir_term, render_crontab

pytestmark = pytest.mark.elixir

ELIXIR_DIR = Path(__file__).parent / "elixir"
CHECK_SERVER = ELIXIR_DIR / "check_server.exs"
LOAD_CRONTAB = ELIXIR_DIR / "load_crontab.exs"
ANSWER_TIMEOUT = 60.0  # seconds for one request (an Elixir start is ~1 s)
OPT_KEYS = {"args", "queue", "priority", "max_attempts"}


# -- the tagged JSON that tests/elixir/support.exs prints ------------------------------------


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


def plain(value: Any) -> Any:
    """A decoded job-params map with atom keys as strings (what Oban stores)."""
    if isinstance(value, dict):
        return {k.name if isinstance(k, Atom) else k: v for k, v in value.items()}
    return value


# -- one Elixir process answering parse/eval requests ------------------------------------------


@dataclass(frozen=True)
class Evaluated:
    term: Any  # the file's value, decoded
    load: dict[str, Any]  # load_crontab.exs's result: timezone, cron, startup (job params)


class ElixirChecker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["elixir", str(CHECK_SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="ascii",  # requests are paths; answers are ASCII-only JSON
            cwd=ROOT,
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def _ask(self, request: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        assert "\n" not in request
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        if not self.selector.select(ANSWER_TIMEOUT):
            self.close()
            raise AssertionError(f"elixir did not answer {request!r} in {ANSWER_TIMEOUT} s")
        line = self.proc.stdout.readline()
        if not line:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"elixir exited on {request!r}: {stderr[-2000:]}")
        answer = decode(json.loads(line))
        assert isinstance(answer, dict)
        return answer

    def parse(self, path: Path) -> None:
        answer = self._ask(f"parse {path}")
        assert answer["ok"], f"{path} does not parse as Elixir:\n{answer['error']}"

    def evaluate(self, path: Path) -> Evaluated:
        answer = self._ask(f"eval {path}")
        assert answer["ok"], f"{path} does not evaluate as Elixir:\n{answer['error']}"
        assert answer["warnings"] == "", f"{path}: Elixir warns:\n{answer['warnings']}"
        return Evaluated(answer["term"], answer["load"])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


_CHECKER: ElixirChecker | None = None


def elixir_checker() -> ElixirChecker:
    """The session's Elixir checker, started on first use; skips (fails in CI) without Elixir."""
    global _CHECKER
    need(elixir_reason(), "Elixir (Debian's `elixir`)")
    if _CHECKER is None or _CHECKER.proc.poll() is not None:
        _CHECKER = ElixirChecker()
        atexit.register(_CHECKER.close)
    return _CHECKER


@pytest.fixture
def elixir() -> ElixirChecker:
    return elixir_checker()


# -- what a file must mean ---------------------------------------------------------------------


def oban_worker(worker: str) -> str:
    """Oban.Worker.to_string/1: how Oban names the worker module in a job."""
    return worker.removeprefix("Elixir.")


def job_params(job: ObanJob) -> dict[str, Any]:
    """The params Oban.Job.new/2 makes for this job: args always, queue as a string."""
    params: dict[str, Any] = {"worker": oban_worker(job.worker), "args": {}}
    for key, value in job.opts:
        params[key] = str(value) if key == "queue" else value
    return params


def expected_load(plan: Plan) -> dict[str, Any]:
    return {
        "timezone": plan.oban_timezone,
        "cron": [(job.expr, job_params(job)) for job in plan.oban_jobs if job.expr],
        "startup": [job_params(job) for job in plan.oban_jobs if job.expr is None],
    }


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
        assert len(fields) == 5 and all(fields), f"not a 5-field cron expression: {expr!r}"
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


def check_crontab(checker: ElixirChecker, path: Path, plan: Plan) -> Evaluated:
    """`path` parses, evaluates and, used as the README says, makes exactly the plan's jobs."""
    checker.parse(path)
    result = checker.evaluate(path)
    check_shape(result.term, plan)
    load = decode_load(result.load)
    want = expected_load(plan)
    assert same(load, want), f"{path}: Elixir made\n{load!r}\nthe plan says\n{want!r}"
    return Evaluated(result.term, load)


def decode_load(load: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "timezone": load["timezone"],
        "cron": [(expr, plain(params)) for expr, params in load["cron"]],
        "startup": [plain(params) for params in load["startup"]],
    }


def write_crontab(root: Path, plan_files: Mapping[str, str]) -> Path:
    path = root / "oban_crontab.exs"
    path.write_text(plan_files["oban_crontab.exs"], encoding="utf-8")
    return path


# -- the example ---------------------------------------------------------------------------


def test_example_crontab_evaluates_to_the_plan(example: Path, elixir: ElixirChecker) -> None:
    outcome = compile_project(example)
    assert outcome.compiled.ok, outcome.diagnostics
    plan = outcome.compiled.plan
    assert plan is not None
    path = example / "generated" / "oban_crontab.exs"
    result = check_crontab(elixir, path, plan)
    # A few facts of the example, written out rather than derived from the plan.
    backup = [
        p for _, p in result.load["cron"] if p["worker"] == "Singularity.Jobs.DatabaseBackupWorker"
    ]
    assert (
        backup
        == [
            {
                "worker": "Singularity.Jobs.DatabaseBackupWorker",
                "args": {"format": "custom"},
                "queue": "maintenance",
                "max_attempts": 2,
            }
        ]
        * 2
    )
    assert {
        "worker": "Singularity.Jobs.CodeIngestWorker",
        "args": {},
        "queue": "ingest",
        "max_attempts": 3,
    } in result.load["startup"]
    assert result.load["timezone"] == "Etc/UTC"


def test_committed_example_crontab_evaluates_to_the_plan(elixir: ElixirChecker) -> None:
    """The repository's own generated/oban_crontab.exs, as committed."""
    compiled = compile_specs(ROOT)
    assert compiled.plan is not None, compiled.diagnostics
    check_crontab(elixir, ROOT / "generated" / "oban_crontab.exs", compiled.plan)


def test_load_crontab_script_runs_standalone(example: Path) -> None:
    """`elixir tests/elixir/load_crontab.exs FILE`, as a reader of the README would run it."""
    need(elixir_reason(), "Elixir (Debian's `elixir`)")
    compiled = compile_specs(example)
    assert compiled.plan is not None
    path = write_crontab(example, compiled.files)
    run = subprocess.run(
        ["elixir", str(LOAD_CRONTAB), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    (line,) = run.stdout.splitlines()
    load = decode_load(decode(json.loads(line)))
    assert same(load, expected_load(compiled.plan))


# -- every shape the renderer writes -----------------------------------------------------------


def spec(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


APP = ("description: d", "kind: app")
SHAPES = {
    "bare.yaml": spec("name: bare", *APP, 'schedule: "*/5 * * * *"', "worker: A.Bare"),
    "full.yaml": spec(
        "name: full",
        *APP,
        'schedule: ["@startup", "0 1 * * 1-5", "@daily"]',
        "worker: A.B_c.D9",
        "args: {mode: full, n: 3, f: 0.1, big: 123456789012345678901234567890, neg: -7,",
        "       nested: {l: [1, [], {}, null, true, false, -0.0, 1.0e+300, 5.0e-324]}}",
        "queue: q_1",
        "priority: 0",
        "max_attempts: 100",
    ),
    "startup-only.yaml": spec(
        "name: startup-only",
        *APP,
        'schedule: "@startup"',
        "worker: Elixir.A.Startup",
        "args: {only: startup}",
        "priority: 9",
    ),
    "nil-queue.yaml": spec(
        "name: nil-queue",
        *APP,
        'schedule: ["@startup", "0 0 * * *"]',
        "worker: A.Nil",
        "queue: nil",
    ),
    "true-queue.yaml": spec(
        "name: true-queue", *APP, 'schedule: "0 0 * * *"', "worker: A.True", "queue: 'true'"
    ),
    "false-queue.yaml": spec(
        "name: false-queue", *APP, 'schedule: "@startup"', "worker: A.False", "queue: 'false'"
    ),
    "keyword-queue.yaml": spec(
        "name: keyword-queue", *APP, 'schedule: "0 0 * * *"', "worker: A.Do", "queue: do"
    ),
    "off.yaml": spec("name: off", *APP, 'schedule: "0 0 * * *"', "worker: A.Off", "enabled: false"),
    "sql-on-oban.yaml": spec(
        "name: sql-on-oban",
        "description: d",
        "kind: sql",
        'schedule: "0 0 * * *"',
        "executor: oban",
        "worker: A.Sql",
        "sql: SELECT 1;",
    ),
}


@pytest.mark.parametrize(
    ("specs", "toml"),
    [
        pytest.param(SHAPES, None, id="every-option"),
        pytest.param(
            {"only.yaml": SHAPES["bare.yaml"].replace("bare", "only")},
            'timezone = "Europe/Berlin"\n',
            id="berlin-crontab-only",
        ),
        pytest.param(
            {"only.yaml": SHAPES["startup-only.yaml"].replace("startup-only", "only")},
            None,
            id="startup-only",
        ),
        pytest.param(
            {
                "x.yaml": spec(
                    "name: x", "description: d", "kind: sql", "schedule: '@daily'", "sql: SELECT 1;"
                )
            },
            None,
            id="no-oban-task",
        ),
    ],
)
def test_every_shape_evaluates_to_the_plan(
    project: Callable[..., Path], elixir: ElixirChecker, specs: dict[str, str], toml: str | None
) -> None:
    root = project(specs, toml)
    compiled = compile_specs(root)
    assert compiled.ok, compiled.diagnostics
    assert compiled.plan is not None
    check_crontab(elixir, write_crontab(root, compiled.files), compiled.plan)


def test_reserved_queue_names_keep_their_name(
    project: Callable[..., Path], elixir: ElixirChecker
) -> None:
    """`queue: nil` was written `queue: :nil`, which Elixir reads as nil (the default queue)."""
    root = project({k: v for k, v in SHAPES.items() if "queue" in k})
    compiled = compile_specs(root)
    assert compiled.plan is not None
    load = check_crontab(elixir, write_crontab(root, compiled.files), compiled.plan).load
    queues = sorted(p["queue"] for p in [*load["startup"], *(p for _, p in load["cron"])])
    assert queues == ["do", "false", "nil", "nil", "true"]


def test_startup_args_reach_worker_new(project: Callable[..., Path], elixir: ElixirChecker) -> None:
    """Oban.Job.new/2 overwrites an `args:` option with its first argument: startup entries
    carry args apart, as {Worker, args, opts}."""
    root = project({"startup-only.yaml": SHAPES["startup-only.yaml"]})
    compiled = compile_specs(root)
    assert compiled.plan is not None
    load = check_crontab(elixir, write_crontab(root, compiled.files), compiled.plan).load
    assert load["startup"] == [{"worker": "A.Startup", "args": {"only": "startup"}, "priority": 9}]


def test_checker_rejects_broken_elixir(tmp_path: Path, elixir: ElixirChecker) -> None:
    """The checks are not vacuous: an unescaped interpolation or a bad term fails them."""
    bad = tmp_path / "bad.exs"
    bad.write_text('%{timezone: "#{"}\n', encoding="utf-8")
    with pytest.raises(AssertionError, match="does not parse"):
        elixir.parse(bad)
    warns = tmp_path / "warns.exs"
    warns.write_text(
        '%{timezone: "UTC", crontab: [], startup: [], crontab: []}\n', encoding="utf-8"
    )
    with pytest.raises(AssertionError, match="warns"):
        elixir.evaluate(warns)


# -- elixir_term without Elixir ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e16, "1.0e16"),
        (1.5e-07, "1.5e-7"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (5e-324, "5.0e-324"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
    ],
)
def test_elixir_float(value: float, text: str) -> None:
    assert elixir_float(value) == text


def test_elixir_string_escapes_everything_but_printable_ascii() -> None:
    assert elixir_string('a"b\\c#{d}\n\t\r\0\x7f\u2028\U0001f600é') == (
        '"a\\"b\\\\c\\#{d}\\n\\t\\r\\u{0}\\u{7F}\\u{2028}\\u{1F600}\\u{E9}"'
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("\ud800", ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ({1: "x"}, TypeError),
        (b"bytes", TypeError),
    ],
)
def test_elixir_term_refuses_what_elixir_cannot_mean(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        elixir_term(value)


@pytest.mark.parametrize(
    "job",
    [
        ObanJob("* * * * *", 'Foo\nIO.puts("pwned")', (), "x"),
        ObanJob(None, "Foo.bar()", (), "x"),
        ObanJob("* * * * *", "Foo", (), "x\nIO.puts(1)"),
    ],
)
def test_code_positions_refuse_anything_but_names(example: Path, job: ObanJob) -> None:
    """Worker aliases and task names are written as code: the renderer checks them again."""
    plan = compile_specs(example).plan
    assert plan is not None
    with pytest.raises(ValueError):
        render_crontab(dataclasses.replace(plan, oban_jobs=(job,)))
