"""generated/oban_crontab.exs read by the real Elixir and loaded into the real Oban 2.18.3.

One Elixir VM serves the session (tests/support/oban.py, tests/elixir/server.exs). For every
crontab the suite generates here, `check_crontab`:

- parses it (`Code.string_to_quoted!/2`) and evaluates it without warnings to
  `%{timezone: tz, crontab: [{expr, Worker} | {expr, Worker, opts}], startup: [{Worker, args,
  opts}]}` with 5-field expressions and keyword opts;
- runs the README's two snippets with it against the real Oban on the test cluster: the config
  snippet starts Oban with its Cron plugin (Oban validates every entry there), the boot snippet
  enqueues the startup jobs, which real workers perform; the Cron plugin then inserts one job per
  crontab entry (on a second instance where every entry is at @reboot, so it fires now);
- and compares every job Oban inserted with the plan: worker, args (exact Elixir terms), queue,
  priority, max_attempts, tags and meta (the spec's, and `cronspec_task`; a startup job's also
  `cronspec_deploy`), in the `%Oban.Job{}` and in its `oban_jobs` row.

test_adversarial.py uses the same check for its spec sets; test_oban.py compares schedules.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.cases import CASES_DIR, case_names, must_fail
from support.common import ROOT
from support.oban import ElixirServer, Oban, check_crontab, write_crontab

from cronspec.api import compile_project, compile_specs
from cronspec.plan import ObanJob
from cronspec.render.oban import elixir_float, elixir_string, elixir_term, render_crontab

pytestmark = pytest.mark.elixir


# -- the example ---------------------------------------------------------------------------


def test_example_crontab_loads_into_oban(example: Path, oban: Oban) -> None:
    outcome = compile_project(example)
    assert outcome.compiled.ok, outcome.diagnostics
    plan = outcome.compiled.plan
    assert plan is not None
    booted = check_crontab(oban, example, plan)
    # A few facts of the example, written out rather than derived from the plan.
    backups = [
        (j.args, j.queue, j.max_attempts, j.row["priority"])
        for j in booted.cron
        if j.worker == "Singularity.Jobs.DatabaseBackupWorker"
    ]
    assert backups == [({"format": "custom"}, "maintenance", 2, 0)] * 2
    ingest = [j for j in booted.startup if j.worker == "Singularity.Jobs.CodeIngestWorker"]
    assert [(j.row["args"], j.row["queue"], j.row["max_attempts"]) for j in ingest] == [
        ("{}", "ingest", 3)
    ]
    assert booted.timezone == "Etc/UTC"


def test_committed_example_crontab_loads_into_oban(oban: Oban) -> None:
    """The repository's own generated/oban_crontab.exs, as committed."""
    compiled = compile_specs(ROOT)
    assert compiled.plan is not None, compiled.diagnostics
    check_crontab(oban, ROOT, compiled.plan)


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
        "tags: [nightly, 'team:search', 'two words', é]",
        "meta: {team: search, n: 1, f: 0.5, 'quote\"': '#{x}', nested: {l: [1, {}, null]}}",
        "unique: {period: 300, fields: [worker, args], keys: [mode], states: [available],",
        "         timestamp: scheduled_at}",
    ),
    "unique-forever.yaml": spec(
        "name: unique-forever",
        *APP,
        'schedule: "0 0 * * *"',
        "worker: A.Forever",
        "unique: {period: infinity}",
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
def test_every_shape_loads_into_oban(
    project: Callable[..., Path], oban: Oban, specs: dict[str, str], toml: str | None
) -> None:
    root = project(specs, toml)
    compiled = compile_specs(root)
    assert compiled.ok, compiled.diagnostics
    assert compiled.plan is not None
    write_crontab(root, compiled.files)
    check_crontab(oban, root, compiled.plan)


@pytest.mark.parametrize("case", [n for n in case_names() if not must_fail(n)])
def test_golden_cases_load_into_oban(tmp_path: Path, oban: Oban, case: str) -> None:
    """Every golden case that compiles (tests/cases/) goes through real Oban too."""
    root = tmp_path / case
    shutil.copytree(CASES_DIR / case, root)
    compiled = compile_specs(root)
    assert compiled.ok and compiled.plan is not None, compiled.diagnostics
    write_crontab(root, compiled.files)
    check_crontab(oban, root, compiled.plan)


def test_reserved_queue_names_keep_their_name(project: Callable[..., Path], oban: Oban) -> None:
    """`queue: nil` was written `queue: :nil`, which Elixir reads as nil (the default queue)."""
    root = project({k: v for k, v in SHAPES.items() if "queue" in k})
    compiled = compile_specs(root)
    assert compiled.plan is not None
    write_crontab(root, compiled.files)
    booted = check_crontab(oban, root, compiled.plan)
    queues = sorted(j.row["queue"] for j in [*booted.startup, *booted.cron])
    assert queues == ["do", "false", "nil", "nil", "true"]


def test_startup_args_reach_worker_new(project: Callable[..., Path], oban: Oban) -> None:
    """Oban.Job.new/2 overwrites an `args:` option with its first argument: startup entries
    carry args apart, as {Worker, args, opts}."""
    root = project({"startup-only.yaml": SHAPES["startup-only.yaml"]})
    compiled = compile_specs(root)
    assert compiled.plan is not None
    write_crontab(root, compiled.files)
    (job,) = check_crontab(oban, root, compiled.plan).startup
    assert (job.worker, job.args, job.priority) == ("A.Startup", {"only": "startup"}, 9)
    assert (job.row["args"], job.row["state"]) == ('{"only": "startup"}', "completed")


def test_checker_rejects_broken_elixir(tmp_path: Path, elixir: ElixirServer) -> None:
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
