"""REPORT.md's week at a glance and the crowded-minute warning (R701), from plans built in
memory; the example's own chart is checked in generated/REPORT.md."""

from __future__ import annotations

from datetime import date

from support.builders import plan_of, settings, task
from support.common import ROOT

from cronspec.classify import classify
from cronspec.model import Settings, Task
from cronspec.plan import place
from cronspec.plan.week import Week, days_words, week_view
from cronspec.render.week import render_week


def week_of(tasks: list[Task], config: Settings | None = None) -> tuple[Week, list[str]]:
    config = config or settings(pg_cron={"version": "1.6"})
    placements, diags = place([c for c, _ in map(classify, tasks) if c is not None], config)
    assert diags == []
    week, warnings = week_view(placements, config)
    return week, [f"{d.span}: {d.code}: {d.message}" for d in warnings]


def sql(name: str, *schedules: str, **kw: object) -> Task:
    return task(name, schedules=schedules, **kw)  # type: ignore[arg-type]


def app(name: str, *schedules: str) -> Task:
    return task(name, kind="app", sql=None, schedules=schedules, worker="W", needs=["ml"])


def test_more_jobs_than_the_limit_in_one_minute_warn_at_each_schedule() -> None:
    tasks = [
        sql("a", "0 3 * * *"),
        sql("b", "0 3 * * *"),
        app("c", "0 3 * * *"),
        app("d", "0 3 * * *"),
    ]
    week, warnings = week_of(tasks)
    (crowd,) = week.crowds
    assert crowd.sentence() == "4 jobs start at 03:00 every day"
    assert [j.name for j in crowd.jobs] == ["a", "b", "c", "d"]
    assert len(warnings) == 4
    assert warnings[0] == (
        "specs/a.yaml:5:6: R701: `0 3 * * *` starts with more jobs than [report] "
        "max_starts_per_minute = 3: 4 jobs start at 03:00 every day: a, b, c, d"
    )
    week, warnings = week_of(tasks[:3])  # three is not more than three
    assert week.crowds == () and warnings == []


def test_the_limit_is_a_setting() -> None:
    tasks = [sql(n, "0 3 * * *") for n in "abcd"]
    config = settings(pg_cron={"version": "1.6"}, report={"max_starts_per_minute": 4})
    assert week_of(tasks, config)[1] == []
    config = settings(pg_cron={"version": "1.6"}, report={"max_starts_per_minute": 1})
    week, warnings = week_of(tasks[:2], config)
    assert len(week.crowds) == 1 and len(warnings) == 2


def test_every_hour_jobs_count_in_every_hour_and_are_listed_once() -> None:
    tasks = [sql("every5", "*/5 * * * *"), app("hourly", "0 * * * *"), sql("a", "0 3 * * *"),
             app("b", "0 14 * * *")]  # fmt: skip
    week, _ = week_of(tasks)
    assert [h.job.name for h in week.hourly] == ["every5", "hourly"]
    assert [(c.day, c.hour) for c in week.cells] == [(None, 3), (None, 14)]
    crowded, _ = week_of(tasks, settings(report={"max_starts_per_minute": 2}))
    assert [c.sentence() for c in crowded.crowds] == [
        "3 jobs start at 03:00 every day",  # every5 and hourly with a: two alone are not more
        "3 jobs start at 14:00 every day",
    ]
    assert "- hourly (`0 * * * *`: at minute 0 of every hour, every day)" in render_week(week)


def test_weekday_jobs_go_to_their_columns_and_crowd_only_there() -> None:
    tasks = [sql("sun1", "0 9 * * 0"), sql("sun2", "0 9 * * 7"), app("sun3", "0 9 * * sun"),
             app("daily", "0 9 * * *"), sql("weekdays", "30 9 * * 1-5")]  # fmt: skip
    week, _ = week_of(tasks)
    cells = {(c.day, c.hour): [(m, j.name) for m, j in c.starts] for c in week.cells}
    assert cells[(None, 9)] == [(0, "daily")]
    assert cells[(6, 9)] == [(0, "sun1"), (0, "sun2"), (0, "sun3")]
    assert cells[(0, 9)] == [(30, "weekdays")] and (5, 9) not in cells
    (crowd,) = week.crowds
    assert crowd.sentence() == "4 jobs start at 09:00 on Sun"
    assert "| 09 | :00 daily |" in "\n".join(render_week(week))
    assert "⚠ 4 jobs at :00 |" in "\n".join(render_week(week))


