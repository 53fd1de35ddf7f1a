"""Run-time policies (`overlap`, `timeout`, `retry`, `settings`) from spec to plan and files:
what each becomes on pg_cron (the procedures, the job's command) and on Oban (the crontab
entry), what is refused and why, and how explain shows them. tests/test_policy_live.py runs them
on the real executors; the golden cases policy-* hold the whole outputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from cronspec.api import Compiled, compile_specs
from cronspec.model import Interval
from cronspec.plan import SKIP_UNIQUE, STARTUP_UNIQUE, Plan, body_procedure
from cronspec.render.pg_cron import wrapper_source
from cronspec.validate.policy import read_interval

Project = Callable[..., Path]
CLI = Callable[..., tuple[int, str, str]]


def sql_task(name: str, body: str = "UPDATE t SET a = a + 1;", **extra: str) -> str:
    lines = [f"name: {name}", "description: d", "kind: sql", 'schedule: "0 3 * * *"']
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + f"\nsql: |\n  {body}\n"


def compiled(project: Project, specs: dict[str, str], toml: str = "") -> Compiled:
    result = compile_specs(project({f"{k}.yaml": v for k, v in specs.items()}, toml))
    assert result.ok and result.plan is not None, [str(d) for d in result.diagnostics]
    return result


def plan_of(project: Project, specs: dict[str, str], toml: str = "") -> Plan:
    plan = compiled(project, specs, toml).plan
    assert plan is not None
    return plan


def errors(project: Project, specs: dict[str, str]) -> list[str]:
    result = compile_specs(project({f"{k}.yaml": v for k, v in specs.items()}))
    assert not result.ok and result.files == {}
    return [f"{d.code} {d.message}" for d in result.diagnostics if d.is_error]


READ_AS_POSTGRESQL = [
    "10 minutes",
    "10 min",
    "90 seconds",
    "1 hour 30 minutes",
    "1h 30m",
    "500 ms",
    "2 days",
    "1 Hour",
    "45s",
    "1 day 2 hours 3 minutes 4 seconds 5 milliseconds",
    "0 seconds",
]


def test_intervals_are_read_as_postgresql_reads_them(db: str) -> None:
    """Every form cronspec accepts means to PostgreSQL's interval input what cronspec computes,
    and the value it writes for statement_timeout means the same there."""
    with psycopg.connect(db, autocommit=True) as conn:
        for text in READ_AS_POSTGRESQL:
            ms = read_interval(text)
            assert ms is not None, text
            row = conn.execute("SELECT extract(epoch FROM %s::interval) * 1000", (text,)).fetchone()
            assert row is not None and ms == row[0], text
            if ms:
                setting = Interval(text, ms).setting
                conn.execute("SELECT set_config('statement_timeout', %s, false)", (setting,))
                row = conn.execute(
                    "SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'"
                ).fetchone()
                assert row == (ms,), (text, setting)


def test_intervals_cronspec_does_not_read() -> None:
    for text in ("10 minuts", "1 hour 2 hours", "ten minutes", "10", "1 month", "-5 s", "1.5 h"):
        assert read_interval(text) is None, text


def test_a_setting_says_the_interval_exactly() -> None:
    assert Interval("10 minutes", 600_000).setting == "10min"
    assert Interval("1 hour 30 minutes", 5_400_000).setting == "90min"
    assert Interval("2 days", 172_800_000).setting == "2d"
    assert Interval("1500 ms", 1500).setting == "1500ms"
    assert Interval("1500 ms", 1500).seconds == "1.5"
    assert Interval("250 ms", 250).seconds == "0.25"
    assert Interval("30 s", 30_000).seconds == "30"


def test_each_policy_changes_only_what_carries_it(project: Project) -> None:
    """No policy: one LANGUAGE sql procedure, the job CALLs it. settings: SET clauses on that
    same procedure. timeout: the job's command only. skip or retry: the job-facing procedure
    becomes the wrapper, the body moves to `name:body`; the jobs' commands stay."""
    two = '["0 3 * * *", "30 4 * * 1"]'
    base = plan_of(project, {"t": sql_task("t").replace('"0 3 * * *"', two)})
    assert [p.name for p in base.procedures] == ["t"] and base.wrappers == ()
    assert {j.command for j in base.jobs} == {'CALL "cronspec"."t"()'}

    with_settings = plan_of(
        project, {"t": sql_task("t", settings='{work_mem: "64MB", jit: "off"}')}
    )
    (procedure,) = with_settings.procedures
    assert procedure.name == "t" and procedure.settings == (("jit", "off"), ("work_mem", "64MB"))
    assert with_settings.jobs[0].command == 'CALL "cronspec"."t"()'

    with_timeout = plan_of(project, {"t": sql_task("t", timeout='"10 minutes"')})
    assert with_timeout.procedures == base.procedures[:1] and with_timeout.wrappers == ()
    assert with_timeout.jobs[0].command == (
        'SET LOCAL statement_timeout = \'10min\'; CALL "cronspec"."t"()'
    )

    skip = plan_of(project, {"t": sql_task("t", overlap="skip", settings='{work_mem: "64MB"}')})
    (body,) = skip.procedures
    (wrapper,) = skip.wrappers
    assert (body.name, body.body, body.settings) == (
        "t:body",
        procedure.body,
        (("work_mem", "64MB"),),
    )
    assert (wrapper.name, wrapper.body, wrapper.skip, wrapper.attempts) == ("t", "t:body", True, 1)
    assert skip.jobs[0].command == 'CALL "cronspec"."t"()'
    assert skip.procedure_count == 2


