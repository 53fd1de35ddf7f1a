"""The schedule language as a table (tests/support/schedule_corpus.py): what each target
accepts, emits and runs; then describe, daylight saving, zones and meaning one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.schedule_corpus import CASES, START, TARGETS, Case, DayMatch, Rej

from cronspec.diagnostics import Diagnostic
from cronspec.schedule import (
    ALL_DOWS,
    OBAN,
    Cron,
    Schedule,
    Startup,
    Target,
    Unreadable,
    check_target,
    describe,
    emit,
    fixed_offset,
    next_runs,
    oban,
    parse,
    pg_cron,
    reparse,
    shift_to_utc,
)

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def parsed(text: str, day_match: DayMatch = None) -> Schedule:
    """A schedule the test means to be accepted."""
    result = parse(text, day_match)
    assert isinstance(result, Schedule), result
    return result


def refused(text: str, day_match: DayMatch = None) -> Diagnostic:
    """The diagnostic of a schedule the test means to be refused."""
    result = parse(text, day_match)
    assert isinstance(result, Diagnostic), result
    return result


def _case_id(case: Case) -> str:
    return repr(case.text) + (f"-{case.day_match}" if case.day_match else "")


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 90
    assert len({(case.text, case.day_match) for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_corpus(case: Case) -> None:
    verdicts = case.verdicts()
    schedule = parse(case.text, case.day_match)
    if isinstance(schedule, Diagnostic):
        rejection = verdicts["oban"]
        assert isinstance(rejection, Rej), f"rejected: {schedule.code} {schedule.message}"
        assert all(v == rejection for v in verdicts.values()), "a parse error is for everyone"
        assert schedule.code == rejection.code, schedule.message
        assert rejection.fragment in schedule.message
        assert schedule.is_error and schedule.span.path == "<schedule>"
        if rejection.column is not None:
            assert schedule.span.col == rejection.column
        assert schedule.span.line == schedule.span.end_line == 1
        assert rejection.column is None or schedule.span.end_col >= schedule.span.col
        return
    parsed_case = schedule
    accepting: Target | None = None
    for key, verdict in verdicts.items():
        target = TARGETS[key]
        problem = check_target(parsed_case, target)
        if isinstance(verdict, Rej):
            assert problem is not None, f"{target.label} accepted it"
            assert problem.code == verdict.code, problem.message
            assert verdict.fragment in problem.message
            assert target.label in problem.message  # every rejection names executor and version
            continue
        assert problem is None, f"{target.label}: {problem and problem.message}"
        accepting = accepting or target
        if verdict is None:
            assert isinstance(parsed_case.meaning, Startup)
            continue
        emitted = emit(parsed_case)
        assert emitted == verdict, target.label
        assert reparse(emitted, target) == parsed_case.meaning, target.label
    runs = next_runs(parsed_case.meaning, START, UTC_ZONE, 3, accepting) if accepting else []
    assert tuple(r.local.strftime("%Y-%m-%dT%H:%M") for r in runs) == case.runs
    assert all(not r.note for r in runs)
    if case.words is not None:
        assert describe(parsed_case) == case.words


# -- describe -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0 0 */21 * *", "at 00:00, on every 21st day of the month from the 1st"),
        ("0 0 */22 * *", "at 00:00, on every 22nd day of the month from the 1st"),
        ("0 0 */23 * *", "at 00:00, on every 23rd day of the month from the 1st"),
        ("0 0 */11 * *", "at 00:00, on every 11th day of the month from the 1st"),
        ("0 0 */12 * *", "at 00:00, on every 12th day of the month from the 1st"),
        ("0 0 */13 * *", "at 00:00, on every 13th day of the month from the 1st"),
        ("0 0 1-15/2 * *", "at 00:00, on every 2nd day of the month from the 1st to the 15th"),
        ("* * * * *", "every minute, every day"),
        ("* 9 * * *", "every minute during hour 9, every day"),
        ("*/10 */3 * * *", "every 10 minutes during every 3rd hour, every day"),
        ("5,35 9-17 * * *", "at minutes 5 and 35 past hours 9 to 17, every day"),
        ("0 8,20 1 1,7 *", "at 08:00 and 20:00, on day 1 of the month in January and July"),
        ("0 0 1-3,10,20-22 * *", "at 00:00, on days 1 to 3, 10 and 20 to 22 of the month"),
        ("0 0 * 3-5,9 *", "at 00:00, every day in March to May and September"),
    ],
)
def test_describe(text: str, words: str) -> None:
    assert describe(parsed(text)) == words


# -- daylight saving: what each executor does with a skipped or repeated local time ---------------

SPRING = datetime(2026, 3, 27, 12, tzinfo=UTC)  # Berlin: 2026-03-29 02:00 CET -> 03:00 CEST
AUTUMN = datetime(2026, 10, 23, 12, tzinfo=UTC)  # Berlin: 2026-10-25 03:00 CEST -> 02:00 CET


@pytest.mark.parametrize("target", [OBAN, pg_cron("1.5"), pg_cron("1.6")], ids=lambda t: t.label)
def test_a_skipped_local_time_is_not_a_run(target: Target) -> None:
    runs = next_runs(parsed("30 2 * * *").meaning, SPRING, BERLIN, 3, target)
    assert [r.local.isoformat() for r in runs] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]
    assert runs[0].note == "" and runs[2].note == ""
    assert runs[1].note.startswith("2026-03-29 02:30 does not exist (clocks go forward)")
    assert "so that run is skipped" in runs[1].note
    assert (target.label if target.executor == "pg_cron" else "Oban's Cron plugin") in runs[1].note


@pytest.mark.parametrize("target", [OBAN, pg_cron("1.5"), pg_cron("1.6")], ids=lambda t: t.label)
def test_a_repeated_local_time_runs_twice(target: Target) -> None:
    runs = next_runs(parsed("*/30 2 * * *").meaning, AUTUMN, BERLIN, 6, target)
    assert [r.local.isoformat() for r in runs] == [
        "2026-10-24T02:00:00+02:00",
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",  # first pass, CEST
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",  # second pass, CET
    ]
    assert [bool(r.note) for r in runs] == [False, False, True, True, True, True]
    assert "happens twice (clocks go back)" in runs[2].note
    assert "so it runs at both" in runs[2].note


def test_times_outside_the_changed_hour_have_no_note() -> None:
    runs = next_runs(parsed("0 1,4 * * *").meaning, SPRING, BERLIN, 6, OBAN)
    assert all(not r.note for r in runs)
    assert [r.local.hour for r in runs] == [1, 4, 1, 4, 1, 4]


def test_pg_cron_tests_last_day_by_adding_24_hours() -> None:
    target = pg_cron("1.6")
    # 2030-03-31 is the last Sunday of March: Berlin moves to CEST that night, so 23:30 on
    # the 30th plus 24 hours is already April 1st, and pg_cron runs `$` a day early too.
    runs = next_runs(
        parsed("30 23 $ * *").meaning, datetime(2030, 3, 1, tzinfo=UTC), BERLIN, 3, target
    )
    assert [r.local.strftime("%m-%d %H:%M") for r in runs] == [
        "03-30 23:30",
        "03-31 23:30",
        "04-30 23:30",
    ]
    assert "it also runs at 2030-03-30 23:30, the day before the last" in runs[0].note
    # 2027-10-31 is the last Sunday of October: 00:30 CEST plus 24 hours is still the 31st.
    runs = next_runs(
        parsed("30 0 $ * *").meaning, datetime(2027, 10, 1, tzinfo=UTC), BERLIN, 2, target
    )
    assert [r.local.strftime("%Y-%m-%d %H:%M") for r in runs] == [
        "2027-11-30 00:30",
        "2027-12-31 00:30",
    ]
    assert "it does not run at 2027-10-31 00:30 on the last day" in runs[0].note
    # the schedule's own meaning, and UTC, have no such surprise
    runs = next_runs(parsed("30 0 $ * *").meaning, datetime(2027, 10, 1, tzinfo=UTC), BERLIN, 1)
    assert runs[0].local.strftime("%Y-%m-%d %H:%M") == "2027-10-31 00:30"
    runs = next_runs(
        parsed("30 0 $ * *").meaning, datetime(2027, 10, 1, tzinfo=UTC), UTC_ZONE, 1, target
    )
    assert runs[0].local.strftime("%Y-%m-%d %H:%M") == "2027-10-31 00:30"


def test_next_runs_start_in_the_zone_and_are_strictly_after_start() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    runs = next_runs(
        parsed("0 9 * * *").meaning, datetime(2026, 2, 28, 23, 0, tzinfo=UTC), tokyo, 2, OBAN
    )
    assert [r.local.isoformat() for r in runs] == [
        "2026-03-01T09:00:00+09:00",
        "2026-03-02T09:00:00+09:00",
    ]
    assert next_runs(parsed("@reboot").meaning, START, UTC_ZONE, 3, OBAN) == []
    assert next_runs(parsed("30 seconds").meaning, START, UTC_ZONE, 3) == []


# -- pg_cron 1.4: every job in GMT, so fixed-offset zones are shifted exactly or refused ----------


@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        ("UTC", timedelta(0)),
        ("Etc/GMT-2", timedelta(hours=2)),
        ("Asia/Kolkata", timedelta(hours=5, minutes=30)),
        ("Asia/Tokyo", timedelta(hours=9)),
        ("Europe/Berlin", None),
        ("America/New_York", None),
        ("Africa/Casablanca", None),  # +01 all year except a month around Ramadan
    ],
)
def test_fixed_offset(zone: str, offset: timedelta | None) -> None:
    assert fixed_offset(ZoneInfo(zone)) == offset


@pytest.mark.parametrize(
    ("text", "hours", "shifted"),
    [
        ("30 1 * * *", 2, "30 23 * * *"),  # crosses midnight, but every day is the same
        ("30 1 * * 1", 2, "30 23 * * 0"),  # Monday 01:30 at +02 is Sunday 23:30 UTC
        ("0 23 * * 0", -5, "0 4 * * 1"),
        ("0 10 * * 1-5", 2, "0 8 * * 1-5"),
        ("*/15 * * * *", 5.5, "*/15 * * * *"),
        ("0 10 * * 1-5", 5.5, "30 4 * * 1-5"),
        ("0 0 1 * *", -5, "0 5 1 * *"),
        ("0 0 1 * *", 2, None),  # the 1st at 00:00 +02 is the last day of the previous month
        ("0 1 * 6 *", 2, None),  # June 1st 01:00 +02 is May 31st
        ("0 1,23 * * 1", 2, None),  # one run moves to Sunday, the other stays on Monday
        ("0,30 10 * * *", 5.5, None),  # 04:30 and 05:00 are not a product of minutes and hours
        ("0 12 $ * *", 2, "0 10 $ * *"),
    ],
)
def test_shift_to_utc_is_exact_or_refused(text: str, hours: float, shifted: str | None) -> None:
    schedule = parsed(text)
    moved = shift_to_utc(schedule, timedelta(hours=hours))
    target = pg_cron("1.6")
    if shifted is None:
        assert moved is None
        return
    assert moved is not None
    assert emit(moved) == shifted
    zone = ZoneInfo(f"Etc/GMT{-int(hours):+d}") if hours == int(hours) else ZoneInfo("Asia/Kolkata")
    local = [r.local for r in next_runs(schedule.meaning, START, zone, 30, target)]
    utc = [r.local for r in next_runs(moved.meaning, START, UTC_ZONE, 30, target)]
    assert local == utc


def test_shift_keeps_non_cron_schedules() -> None:
    for text in ("@reboot", "@startup", "30 seconds"):
        schedule = parsed(text)
        assert shift_to_utc(schedule, timedelta(hours=3)) is schedule


# -- meaning, not spelling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("0 0 * * 7", "@weekly"),
        ("0 0 * * SUN", "0 0 * * 0,7"),
        ("0 0 * * *", "0 0 1-31 * *"),
        ("*/15 * * * *", "0,15,30,45 * * * *"),
        ("0 0 1 jan *", "@yearly"),
        ("1/20 * * * *", "1-59/20 * * * *"),
    ],
)
def test_equal_meanings(a: str, b: str) -> None:
    assert parsed(a).meaning == parsed(b).meaning
    assert hash(parsed(a).meaning) == hash(parsed(b).meaning)


def test_day_rule_is_part_of_the_meaning() -> None:
    any_rule = parsed("0 0 1,15 * 1", "any").meaning
    all_rule = parsed("0 0 1,15 * 1", "all").meaning
    assert isinstance(any_rule, Cron) and isinstance(all_rule, Cron)
    assert any_rule != all_rule
    assert parsed("0 0 1-31 * 1", "any").meaning == parsed("@daily").meaning
    assert parsed("0 0 1-31 * 1", "all").meaning == parsed("0 0 * * 1").meaning


@pytest.mark.parametrize(
    ("text", "day_match", "fires"),
    [
        ("0 0 30 2 *", None, False),
        ("0 0 31 2 *", None, False),
        ("0 0 31 4 *", None, False),
        ("0 0 31 4,6,9,11 *", None, False),
        ("0 0 30,31 2 *", None, False),
        ("0 0 29 2 *", None, True),
        ("0 0 31 4,12 *", None, True),
        ("0 0 30 4 *", None, True),
        ("0 0 31 2 1", "any", True),
        ("0 0 31 2 1", "all", False),
        ("0 0 31 4 5", "all", False),
        ("0 0 29 2 1", "all", True),
        ("0 0 30 2 */2", None, False),
        ("0 0 */31 2 *", None, True),  # February 1st only
        ("0 0 2-31/31 2 *", None, True),
        ("0 0 30-31/31 2 *", None, False),
        ("0 0 30-31/2 2 *", None, False),
        ("0 0 $ 2 1", "all", True),
        ("0 0 31 2 0-6", "any", True),
    ],
)
def test_impossible_dates(text: str, day_match: DayMatch, fires: bool) -> None:
    result = parse(text, day_match)
    if isinstance(result, Diagnostic):
        assert not fires, result.message
        assert result.code in {"C304", "C302"}
    else:
        assert fires


def test_columns_count_leading_blanks_and_range_ends() -> None:
    assert refused("  0 24 * * *").span.col == 5
    assert refused("0 0 * 1-13 *").span.col == 9
    problem = refused("\t0 0 1,15 * 1")
    assert (problem.code, problem.span.col) == ("C305", 6)


def test_spans_cover_what_is_refused() -> None:
    """Every refusal says where it ends too: the token, or the fields it is about."""
    cases = {
        "0 24 * * *": (3, 5),  # `24`
        "0 0 * * mon-fry": (13, 16),  # `fry`
        "*/60 * * * *": (3, 5),  # the step
        "@dialy": (1, 7),
        "0 0 1,15 * 1": (5, 13),  # day-of-month through day-of-week
        "0 0 31 2 *": (5, 7),
        "1#2 * * * *": (2, 3),  # `#`
        "10,,20 * * * *": (4, 4),  # the empty element: nothing there
    }
    for text, (col, end) in cases.items():
        span = refused(text).span
        assert (span.line, span.col, span.end_line, span.end_col) == (1, col, 1, end), text


def test_origin_places_a_refusal_in_the_file() -> None:
    from cronspec.diagnostics import Origin

    problem = parse("0 24 * * *", None, Origin("specs/x.yaml", 4, 12))
    assert isinstance(problem, Diagnostic)
    assert str(problem.span) == "specs/x.yaml:4:14"
    assert (problem.span.end_line, problem.span.end_col) == (4, 16)


def test_versions_compare_as_numbers() -> None:
    assert pg_cron("1.10").seconds and pg_cron("1.10").last_day
    assert not pg_cron("1.4.2").seconds and pg_cron("1.5.2").seconds
    assert not OBAN.seconds and not OBAN.last_day and OBAN.timezone_setting
    assert not pg_cron("1.4").timezone_setting


def test_reparse_reads_what_the_executor_reads() -> None:
    assert reparse("0 0 * * */7", OBAN) == parsed("0 0 * * 0").meaning
    assert reparse("0 0 * * */7", pg_cron("1.4")) == parsed("0 0 * * 0").meaning
    assert reparse("0 0 1 * 1", pg_cron("1.4")) == parsed("0 0 1 * 1", "any").meaning
    assert reparse("0 0 1 * 1", OBAN) == parsed("0 0 1 * 1", "all").meaning
    for text, target in [
        ("0 0 * * 7", OBAN),
        ("1/20 * * * *", pg_cron("1.6")),
        ("0 0 * * MON", OBAN),
        ("0 12 $ * *", pg_cron("1.5")),
        ("30 seconds", pg_cron("1.4")),
        ("*/60 * * * *", pg_cron("1.6")),
        ("0  0 * * *", OBAN),
        ("*/05 * * * *", OBAN),
    ]:
        result = reparse(text, target)
        assert isinstance(result, Unreadable), (text, target.label)
        assert target.label in result.reason


def test_reparse_reads_each_oban_version_as_its_parser_does() -> None:
    """The two parsers differ (tests/test_schedule_facts.py checks both on the real ones):
    2.23 refuses a day no month of the month field has, and checks a range's ends before
    stepping where 2.18 checks the values it steps to."""
    old, new = oban("2.18"), oban("2.23")
    assert old.label == "Oban 2.18" and not old.checks_dates and new.checks_dates
    assert reparse("0 0 30 2 *", old) == Cron((0,), (0,), (30,), (2,), ALL_DOWS, "all")
    assert isinstance(reparse("0 0 30 2 *", new), Unreadable)
    assert reparse("0 0 30 * *", new) == reparse("0 0 30 * *", old)  # `*` is never checked
    assert reparse("0 0 * * 1-12/12", old) == parsed("0 0 * * 1").meaning
    assert isinstance(reparse("0 0 * * 1-12/12", new), Unreadable)
    assert (
        reparse("*/60 * * * *", old) == reparse("*/60 * * * *", new) == parsed("0 * * * *").meaning
    )


def test_cron_is_a_meaning_and_the_form_is_how_it_was_written() -> None:
    a, b = parsed("0 0 * * 7"), parsed("@weekly")
    assert a.meaning == b.meaning and a.form != b.form and a != b
    assert isinstance(a.meaning, Cron) and a.form is not None
    assert a.form.dow_star is False and b.form is not None and b.form.dom_star is True
    assert {a.meaning, b.meaning} == {b.meaning}