def test_jobs_of_some_dates_crowd_on_those_dates_of_the_year_from_report_from() -> None:
    tasks = [sql("yearly", "@yearly"), sql("monthly", "@monthly"), app("daily", "0 0 * * *"),
             app("hourly", "0 * * * *")]  # fmt: skip
    week, _ = week_of(tasks)  # [report] from is 2026-01-01
    assert [j.name for j in week.dated] == ["monthly", "yearly"]
    (crowd,) = week.crowds
    assert crowd.dates == ((date(2026, 1, 1), 0, 0),)  # monthly alone makes three
    assert crowd.sentence() == "4 jobs start at 00:00 on 2026-01-01 (Thu)"
    week, _ = week_of([*tasks[1:], sql("other", "0 0 1 * *")])
    (crowd,) = week.crowds
    assert crowd.sentence() == "4 jobs start at 00:00 on 2026-01-01 (Thu) and 11 more dates"


def test_what_is_not_drawn_is_listed_and_not_counted() -> None:
    tasks = [sql("tick", "30 seconds"), sql("boot", "@startup"), app("reboot", "@reboot"),
             sql("off", "0 3 * * *", enabled=False), sql("a", "0 3 * * *"),
             sql("b", "0 3 * * *"), sql("c", "0 3 * * *")]  # fmt: skip
    week, warnings = week_of(tasks)
    assert warnings == []
    assert {(j.name, why) for j, why in week.not_drawn} == {
        ("tick", "every 30 seconds"),
        ("boot", "at every deploy"),
        ("reboot", "when the executor starts (@reboot)"),
        ("off", "disabled"),
    }


def test_the_chart_marks_pg_cron_jobs_in_bold_and_escapes_names() -> None:
    week, _ = week_of([sql("pg_job", "0 3 * * *"), app("app_job", "0 3 * * *")])
    text = "\n".join(render_week(week))
    assert "| 03 | :00 app\\_job, **pg\\_job** |" in text
    assert "**bold**: pg_cron, plain: Oban" in text


def test_days_in_words() -> None:
    assert days_words(range(7)) == "every day"
    assert days_words([0, 1, 2, 3, 4]) == "on Mon-Fri"
    assert days_words([0, 2, 3, 4, 6]) == "on Mon, Wed-Fri, Sun"


def test_the_plan_needs_no_clock() -> None:
    tasks = [sql("a", "0 3 * * *"), sql("m", "@monthly")]
    assert week_of(tasks) == week_of(tasks)
    assert plan_of(tasks)[0] is not None


def test_the_examples_report_has_the_chart_and_the_3_oclock_warning() -> None:
    report = (ROOT / "generated" / "REPORT.md").read_text(encoding="utf-8")
    chart = report.split("## A week at a glance\n", 1)[1].split("\n## ", 1)[0]
    assert (
        "> **Warning (R701):** 4 jobs start at 03:00 every day, more than "
        "`[report] max_starts_per_minute` = 3: cache-cleanup, **daily-pagerank**, "
        "database-backup, **pattern-learning**." in chart
    )
    assert "| 03 | :00 cache-cleanup, **daily-pagerank**; ⚠ 4 jobs at :00 |" in chart
    assert "| 07 |  |  |  |  |  |  |  | :00 **weekly-populate-graph-deps** |" in chart
    assert "- **pattern-learning** (`*/5 * * * *`: every 5 minutes, every day)" in chart


def test_crowded_times_are_written_as_ranges() -> None:
    tasks = [sql(n, "* * * * *") for n in "abcd"] + [app("v", "30 2 * * *")]
    week, warnings = week_of(tasks)
    assert [c.sentence() for c in week.crowds] == [
        "4 jobs start at 00:00-02:29, 02:31-23:59 every day",
        "5 jobs start at 02:30 every day",
    ]
    assert len(warnings) == 5  # one per job: a-d name both crowds
    week, _ = week_of([sql(n, "* * * * *") for n in "abcd"])
    assert week.crowds[0].sentence() == "4 jobs start every minute every day"
