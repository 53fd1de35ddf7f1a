"""`cronspec import --oban`: an Oban config file read by real Elixir, imported, compiled, and the
generated crontab loaded into the real Oban 2.18.3.

The config holds 18 entries in one Cron plugin (literal ones, and a module attribute, a function
call, a call inside args) and a second plugin whose crontab is a variable. Each imported entry
must come back as the same job: worker, args, queue, priority, max_attempts, tags and meta as
Oban builds them, and the same next runs in real Oban for the generated expression as for the
original one. What is listed is checked too: the expressions said to be rejected are rejected
by real Oban.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.common import elixir_reason, need
from support.dbtools import write_project
from support.oban import Oban, check_crontab

from cronspec.api import compile_specs
from cronspec.importer.crontab import Atom, MapLiteral
from cronspec.importer.elixir import read_crontab

pytestmark = pytest.mark.elixir
Cli = Callable[..., tuple[int, str, str]]

CONFIG = """\
import Config

config :shop, Oban,
  repo: Shop.Repo,
  queues: [default: 10, mailers: 5, reports: 2],
  plugins: [
    {Oban.Plugins.Pruner, max_age: 60 * 60 * 24 * 7},
    {Oban.Plugins.Cron,
     crontab: [
       {"*/5 * * * *", Shop.Workers.CartReaper},
       {"0 * * * *", Shop.Workers.StockSync, args: %{"source" => "erp", "full" => false}},
       {"@daily", Shop.Workers.DailyDigest, queue: :mailers, max_attempts: 3},
       {"0 9 * * MON-FRI", Shop.Workers.StandupReminder, priority: 1},
       {"0 0 1,15 * MON", Shop.Workers.PayoutRun, args: %{kind: :bi_weekly}},
       {"30 2 * JAN,JUL *", Shop.Workers.ArchiveOrders,
        args: %{"keep_days" => 365, "ratio" => 0.25, "tags" => ["old", nil]}},
       {"0 18 * * *", Shop.Workers.DailyDigest, max_attempts: 3, queue: :mailers},
       {"@reboot", Shop.Workers.WarmCache},
       {"15 */6 * * *", Shop.Workers.Reports, args: %{"window" => [6, "hours"]}, queue: "reports"},
       {@nightly, Shop.Workers.Nightly},
       {"0 3 * * *", Shop.Workers.Backup, args: %{"bucket" => System.get_env("BUCKET")}},
       reindex_entry(),
       {"0 4 * * 7", Shop.Workers.SundaySweep},
       {"0 5 * * sun", Shop.Workers.SundayMail},
       {"0 6 * * *", Shop.Workers.Tagged, tags: ["nightly"], meta: %{"n" => 2, team: "ops"},
        unique: [period: 300, fields: [:worker, :args], states: [:available, :scheduled]]},
       {"10-50/20 */2 * * *", Shop.Workers.Feed, args: %{"delta" => -3}, priority: 9},
       {"0 7 * * *", Shop.Workers.Replacer, replace: [scheduled: [:args]]}
     ]}
  ]

config :shop, Shop.SecondOban,
  plugins: [{Oban.Plugins.Cron, crontab: extra_crontab}]
