"""The judge of `cronspec status`, with fixed times: every flag, on both executors, from
observations built here (the database side is tests/test_status_db.py, on the real servers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.builders import plan_of, settings, task

from cronspec.plan import Plan
from cronspec.render.status import duration, format_github, format_json, format_text
from cronspec.status import (
    JobStatus,
    ObanRow,
    ObanState,
    PgCronJob,
    PgCronState,
    RunRecord,
    Skip,
    StatusReport,
    duration_argument,
    judge,
)

T0 = datetime(2026, 3, 2, 3, 0, 0, tzinfo=UTC)  # a Monday, 03:00 UTC
GRACE = timedelta(minutes=5)


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def plan(*schedules: tuple[str, str], enabled: bool = True, version: str = "1.6") -> Plan:
    tasks = [task(name, schedules=[s], enabled=enabled) for name, s in schedules]
    result, _, diags = plan_of(tasks, settings(pg_cron={"version": version}))
    assert result is not None, diags
    return result


def ok(
    start: datetime, took: float = 2.0, status: str = "succeeded", msg: str = "CALL"
) -> RunRecord:
    return RunRecord(status, start, start + timedelta(seconds=took), msg)  # type: ignore[arg-type]


def pg_state(
    *jobs: PgCronJob, role: str = "postgres", superuser: bool = True, **kw: object
) -> PgCronState:
    return PgCronState("1.6", "GMT", "app", role, superuser, True, jobs, **kw)  # type: ignore[arg-type]


def pg_job(name: str, *runs: RunRecord, schedule: str = "0 3 * * *", **kw: object) -> PgCronJob:
    values: dict[str, object] = {
        "jobid": 7, "role": "postgres", "jobname": name, "task": name, "found": True,
        "visible": True, "schedule": schedule, "active": True, "runs": runs,
    }  # fmt: skip
    values.update(kw)
    return PgCronJob(**values)  # type: ignore[arg-type]


def one(p: Plan, pg: PgCronState | None, now: datetime, oban: ObanState | None = None) -> JobStatus:
    report = judge(p, pg, oban, now=now, grace=GRACE, runs=10, role="postgres")
    assert len(report.jobs) == 1, report.jobs
    return report.jobs[0]


def test_a_job_that_ran_on_time_is_fine() -> None:
    p = plan(("nightly", "0 3 * * *"))
    runs = (ok(at(seconds=0.1), 3), ok(at(-1440, 0.1), 5), ok(at(-2880, 0.1), 4))
    job = one(p, pg_state(pg_job("nightly", *runs)), at(60))
    assert job.flags == ()
    assert not job.alert
    assert (job.runs, job.failures) == (3, 0)
    assert job.median == timedelta(seconds=4) and job.maximum == timedelta(seconds=5)
    assert job.next_run == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert job.last is runs[0]


def test_the_last_run_failed_is_failing() -> None:
    p = plan(("nightly", "0 3 * * *"))
    failed = ok(at(), 0.5, "failed", "ERROR:  division by zero\n")
    job = one(p, pg_state(pg_job("nightly", failed, ok(at(-1440)))), at(1))
    assert job.flags == ("failing",) and job.alert
    assert job.failures == 1


def test_an_earlier_failure_alone_is_not_failing() -> None:
    p = plan(("nightly", "0 3 * * *"))
    job = one(p, pg_state(pg_job("nightly", ok(at()), ok(at(-1440), 1, "failed"))), at(1))
    assert job.flags == () and job.failures == 1


def test_no_run_since_one_was_due_is_late_after_the_grace() -> None:
    p = plan(("every-minute", "* * * * *"))
    state = pg_state(pg_job("every-minute", ok(at(), 1), schedule="* * * * *"))
    assert one(p, state, at(1, 5)).flags == ()  # due at 03:01, within the grace
    late = one(p, state, at(6, 1))  # 03:01 + 5 min grace is past
    assert late.flags == ("late",) and late.alert
    assert late.details == ("due at 2026-03-02 03:01:00, no run since",)


def test_a_seconds_job_is_late_one_interval_and_the_grace_after_its_last_start() -> None:
    p = plan(("tick", "2 seconds"))
    state = pg_state(pg_job("tick", ok(at(), 0.01), schedule="2 seconds"))
    job = one(p, state, at(seconds=3))
    assert job.flags == ()
    assert job.next_run == at(seconds=4)
    assert one(p, state, at(5, 3)).flags == ("late",)


def test_an_inactive_job_the_specs_enable_goes_late() -> None:
    p = plan(("every-minute", "* * * * *"))
    state = pg_state(pg_job("every-minute", ok(at()), schedule="* * * * *", active=False))
    job = one(p, state, at(10))
    assert job.flags == ("inactive", "late")
    assert job.next_run is None


def test_a_job_the_specs_disable_is_never_late_nor_missing_runs() -> None:
    p = plan(("paused", "* * * * *"), enabled=False)
    state = pg_state(pg_job("paused", schedule="* * * * *", active=False))
    job = one(p, state, at(600))
    assert job.flags == () and not job.alert


def test_never_ran_is_flagged_but_not_an_alert() -> None:
    p = plan(("nightly", "0 3 * * *"))
    job = one(p, pg_state(pg_job("nightly")), at(60 * 24 * 7))
    assert job.flags == ("never ran",) and not job.alert


def test_a_run_under_way_is_not_late_but_slow_once_past_the_next_start() -> None:
    p = plan(("every-minute", "* * * * *"))
    running = RunRecord("running", at(seconds=0.1), None)
    state = pg_state(pg_job("every-minute", running, schedule="* * * * *"))
    assert one(p, state, at(0, 30)).flags == ()
    job = one(p, state, at(10))
    assert job.flags == ("slow",) and not job.alert
    assert job.slow_runs == 1


def test_a_run_longer_than_the_time_to_the_next_start_is_slow() -> None:
    p = plan(("five", "*/5 * * * *"))
    runs = (ok(at(5), 30), ok(at(0), 301), ok(at(-5), 299))  # the middle one ran past 03:05
    job = one(p, pg_state(pg_job("five", *runs, schedule="*/5 * * * *")), at(6))
    assert job.flags == ("slow",)
    assert job.details == ("1 of the last 3 runs lasted past the next scheduled start",)


def test_skips_since_the_oldest_run_read_are_counted() -> None:
    p = plan(("nightly", "0 3 * * *"))
    skips = (Skip("nightly", at(1)), Skip("other", at(1)), Skip("nightly", at(-3000)))
    state = pg_state(pg_job("nightly", ok(at()), ok(at(-1440))), skips=skips, skip_table=True)
    job = one(p, state, at(2))
    assert job.flags == ("skipped",) and job.skipped == 1 and not job.alert


def test_a_skip_of_a_run_read_counts_though_it_precedes_the_runs_recorded_start() -> None:
    """pg_cron stamps a run's start_time after it handed the command over, so the skip that run
    recorded (at its transaction's start) can be earlier than it (seen on the real 1.6.7 under
    load: 3 skipped runs, 2 counted)."""
    p = plan(("nightly", "0 3 * * *"))
    skips = (Skip("nightly", at(seconds=-0.05), jobid=7),)
    state = pg_state(pg_job("nightly", ok(at())), skips=skips, skip_table=True)
    job = one(p, state, at(2))
    assert job.flags == ("skipped",) and job.skipped == 1


def test_another_roles_job_is_not_visible_to_a_plain_role() -> None:
    p = plan(("nightly", "0 3 * * *"))
    hidden = pg_job("nightly", role="other", found=False, visible=False, schedule=None, active=None)
    state = pg_state(hidden, role="app", superuser=False)
    report = judge(p, state, None, now=at(), grace=GRACE, runs=10, role="app")
    (job,) = report.jobs
    assert job.flags == ("not visible",) and job.schedule == "0 3 * * *"
    assert any("pg_cron shows a role only its own jobs" in n for n in report.notes)


def test_a_job_pg_cron_lost_is_unscheduled_and_the_specs_jobs_it_lacks_not_scheduled() -> None:
    p = plan(("nightly", "0 3 * * *"), ("weekly", "0 4 * * 0"))
    gone = pg_job("nightly", ok(at(-1440)), found=False, schedule=None, active=None)
    report = judge(p, pg_state(gone), None, now=at(10), grace=GRACE, runs=10, role="postgres")
    flags = {j.job: j.flags for j in report.jobs}
    assert flags == {"nightly": ("unscheduled", "late"), "weekly": ("not scheduled",)}


def test_pg_cron_1_4_judges_schedules_in_gmt_whatever_the_project_zone() -> None:
    config = settings(timezone="Etc/GMT-2", pg_cron={"version": "1.4"})  # UTC+2, fixed
    p, _, diags = plan_of([task("nightly", schedules=["0 5 * * *"], timezone="Etc/GMT-2")], config)
    assert p is not None, diags
    assert p.jobs[0].schedule == "0 3 * * *"  # moved to UTC for 1.4
    state = PgCronState("1.4-1", "GMT", "app", "postgres", True, True, (pg_job("nightly"),))
    (job,) = judge(p, state, None, now=at(), grace=GRACE, runs=10, role="postgres").jobs
    assert job.next_run == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert job.next_run.utcoffset() == timedelta(hours=2)  # shown in the project's zone
    assert job.next_run.hour == 5


# -- Oban ------------------------------------------------------------------------------------


def app_plan(*entries: tuple[str, list[str], str], **extra: object) -> Plan:
    tasks = [
        task(name, kind="app", sql=None, schedules=s, worker=w, needs=["ml"], **extra)  # type: ignore[arg-type]
        for name, s, w in entries
    ]
    result, _, diags = plan_of(tasks)
    assert result is not None, diags
    return result


def oban_row(
    n: int,
    run: RunRecord,
    *,
    task: str | None,
    expr: str | None,
    worker: str = "My.Worker",
    args: str = "{}",
    attempt: int = 1,
    max_attempts: int = 20,
) -> ObanRow:
    return ObanRow(n, worker, args, task, expr is not None, expr, attempt, max_attempts, run)


def done(
    inserted: datetime, took: float = 1, status: str = "succeeded", msg: str = ""
) -> RunRecord:
    start = inserted + timedelta(seconds=0.2)
    end = None if status in ("running", "waiting") else start + timedelta(seconds=took)
    return RunRecord(status, start, end, msg, inserted)  # type: ignore[arg-type]


def test_oban_jobs_match_by_meta_cronspec_task_or_by_worker_and_cron_expr() -> None:
    p = app_plan(("a", ["0 3 * * *", "@startup"], "My.Worker"), ("b", ["0 3 * * *"], "My.Other"))
    rows = (
        oban_row(5, done(at()), task="a", expr="0 3 * * *"),
        oban_row(4, done(at(-1)), task="a", expr=None),  # the boot job
        oban_row(3, done(at(), 1, "failed", "** (RuntimeError) x"), task=None, expr="0 3 * * *",
                 worker="My.Other"),  # before cronspec_task: worker + cron_expr
        oban_row(2, done(at()), task=None, expr="0 4 * * *", worker="My.Other"),  # not an entry
        oban_row(1, done(at()), task="zzz", expr="0 3 * * *"),  # another task
    )  # fmt: skip
    state = ObanState("public.oban_jobs", "app", rows)
    report = judge(p, None, state, now=at(2), grace=GRACE, runs=10, role="postgres")
    got = {
        (j.task, j.job): (j.runs, j.last.status if j.last else None, j.flags) for j in report.jobs
    }
    assert got == {
        ("a", "0 3 * * *"): (1, "succeeded", ()),
        ("a", "@startup"): (1, "succeeded", ()),
        ("b", "0 3 * * *"): (1, "failed", ("failing",)),
    }


def test_shared_worker_and_expression_are_told_apart_by_args() -> None:
    tasks = [
        task(
            n,
            kind="app",
            sql=None,
            schedules=["0 3 * * *"],
            worker="W",
            needs=["ml"],
            args={"k": n},
        )
        for n in ("one", "two")
    ]
    p, _, _ = plan_of(tasks)
    assert p is not None
    rows = (oban_row(1, done(at()), task=None, expr="0 3 * * *", worker="W", args='{"k":"two"}'),)
    report = judge(p, None, ObanState("t", "d", rows), now=at(1), grace=GRACE, runs=10, role="r")
    assert {j.task: j.runs for j in report.jobs} == {"one": 0, "two": 1}


def test_oban_retryable_is_failing_and_waiting_too_long_is_late() -> None:
    p = app_plan(("a", ["0 3 * * *"], "My.Worker"))
    retry = oban_row(1, done(at(), 1, "retrying", "boom"), task="a", expr="0 3 * * *", attempt=1)
    job = one(p, None, at(1), ObanState("t", "d", (retry,)))
    assert job.flags == ("failing",)
    assert job.details == ("attempt 1 of 20 failed; Oban retries it",)
    waiting = RunRecord("waiting", None, None, "", at())
    stuck = oban_row(1, waiting, task="a", expr="0 3 * * *")
    assert one(p, None, at(1), ObanState("t", "d", (stuck,))).flags == ()
    job = one(p, None, at(6), ObanState("t", "d", (stuck,)))
    assert job.flags == ("late",)
    assert job.details == ("waiting in its queue since 2026-03-02 03:00:00: is the queue running?",)


def test_an_oban_entry_the_plugin_stopped_inserting_is_late() -> None:
    p = app_plan(("a", ["0 * * * *"], "My.Worker"))
    state = ObanState("t", "d", (oban_row(1, done(at()), task="a", expr="0 * * * *"),))
    assert one(p, None, at(64), state).flags == ()
    assert one(p, None, at(66), state).flags == ("late",)


def test_startup_jobs_are_never_late() -> None:
    p = app_plan(("boot", ["@startup"], "My.Worker"))
    state = ObanState("t", "d", (oban_row(1, done(at()), task="boot", expr=None),))
    job = one(p, None, at(60 * 24 * 30), state)
    assert job.flags == () and job.next_run is None


# -- output ----------------------------------------------------------------------------------


def report() -> StatusReport:
    p = plan(("nightly", "0 3 * * *"), ("boom", "0 3 * * *"))
    failed = ok(at(), 0.004, "failed", "ERROR:  division by zero\nCONTEXT:  SQL function")
    state = pg_state(pg_job("nightly", ok(at(), 12.5)), pg_job("boom", failed, jobid=8))
    return judge(p, state, None, now=at(1), grace=GRACE, runs=10, role="postgres")


def test_text_is_a_table_with_the_first_line_of_each_message() -> None:
    text = format_text(report())
    lines = text.splitlines()
    assert lines[0].startswith(
        "cronspec status: project default, role postgres, 2026-03-02 03:01:00"
    )
    assert lines[1].split()[:4] == ["TASK", "EXECUTOR", "SCHEDULE", "ACTIVE"]
    boom = next(line for line in lines if line.startswith("boom "))
    assert "failed" in boom and "1/1" in boom and "4.0ms" in boom
    assert boom.endswith("ERROR: division by zero")
    assert lines[-1] == "1 of 2 jobs failing or late: boom"


def test_json_carries_every_field_and_the_whole_message() -> None:
    import json

    data = json.loads(format_json(report()))
    assert data["healthy"] is False
    boom = next(j for j in data["jobs"] if j["task"] == "boom")
    assert boom["last_run"]["message"].startswith("ERROR:  division by zero\nCONTEXT")
    assert boom["flags"] == ["failing"] and boom["alert"] is True and boom["jobid"] == 8


def test_github_annotates_the_failing_job_as_an_error() -> None:
    out = format_github(report())
    (annotation,) = [line for line in out.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=cronspec status%3A boom::boom (pg_cron, 0 3 * * *)")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0042, "4.2ms"), (1.25, "1.25s"), (12.34, "12.3s"), (245, "4m05s"), (7620, "2h07m"),
     (273600, "3d04h")],
)  # fmt: skip
def test_durations_read_at_a_glance(seconds: float, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("2h", 7200)])
def test_grace_takes_seconds_minutes_or_hours(text: str, seconds: int) -> None:
    assert duration_argument(text) == timedelta(seconds=seconds)
    with pytest.raises(ValueError):
        duration_argument("5 days")
