"""The plan on tasks built in memory: job names, startup calls, Oban entries, zones, the
checks that span tasks, and the plan as a value (equal and hashable)."""

from __future__ import annotations

import dataclasses

from support.builders import plan_of, settings, task

from cronspec.plan import HISTORY_JOB, ObanJob, Plan, StartupCall, report_views


def test_jobs_are_named_after_the_task_and_numbered() -> None:
    plan, _, diags = plan_of([task("seed", schedules=["0 1 * * *", "@startup", "0 2 * * *"])])
    assert plan is not None, diags
    assert [(j.jobname, j.schedule) for j in plan.jobs] == [
        ("seed", "0 1 * * *"),
        ("seed:2", "0 2 * * *"),
    ]
    assert plan.startup_calls == (
        StartupCall('CALL "cronspec"."seed"()', "seed", "specs/seed.yaml"),
    )
    assert [p.name for p in plan.procedures] == ["seed"]


def test_a_disabled_task_keeps_its_job_inactive_and_skips_startup() -> None:
    plan, _, _ = plan_of([task("off", schedules=["@hourly", "@startup"], enabled=False)])
    assert plan is not None
    assert [(j.jobname, j.active) for j in plan.jobs] == [("off", False)]
    assert plan.startup_calls == ()


def test_oban_entries_boot_jobs_and_disabled_tasks() -> None:
    app = task(
        "ingest",
        kind="app",
        sql=None,
        worker="My.Ingest",
        needs=["ml"],
        schedules=["@startup", "0 6 * * 0"],
        args={"mode": "full", "n": [1, 2.5]},
        queue="ingest",
        max_attempts=3,
    )
    off = task("quiet", kind="app", sql=None, worker="My.Quiet", needs=["ml"], enabled=False)
    plan, _, diags = plan_of([app, off])
    assert plan is not None, diags
    options = (("args", {"mode": "full", "n": [1, 2.5]}), ("queue", "ingest"), ("max_attempts", 3))
    assert [(j.expr, j.worker, j.opts) for j in plan.oban_jobs] == [
        (None, "My.Ingest", options),
        ("0 6 * * 0", "My.Ingest", options),
    ]
    assert plan.oban_disabled == ("quiet",)
    assert plan.jobs == () and plan.oban_timezone == "Etc/UTC"


def test_empty_args_are_no_option() -> None:
    plan, _, _ = plan_of([task("a", kind="app", sql=None, worker="W", needs=["ml"], args={})])
    assert plan is not None
    assert plan.oban_jobs == (ObanJob("0 0 * * *", "W", (), "a"),)


def test_pg_cron_14_moves_a_fixed_offset_zone_to_utc() -> None:
    config = settings(timezone="Asia/Tokyo")
    tokyo = task("tokyo", schedules=["0 9 * * *"], timezone="Asia/Tokyo")
    plan, placements, diags = plan_of([tokyo], config)
    assert plan is not None, diags
    assert [j.schedule for j in plan.jobs] == ["0 0 * * *"]
    assert plan.pg_timezone == "UTC"
    (s,) = placements[0].schedules
    assert s.source.schedule.text == "0 9 * * *" and s.emitted and s.emitted.text == "0 0 * * *"
    # the report still shows the task's own times, in its zone
    (view,) = report_views(placements, config)
    assert view.schedules[0].runs[0].local.isoformat() == "2026-01-01T09:00:00+09:00"


def test_pg_cron_15_runs_in_the_project_zone() -> None:
    config = settings(timezone="Europe/Berlin", pg_cron={"version": "1.5"})
    plan, _, _ = plan_of(
        [task("night", schedules=["30 2 * * *"], timezone="Europe/Berlin")], config
    )
    assert plan is not None
    assert plan.pg_timezone == "Europe/Berlin" and plan.jobs[0].schedule == "30 2 * * *"


def test_a_zone_the_executor_cannot_follow_is_refused_where_it_is_asked() -> None:
    config = settings(timezone="Europe/Berlin", pg_cron={"version": "1.5"})
    sql = task("utc", timezone="UTC")
    app = task("ny", kind="app", sql=None, worker="W", needs=["ml"], timezone="America/New_York")
    plan, placements, diags = plan_of([sql, app], config)
    assert plan is None
    by_task = {d.span.path: d for d in diags}
    assert by_task["specs/utc.yaml"].span == sql.schedules[0].span  # each pg_cron schedule
    assert by_task["specs/ny.yaml"].span == app.span("timezone")  # Oban's zone is plugin-wide
    assert {d.code for d in diags} == {"C306"}
    assert [p.classified.task.name for p in placements] == ["utc"]


def test_history_job_is_cronspecs_own() -> None:
    plan, _, _ = plan_of([task()], settings(pg_cron={"keep_history": "7 days"}))
    assert plan is not None
    history = next(j for j in plan.jobs if j.jobname == HISTORY_JOB)
    assert history.command.endswith("interval '7 days'") and history.spec == "cronspec.toml"


def test_long_job_names_on_pg_cron_14() -> None:
    name = "a" * 62
    t = task(name, schedules=["0 1 * * *", "0 2 * * *"])
    plan, _, diags = plan_of([t])
    assert plan is None
    (diag,) = diags
    assert (diag.code, diag.span) == ("C307", t.span("name"))
    assert "pg_cron 1.4 cuts job names to 63 bytes" in diag.message
    plan, _, diags = plan_of([t], settings(pg_cron={"version": "1.5"}))
    assert plan is not None and diags == []


def test_the_plan_is_a_value() -> None:
    tasks = [
        task("a", schedules=["@daily", "@startup"]),
        task("b", kind="app", sql=None, worker="W", needs=["ml"], args={"k": {"x": [1]}}),
    ]
    first, _, _ = plan_of(tasks)
    again, _, _ = plan_of(list(reversed(tasks)))
    assert first is not None and again is not None
    assert first == again and hash(first) == hash(again)
    assert {first: 1}[again] == 1
    changed, _, _ = plan_of(
        [
            tasks[0],
            task("b", kind="app", sql=None, worker="W", needs=["ml"], args={"k": {"x": [True]}}),
        ]
    )
    assert changed is not None and changed != first  # `1` and `true` differ, as for Oban
    assert not any(isinstance(v, dict | list) for v in dataclasses.astuple(first.config))


def test_the_plan_holds_the_desired_state_only() -> None:
    fields = {f.name for f in dataclasses.fields(Plan)}
    assert fields == {
        "config",
        "pg_timezone",
        "jobs",
        "procedures",
        "startup_calls",
        "oban_timezone",
        "oban_jobs",
        "oban_disabled",
        "checks",
    }