"""

# the first entry is on line 10; each imported entry: its task and what Oban must build
IMPORTED: dict[int, tuple[str, dict[str, Any]]] = {
    10: ("cart-reaper", {"worker": "Shop.Workers.CartReaper"}),
    11: ("stock-sync", {"worker": "Shop.Workers.StockSync",
                        "args": {"source": "erp", "full": False}}),
    12: ("daily-digest", {"worker": "Shop.Workers.DailyDigest", "queue": "mailers",
                          "max_attempts": 3}),
    13: ("standup-reminder", {"worker": "Shop.Workers.StandupReminder", "priority": 1}),
    14: ("payout-run", {"worker": "Shop.Workers.PayoutRun", "args": {"kind": "bi_weekly"}}),
    15: ("archive-orders", {"worker": "Shop.Workers.ArchiveOrders",
                            "args": {"keep_days": 365, "ratio": 0.25, "tags": ["old", None]}}),
    17: ("daily-digest", {"worker": "Shop.Workers.DailyDigest", "queue": "mailers",
                          "max_attempts": 3}),
    18: ("warm-cache", {"worker": "Shop.Workers.WarmCache"}),
    19: ("reports", {"worker": "Shop.Workers.Reports", "args": {"window": [6, "hours"]},
                     "queue": "reports"}),
    25: ("tagged", {"worker": "Shop.Workers.Tagged", "tags": ["nightly"],
                    "meta": {"team": "ops", "n": 2},
                    "unique": {"period": 300, "fields": ["worker", "args"],
                               "states": ["available", "scheduled"]}}),
    27: ("feed", {"worker": "Shop.Workers.Feed", "args": {"delta": -3}, "priority": 9}),
}  # fmt: skip
LISTED = {
    20: "not a literal (a module attribute `@nightly`)",
    21: "not a literal (a function call `System.get_env/1`)",
    22: "not a literal (a function call `reindex_entry/0`)",
    23: "Oban rejects `0 4 * * 7` (its weekdays are 0-6; Sunday is 0)",
    24: "Oban rejects `0 5 * * sun` (it reads month and weekday names in upper case only)",
    28: "cronspec has no field for option `replace`",
    33: "the crontab is not a literal list (a variable `extra_crontab`)",
}
EXPRESSIONS = {
    10: "*/5 * * * *", 11: "0 * * * *", 12: "@daily", 13: "0 9 * * MON-FRI",
    14: "0 0 1,15 * MON", 15: "30 2 * JAN,JUL *", 17: "0 18 * * *", 19: "15 */6 * * *",
    25: "0 6 * * *", 27: "10-50/20 */2 * * *",
}  # fmt: skip


@pytest.fixture
def elixir_command() -> None:
    """Debian's `elixir` on PATH (the import runs it; no VM of the session is needed)."""
    need(elixir_reason(), "Elixir (Debian's `elixir`)")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "config.exs"
    path.parent.mkdir()
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_oban_import_round_trip(config: Path, tmp_path: Path, cli: Cli, oban: Oban) -> None:
    root = write_project(tmp_path / "proj", {}, 'project = "shop"\n')
    code, out, err = cli(root, "import", "--oban", str(config))
    assert code == 1, err  # some entries are listed
    shown = config.as_posix()
    wrote = re.findall(r"^wrote specs/(\S+)\.yaml: (.*)$", out, re.M)
    sources = {name: re.findall(rf"{re.escape(shown)}:(\d+):\d+", text) for name, text in wrote}
    assert {name: [int(n) for n in lines] for name, lines in sources.items()} == {
        name: [line for line, (task, _) in IMPORTED.items() if task == name]
        for name in {task for task, _ in IMPORTED.values()}
    }
    listed = dict(
        re.findall(rf"^not imported: {re.escape(shown)}:(\d+):\d+(?: \(\S+\))?: (.*)$", out, re.M)
    )
    assert {int(k) for k in listed} == set(LISTED)
    for line, words in LISTED.items():
        assert listed[str(line)].startswith(words), listed[str(line)]
    assert f"cronspec import: {len(wrote)} written, {len(LISTED)} not imported" in err

    spec = (root / "specs" / "payout-run.yaml").read_text()
    assert "day_match: all" in spec and "executor: oban" in spec and "kind: app" in spec
    assert (root / "specs" / "daily-digest.yaml").read_text().count("  - ") == 2

    # (R701, jobs crowding one minute, is about the team's schedules, not about the import)
    code, _, err = cli(root, "compile")
    warnings = [line for line in err.splitlines() if "warning[" in line]
    assert code == 0 and "error" not in err, err
    assert all("warning[R701]" in line for line in warnings), err
    plan = compile_specs(root).plan
    assert plan is not None
    # The generated crontab loads into the real Oban, which builds each entry's job as planned.
    booted = check_crontab(oban, root, plan)
    built = sorted(
        (j.worker, j.args, j.queue, j.priority or 0, j.max_attempts) for j in booted.cron
    )
    want = sorted(
        (
            job["worker"],
            job.get("args", {}),
            job.get("queue", "default"),
            job.get("priority", 0),
            job.get("max_attempts", 20),
        )
        for _, job in IMPORTED.values()
    )
    assert built == want
    # tags and meta as Oban built them (meta: the spec's, with cronspec's own task key; the
    # Cron plugin adds its own, atom-keyed)
    tagged = [j for j in booted.cron if j.worker == "Shop.Workers.Tagged"]
    strings = [{k: v for k, v in j.meta.items() if isinstance(k, str)} for j in tagged]
    assert [(j.tags, meta) for j, meta in zip(tagged, strings, strict=True)] == [
        (["nightly"], {"team": "ops", "n": 2, "cronspec_task": "tagged"})
    ]
    spec = (root / "specs" / "tagged.yaml").read_text()
    assert (
        'unique: {"period": 300, "fields": ["worker", "args"], "states": ["available", '
        '"scheduled"]}\n' in spec
    ), spec
    tagged_plan = [j for j in plan.oban_jobs if j.task == "tagged"]
    assert [dict(j.opts)["unique"] for j in tagged_plan] == [
        (("period", 300), ("fields", ("worker", "args")), ("states", ("available", "scheduled")))
    ]
    # Each generated expression fires when the original one does, in real Oban.
    generated = {j.task: [] for j in plan.oban_jobs}
    for j in plan.oban_jobs:
        generated[j.task].append(j.expr)
    pairs = []
    for task in generated:
        lines = [line for line, (name, _) in IMPORTED.items() if name == task]
        pairs += [
            (EXPRESSIONS[line], expr)
            for line, expr in zip(lines, generated[task], strict=True)
            if line in EXPRESSIONS
        ]
    assert len(pairs) == len(EXPRESSIONS)
    after = "2026-01-01T00:00:00Z"
    runs = oban.next_runs([(e, "Etc/UTC", after, 12) for pair in pairs for e in pair])
    for i, (original, emitted) in enumerate(pairs):
        assert runs[2 * i] == runs[2 * i + 1], (original, emitted)
        assert isinstance(runs[2 * i], list) and len(runs[2 * i]) == 12
    # What the import says Oban rejects, real Oban rejects.
    rejected = oban.next_runs(
        [("0 4 * * 7", "Etc/UTC", after, 1), ("0 5 * * sun", "Etc/UTC", after, 1)]
    )
    assert all(isinstance(r, str) for r in rejected), rejected


