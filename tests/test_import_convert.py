"""The import's conversions as pure functions: rows of `cron.job` and crontab entries (as the
Elixir script reports them) to spec texts, every one read back and compiled by the compiler's
own stages. The real servers and real Elixir are in test_import.py and test_import_oban.py."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.builders import settings as project_settings

from cronspec.importer import CronJob, PgCronServer, from_pg_cron
from cronspec.importer.crontab import Atom, CronPlugin, Located, MapLiteral, ObanCrontab
from cronspec.importer.oban import from_oban, task_name
from cronspec.importer.specs import compile_draft, quoted, render_exactly
from cronspec.load.source import parse_document

SERVER14 = PgCronServer("app", "1.4-1", None, "postgres")
SERVER16 = PgCronServer("app", "1.6", "GMT", "postgres")


def job(
    jobid: int, name: str | None, schedule: str, command: str = "SELECT 1", **kw: Any
) -> CronJob:
    fields = {"database": "app", "username": "postgres", "active": True, **kw}
    return CronJob(jobid, name, schedule, command, **fields)


def convert(*jobs: CronJob, server: PgCronServer = SERVER14, **kw: Any) -> Any:
    config = kw.pop("config", project_settings())
    return from_pg_cron(jobs, server, config, folder="specs", **kw)


def reasons(conversion: Any) -> dict[str, str]:
    return {item.source: item.reason for item in conversion.listed}


def test_a_pg_cron_14_project_in_another_zone_keeps_gmt_schedules() -> None:
    config = project_settings(timezone="Europe/Berlin")
    conversion = convert(job(1, "nightly", "0 3 * * *"), config=config)
    (spec,) = conversion.specs
    assert 'timezone: "UTC"' in spec.text or "timezone: UTC" in spec.text
    plan, diags = compile_draft("specs/nightly.yaml", spec.text, config)
    assert plan is not None, diags
    assert [j.schedule for j in plan.jobs] == ["0 3 * * *"]  # not moved: it runs in GMT


def test_a_server_zone_the_project_does_not_have_imports_nothing() -> None:
    berlin = PgCronServer("app", "1.6", "Europe/Berlin", "postgres")
    conversion = convert(
        job(1, "a", "0 3 * * *"), server=berlin, config=project_settings(pg_cron={"version": "1.6"})
    )
    assert conversion.specs == () and conversion.error is not None
    assert "runs pg_cron jobs in `Europe/Berlin` (cron.timezone)" in conversion.error
    assert 'timezone = "Europe/Berlin"' in conversion.error
    same = convert(
        job(1, "a", "0 3 * * *"),
        server=SERVER16,
        config=project_settings(pg_cron={"version": "1.6"}),
    )
    assert same.error is None and len(same.specs) == 1


def test_a_configured_version_newer_than_the_server_imports_nothing() -> None:
    conversion = convert(
        job(1, "a", "0 3 * * *"), config=project_settings(pg_cron={"version": "1.6"})
    )
    assert conversion.error is not None and "the server has pg_cron 1.4-1" in conversion.error


def test_what_the_configured_version_lacks_is_listed() -> None:
    jobs = (job(1, "secs", "30 seconds"), job(2, "last", "0 12 $ * *"))
    older = convert(*jobs, server=SERVER16)  # cronspec.toml says 1.4
    assert older.specs == ()
    assert "pg_cron 1.4 has no seconds schedules" in reasons(older)["pg_cron job 1 (secs)"]
    assert "no `$`" in reasons(older)["pg_cron job 2 (last)"]
    newer = convert(*jobs, server=SERVER16, config=project_settings(pg_cron={"version": "1.6"}))
    assert [s.name for s in newer.specs] == ["secs", "last"] and newer.listed == ()


def test_existing_specs_are_replaced_only_with_force() -> None:
    jobs = (job(1, "a", "0 3 * * *"), job(2, "b", "0 4 * * *"))
    existing = {"a": "a.yaml", "b": "b.yml"}
    kept = convert(*jobs, existing=existing)
    assert kept.specs == ()
    assert reasons(kept) == {
        "pg_cron job 1 (a)": "specs/a.yaml exists; --force replaces it",
        "pg_cron job 2 (b)": "specs/b.yml defines task `b`",
    }
    forced = convert(*jobs, existing=existing, force=True)
    assert [s.name for s in forced.specs] == ["a"]
    assert reasons(forced) == {"pg_cron job 2 (b)": "specs/b.yml defines task `b`"}


def test_numbered_jobs_join_their_task_in_order() -> None:
    jobs = (
        job(1, "sync", "0 1 * * *"),
        job(2, "sync:2", "0 13 * * *"),
        job(3, "sync:3", "30 13 * * *", "SELECT 2"),  # another command: not the same task
        job(4, "lone:2", "0 5 * * *"),  # no `lone`
    )
    conversion = convert(*jobs)
    (spec,) = conversion.specs
    assert spec.source == "pg_cron job 1 (sync), pg_cron job 2 (sync:2)"
    plan, _ = compile_draft("specs/sync.yaml", spec.text, project_settings())
    assert plan is not None and [(j.jobname, j.schedule) for j in plan.jobs] == [
        ("sync", "0 1 * * *"),
        ("sync:2", "0 13 * * *"),
    ]
    listed = reasons(conversion)
    assert (
        "schedule 3 of task `sync` only after jobs `sync` to `sync:2`"
        in listed["pg_cron job 3 (sync:3)"]
    )
    assert "`lone:2` is not a cronspec task name" in listed["pg_cron job 4 (lone:2)"]


def test_a_numbered_job_that_cannot_join_leaves_its_task_imported() -> None:
    conversion = convert(job(1, "d", "@daily"), job(2, "d:2", "0 0 * * *"))  # the same, twice
    assert [s.name for s in conversion.specs] == ["d"]
    assert reasons(conversion)["pg_cron job 2 (d:2)"].startswith("it cannot join task `d`: ")


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("SELECT 1;\r\nSELECT 2;", "control character (U+000D)"),
        ("   ", "needs a `sql:` body"),
        ("BEGIN; SELECT 1; COMMIT;", "transaction"),
    ],
)
def test_commands_cronspec_refuses_are_listed(command: str, words: str) -> None:
    conversion = convert(job(1, "x", "0 3 * * *", command))
    assert conversion.specs == ()
    assert words in reasons(conversion)["pg_cron job 1 (x)"]


def test_owned_jobs_are_skipped_and_roles_one_at_a_time() -> None:
    conversion = convert(job(1, "a", "0 3 * * *", owner="cronspec project p (role r)"))
    assert conversion.specs == () and [s.reason for s in conversion.skipped] == [
        "cronspec project p (role r) owns it"
    ]
    two = convert(job(1, "a", "0 3 * * *"), job(2, "b", "0 3 * * *", username="app"))
    assert two.error is not None and two.error.startswith("jobs of 2 roles are visible (app, ")


def test_whitespace_around_a_command_is_kept_out_of_the_spec() -> None:
    (spec,) = convert(job(1, "w", "0 3 * * *", "\n  VACUUM t;  \n")).specs
    assert spec.text.endswith("sql: |\n  VACUUM t;\n") and "run_as" not in spec.text


# --- YAML that reads back exactly ---------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(description=TEXT, sql=TEXT, schedule=TEXT)
def test_any_text_reads_back_as_written(description: str, sql: str, schedule: str) -> None:
    draft = [
        ("name", "x"),
        ("description", description),
        ("schedule", [schedule, "@daily"]),
        ("sql", sql.strip()),
        ("args", {"k": [sql, 1.5e-07, -0.0, None, True]}),
    ]
    text = render_exactly("specs/x.yaml", draft)  # raises if it does not read back
    doc, _ = parse_document("specs/x.yaml", text.encode())
    assert doc is not None and doc.data["description"] == description


def test_quoting_escapes_what_yaml_would_fold_or_refuse() -> None:
    assert quoted("a\u2028b\x85c\ufeff\x07") == '"a\\u2028b\\x85c\\ufeff\\x07"'
    assert quoted('é "q" \\') == '"é \\"q\\" \\\\"'


# --- Oban entries -------------------------------------------------------------------------------


def entry(line: int, expr: str, worker: str, *opts: tuple[str, Any]) -> Located:
    keyword = [(Atom(k), v) for k, v in opts]
    value = (expr, Atom(f"Elixir.{worker}"), keyword) if opts else (expr, Atom(f"Elixir.{worker}"))
    return Located(line, 5, value)


def crontab(*entries: Located, timezone: Located | None = None) -> ObanCrontab:
    return ObanCrontab("config.exs", (CronPlugin(1, 1, timezone, Located(2, 3), entries),))


def oban(*entries: Located, **kw: Any) -> Any:
    config = kw.pop("config", project_settings())
    return from_oban(crontab(*entries, **kw), config, folder="specs")


def test_worker_names_become_task_names() -> None:
    assert task_name("MyApp.Workers.HTTPSyncWorker") == "http-sync-worker"
    assert task_name("A.DailyReport2Job") == "daily-report2-job"
    assert task_name("Top") == "top"


def test_entries_of_one_worker_and_options_are_one_task() -> None:
    conversion = oban(
        entry(1, "0 1 * * *", "A.Sync", ("queue", Atom("io"))),
        entry(2, "0 2 * * *", "A.Sync", ("queue", "io")),  # the same queue, as a string
        entry(3, "0 2 * * *", "A.Sync", ("queue", Atom("io"))),  # a repeat: a task of its own
        entry(4, "0 3 * * *", "A.Sync", ("args", MapLiteral((("full", True),)))),
    )
    assert [(s.name, s.source.count("config.exs:")) for s in conversion.specs] == [
        ("sync", 2),
        ("sync-2", 1),
        ("sync-3", 1),
    ]
    assert 'args: {"full": true}' in conversion.specs[2].text


def test_unique_with_obans_defaults_is_kept() -> None:
    """`unique: []` is Oban's unique with its defaults: the spec's `unique: {}`, which the
    crontab writes back as `unique: []`."""
    conversion = oban(
        entry(1, "0 1 * * *", "A", ("unique", [])),
        entry(2, "0 2 * * *", "B", ("unique", [(Atom("period"), Atom("infinity"))])),
    )
    assert conversion.listed == ()
    assert ["unique: {}\n" in s.text for s in conversion.specs] == [True, False]
    assert 'unique: {"period": "infinity"}\n' in conversion.specs[1].text


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (Located(1, 5, ("0 1 * * *",)), "is not `{expression, Worker}`"),
        (Located(1, 5, (1, Atom("Elixir.A"))), "expression is not a string"),
        (Located(1, 5, ("0 1 * * *", Atom("a"))), "worker is not a module"),
        (entry(1, "0 1 * * *", "A", ("priority", True)), "`priority` is not an integer"),
        (entry(1, "0 1 * * *", "A", ("args", [1])), "`args` is not a map"),
        (entry(1, "0 1 * * *", "A", ("args", MapLiteral(((1, 2),)))), "not a string or an atom"),
        (entry(1, "0 1 * * *", "A", ("args", MapLiteral((("a", 1), (Atom("a"), 2))))), "twice"),
        (entry(1, "0 1 * * *", "A", ("queue", Atom("q")), ("queue", Atom("q"))), "twice"),
        (entry(1, "0 1 * * *", "A", ("replace", [])), "no field for option `replace`"),
        (entry(1, "0 1 * * *", "A", ("priority", 12)), "`priority`"),
        (entry(1, "0 1 * * *", "A", ("queue", "no-dashes")), "`queue`"),
        (entry(1, "@every 5m", "A"), "Oban 2.18-2.23 reject it"),
        (entry(1, "0 0 30 2 *", "A"), "Oban 2.23 rejects it"),
        (entry(1, "*/60 * * * *", "A"), "step /60"),
        (Located(1, 5, None, "a variable `x`"), "not a literal (a variable `x`)"),
    ],
)
def test_entries_that_cannot_be_kept_are_listed(item: Located, words: str) -> None:
    conversion = oban(item)
    assert conversion.specs == ()
    ((listed),) = conversion.listed
    assert words in listed.reason, listed.reason


def test_a_crontab_in_another_zone_is_listed_entry_by_entry() -> None:
    berlin = Located(1, 9, "Europe/Berlin")
    conversion = oban(entry(2, "0 1 * * *", "A"), entry(3, "0 2 * * *", "B"), timezone=berlin)
    assert conversion.specs == () and len(conversion.listed) == 2
    assert 'set `timezone = "Europe/Berlin"` in cronspec.toml' in conversion.listed[0].reason
    matching = oban(
        entry(2, "0 1 * * *", "A"),
        timezone=berlin,
        config=project_settings(timezone="Europe/Berlin"),
    )
    assert len(matching.specs) == 1
    unknown = oban(entry(2, "0 1 * * *", "A"), timezone=Located(1, 9, None, "a function call"))
    assert "`timezone` is not a literal" in unknown.listed[0].reason
    utc = oban(entry(2, "0 1 * * *", "A"), timezone=Located(1, 9, "Etc/UTC"))
    assert len(utc.specs) == 1


def test_an_expression_is_read_the_way_oban_reads_it() -> None:
    conversion = oban(entry(1, "0 0 1,15 * MON", "A"), entry(2, "0 9 * JAN-MAR 1-5", "B"))
    (both, names) = conversion.specs
    assert "day_match: all" in both.text and "day_match" not in names.text
    plan, _ = compile_draft("specs/a.yaml", both.text, project_settings())
    assert plan is not None and [j.expr for j in plan.oban_jobs] == ["0 0 1,15 * 1"]