def test_the_wrapper_skips_then_retries(project: Project) -> None:
    plan = plan_of(
        project,
        {"t": sql_task("t", overlap="skip", retry='{attempts: 3, backoff: "1500 ms"}')},
        'project = "shop"\n',
    )
    source = wrapper_source(plan.wrappers[0])
    assert "IF NOT pg_try_advisory_xact_lock(834222007, hashtext('shop/t')) THEN" in source
    assert "INSERT INTO cronspec.skipped_run (project, task) VALUES ('shop', 't');" in source
    assert 'CALL "cronspec"."t:body"();' in source
    assert "IF attempt >= 3 THEN" in source and "PERFORM pg_sleep(1.5);" in source
    assert source.index("pg_try_advisory_xact_lock") < source.index("LOOP")
    retry_only = plan_of(project, {"t": sql_task("t", retry="{attempts: 2}")})
    source = wrapper_source(retry_only.wrappers[0])
    assert "pg_try_advisory" not in source and "pg_sleep" not in source


def test_a_body_procedure_name_fits_postgresql(project: Project) -> None:
    long_a, long_b = "a" * 60 + "-x1", "a" * 60 + "-x2"
    names = {body_procedure(long_a), body_procedure(long_b)}
    assert len(names) == 2 and all(len(n.encode()) <= 63 and n.endswith(":body") for n in names)
    assert body_procedure("short") == "short:body"


def test_oban_entries_carry_skip_and_retry(project: Project) -> None:
    """skip is the crontab entry's unique, keyed on the task (its worker and meta's
    cronspec_task); a @startup job keeps its once-per-deploy unique; retry.attempts is the
    max_attempts of both."""
    spec = (
        "name: embed\ndescription: d\nkind: app\nworker: MyApp.Embed\nneeds: [ml]\n"
        'schedule: ["*/5 * * * *", "@startup"]\noverlap: skip\nretry: {attempts: 4}\n'
    )
    result = compiled(project, {"embed": spec})
    assert result.plan is not None
    cron, startup = result.plan.oban_jobs
    assert dict(cron.options)["max_attempts"] == 4 and cron.unique == SKIP_UNIQUE
    assert dict(startup.options)["max_attempts"] == 4 and startup.unique == STARTUP_UNIQUE
    text = result.files["oban_crontab.exs"]
    assert (
        '{"*/5 * * * *", MyApp.Embed, max_attempts: 4, meta: %{"cronspec_task" => "embed"}, '
        "unique: [period: :infinity, fields: [:worker, :meta], keys: [:cronspec_task], "
        "states: [:scheduled, :available, :executing, :retryable]]}"
    ) in text


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        ({"sql": "VACUUM t"}, "P803", "VACUUM cannot run inside a transaction or procedure"),
        ({"sql": "CALL p()"}, "P803", "if the procedure does not COMMIT, add `run_as: procedure`"),
        ({"run_as": "command"}, "P803", "`run_as: command` makes the body the job's command"),
        ({"database": "other"}, "P803", "the job runs in database `other`"),
    ],
)
def test_a_policy_needs_the_procedure(
    project: Project, extra: dict[str, str], code: str, words: str
) -> None:
    body = extra.pop("sql", "UPDATE t SET a = a + 1;")
    (message,) = errors(project, {"t": sql_task("t", body, overlap="skip", **extra)})
    assert message.startswith(code) and words in message, message