def test_oban_options_the_spec_refuses_are_listed_with_its_reason(
    tmp_path: Path, cli: Cli, elixir_command: None
) -> None:
    config = tmp_path / "options.exs"
    config.write_text(
        "import Config\n"
        "config :a, Oban, plugins: [{Oban.Plugins.Cron, crontab: [\n"
        '  {"0 1 * * *", A.One, unique: [states: :incomplete]},\n'
        '  {"0 2 * * *", A.Two, meta: %{"cron" => true}},\n'
        '  {"0 3 * * *", A.Three, tags: [:nightly]},\n'
        '  {"0 4 * * *", A.Four, unique: [period: :infinity, keys: [:id]], tags: []}\n'
        "]}]\n"
    )
    root = write_project(tmp_path / "proj", {}, "")
    code, out, _ = cli(root, "import", "--oban", str(config))
    assert code == 1
    listed = dict(re.findall(r"^not imported: \S+?:(\d+):\d+(?: \(\S+\))?: (.*)$", out, re.M))
    assert listed == {
        "3": "`unique.states` must be a list; YAML read `incomplete` as a string",
        "4": "`meta.cron` is Oban's own (the Cron plugin's mark of a scheduled job); use another "
        "key",
        "5": "`tags` is not a list of strings",
    }
    four = (root / "specs" / "four.yaml").read_text()
    assert 'unique: {"period": "infinity", "keys": ["id"]}' in four and "tags" not in four
    plan = compile_specs(root).plan
    assert plan is not None
    assert [job.opts for job in plan.oban_jobs] == [
        (("unique", (("period", "infinity"), ("keys", ("id",)))),)
    ]


def test_a_config_elixir_cannot_parse_is_one_line(
    tmp_path: Path, cli: Cli, elixir_command: None
) -> None:
    bad = tmp_path / "bad.exs"
    bad.write_text("import Config\nconfig :a, Oban,\n  plugins: [{Oban.Plugins.Cron, crontab: [}\n")
    root = write_project(tmp_path / "proj", {}, "")
    code, out, err = cli(root, "import", "--oban", str(bad))
    assert code == 1 and out == ""
    assert re.fullmatch(
        rf"cronspec: error: {re.escape(bad.as_posix())}:3:\d+: Elixir cannot "
        r"parse it: .+\n",
        err,
    ), err
    assert not (root / "specs").exists() or not any((root / "specs").iterdir())


def test_a_config_without_a_cron_plugin_is_one_line(
    tmp_path: Path, cli: Cli, elixir_command: None
) -> None:
    plain = tmp_path / "plain.exs"
    plain.write_text("import Config\nconfig :a, Oban, plugins: [Oban.Plugins.Pruner]\n")
    code, _, err = cli(write_project(tmp_path / "proj", {}, ""), "import", "--oban", str(plain))
    assert code == 1
    assert err == (
        f"cronspec: error: {plain.as_posix()}: no `{{Oban.Plugins.Cron, crontab: "
        "[...]}` in the file\n"
    )


def test_nothing_in_the_config_is_evaluated(tmp_path: Path, cli: Cli, elixir_command: None) -> None:
    canary = tmp_path / "canary"
    sneaky = tmp_path / "sneaky.exs"
    sneaky.write_text(
        f'File.write!("{canary}", "ran")\n'
        "config :a, Oban, plugins: [{Oban.Plugins.Cron, crontab: [\n"
        f'  {{"0 1 * * *", A.B, args: %{{"x" => File.write!("{canary}", "ran")}}}},\n'
        '  {"0 2 * * *", A.C}\n]}]\n'
    )
    root = write_project(tmp_path / "proj", {}, "")
    code, out, _ = cli(root, "import", "--oban", str(sneaky))
    assert code == 1 and "function call `File.write!/2`" in out and "wrote specs/c.yaml" in out
    assert not canary.exists()


def test_without_elixir_one_clear_line(
    config: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, err = cli(write_project(tmp_path / "proj", {}, ""), "import", "--oban", str(config))
    assert (code, out) == (1, "")
    assert err == (
        "cronspec: error: `cronspec import --oban` reads the config with Elixir's own parser, "
        "and the `elixir` command is not installed (Debian: apt-get install elixir)\n"
    )


SHAPES = """\
import Config

if config_env() == :prod do
  config :app, Oban,
    plugins: [
      {Oban.Plugins.Cron, [
        timezone: "Etc/UTC",
        crontab: [
          {"0 1 * * *", App.A,
           [args: %{"n" => -2, "f" => -1.5e-7, "big" => 123456789012345678901}]},
          {"0 2 * * *", App.B, args: %{:"odd key" => 'ab', "u" => "ünïcödé 🙂", "m" => %{}}},
          {"0 3 * * *", :erlang_worker},
          {"0 4 * * *", App.C, args: %{"t" => {1, 2}}}
        ]
      ]}
    ]
end

config :app, App.Other, plugins: [{Oban.Plugins.Cron, crontab: [{"0 5 * * *", App.D}]}]
"""


def test_the_script_reads_literals_of_every_shape(tmp_path: Path, elixir_command: None) -> None:
    path = tmp_path / "runtime.exs"
    path.write_text(SHAPES, encoding="utf-8")
    read = read_crontab(path, "runtime.exs")
    first, second = read.plugins
    assert (first.line, first.column, second.line) == (6, 7, 19)
    assert first.timezone is not None and first.timezone.value == "Etc/UTC"
    values = [e.value for e in first.entries]
    assert values[0] == (
        "0 1 * * *",
        Atom("Elixir.App.A"),
        [(Atom("args"), MapLiteral((("n", -2), ("f", -1.5e-7), ("big", 123456789012345678901))))],
    )
    assert values[1][2] == [
        (
            Atom("args"),
            MapLiteral(((Atom("odd key"), [97, 98]), ("u", "ünïcödé 🙂"), ("m", MapLiteral(())))),
        )
    ]
    assert values[2] == ("0 3 * * *", Atom("erlang_worker"))
    assert values[3][2] == [(Atom("args"), MapLiteral((("t", (1, 2)),)))]
    assert [e.line for e in first.entries] == [9, 11, 12, 13]
    assert [e.value for e in second.entries] == [("0 5 * * *", Atom("Elixir.App.D"))]