def test_a_lone_call_with_run_as_procedure_takes_policies(project: Project) -> None:
    plan = plan_of(project, {"t": sql_task("t", "CALL p()", overlap="skip", run_as="procedure")})
    assert plan.wrappers[0].skip and plan.procedures[0].body == "CALL p()\n"


def test_oban_refuses_what_lives_in_the_worker(project: Project) -> None:
    spec = (
        "name: sync\ndescription: d\nkind: app\nworker: MyApp.Sync\nneeds: [network]\n"
        'schedule: "@daily"\ntimeout: "2 minutes"\nretry: {attempts: 3, backoff: "1500 ms"}\n'
        'settings: {work_mem: "64MB"}\n'
    )
    messages = errors(project, {"sync": spec})
    assert [m[:4] for m in messages] == ["P804"] * 3
    assert (
        "in MyApp.Sync write `@impl Oban.Worker` and `def timeout(_job), do: 120000`"
        in (messages[0])
    )
    assert "`def backoff(_job), do: 2` (seconds)" in messages[1]
    assert 'Repo.query!("SELECT set_config($1, $2, true)", ["work_mem", "64MB"])' in messages[2]


def test_explain_shows_the_policies(project: Project, cli: CLI) -> None:
    root = project(
        {
            "t.yaml": sql_task(
                "t",
                overlap="skip",
                timeout='"10 minutes"',
                retry='{attempts: 3, backoff: "30 seconds"}',
                settings='{jit: "off"}',
            )
        }
    )
    code, out, _ = cli(root, "explain", "--format", "json")
    assert code == 0
    (task,) = json.loads(out)["tasks"]
    assert task["policy"] == {
        "overlap": "skip",
        "timeout": "10 minutes",
        "retry": {"attempts": 3, "backoff": "30 seconds"},
        "settings": {"jit": "off"},
    }
    lines = task["policies"]
    assert lines[0].startswith('the procedure its jobs call, "cronspec"."t", is cronspec\'s')
    assert [line.split(":")[0] for line in lines[1:]] == ["overlap", "retry", "timeout", "settings"]
    code, out, _ = cli(root, "explain")
    assert (
        "  policy: timeout: 10 minutes: each job's command sets statement_timeout to 10min" in out
    )
    report = compile_specs(root).files["REPORT.md"]
    assert "- Policies:\n  - the procedure its jobs call" in report


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"timeout": "10"}, "S203 `timeout` must be a string; YAML read `10` as an integer"),
        ({"queue": "5"}, "S203 `queue` must be a string; YAML read `5` as an integer"),
        ({"retry": "{}"}, "S201 missing required key `retry.attempts`: How many times"),
        ({"retry": '{backoff: "1 s"}'}, "S201 missing required key `retry.attempts`: How many"),
        ({"retry": '{attempts: 2, backof: "1 s"}'}, "S202 unknown key `backof`; did you mean "
         "`backoff`?"),
    ],
)  # fmt: skip
def test_a_policy_written_wrong_says_what_it_should_be(
    project: Project, extra: dict[str, str], message: str
) -> None:
    """The type a field wants (an annotation's `StringConstraints` is no integer), the key a
    nested mapping misses, the keys it knows."""
    (got,) = errors(project, {"a": sql_task("a", **extra)})
    assert got.startswith(message), got


def test_the_oban_settings_hint_is_code_that_can_be_copied(project: Project) -> None:
    """A value that would end the Elixir string or interpolate is not written into the hint."""
    spec = (
        "name: a\ndescription: d\nkind: app\nschedule: '@daily'\nworker: A.B\n"
        'settings: {"a.b": "x\\"y#{System.cmd(1)}"}\n'
    )
    (message,) = errors(project, {"a": spec})
    assert 'Repo.query!("SELECT set_config($1, $2, true)", ["a.b", value])' in message, message


def test_a_list_in_one_quoted_value_is_refused(project: Project) -> None:
    """temp_tablespaces = 'a, b' names one tablespace `a, b` (found on the real server: the
    migration failed with `tablespace "pg_default, pg_global" does not exist`)."""
    spec = sql_task("a", settings='{temp_tablespaces: "pg_default, pg_global"}')
    (message,) = errors(project, {"a": spec})
    assert message.startswith("P802 `settings` cannot give temp_tablespaces a list"), message
    assert plan_of(project, {"a": sql_task("a", settings="{temp_tablespaces: pg_default}")})
