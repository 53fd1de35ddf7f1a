"""The schedule language as a table: what each target accepts, emits and runs.

Every row is one schedule as a spec would write it, with the verdict for Oban 2.23 and
pg_cron 1.4, 1.5 and 1.6: the exact text cronspec emits, or the error code and a piece of the
message. Accepted rows also give the first three runs in UTC after 2026-03-01T00:00Z (a
Sunday). The rows marked "facts" come from the facts table in
/work/shared/reference/scheduler-facts.md and /tmp/pgcron-facts.md; test_schedule_pg.py feeds
every pg_cron 1.4 text of this table to a real pg_cron 1.4.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pytest

from cronspec.schedule import (
    OBAN,
    Cron,
    ScheduleError,
    Startup,
    Target,
    check_target,
    describe,
    emit,
    fixed_offset,
    next_runs,
    parse,
    pg_cron,
    reparse,
    same_meaning,
    shift_to_utc,
)

TARGETS: dict[str, Target] = {
    "oban": OBAN,
    "1.4": pg_cron("1.4"),
    "1.5": pg_cron("1.5"),
    "1.6": pg_cron("1.6"),
}
START = datetime(2026, 3, 1, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Rej:
    """Rejected with this code; `fragment` is part of the message; `column` 1-based, if given."""

    code: str
    fragment: str
    column: int | None = None


Verdict = str | Rej | None  # the emitted text, a rejection, or None (accepted, nothing emitted)
DayMatch = Literal["any", "all"] | None


@dataclass(frozen=True)
class Case:
    text: str
    oban: Verdict
    pg14: Verdict
    pg15: Verdict
    pg16: Verdict
    runs: tuple[str, ...]
    day_match: DayMatch
    words: str | None

    def verdicts(self) -> dict[str, Verdict]:
        return {"oban": self.oban, "1.4": self.pg14, "1.5": self.pg15, "1.6": self.pg16}


_SAME: Verdict = Rej("same", "")


def c(
    text: str,
    verdict: Verdict,
    runs: str = "",
    *,
    dm: DayMatch = None,
    words: str | None = None,
    oban: Verdict = _SAME,
    pg14: Verdict = _SAME,
    pg15: Verdict = _SAME,
    pg16: Verdict = _SAME,
) -> Case:
    """One row: `verdict` for every target unless a target's own verdict is given."""

    def pick(own: Verdict) -> Verdict:
        return verdict if own is _SAME else own

    return Case(
        text, pick(oban), pick(pg14), pick(pg15), pick(pg16), tuple(runs.split()), dm, words
    )


NO_SECONDS_OBAN = Rej("C303", "Oban 2.23 has no seconds schedules")
NO_SECONDS_14 = Rej("C303", "added in pg_cron 1.5")
NO_LAST_OBAN = Rej("C303", "Oban 2.23 has no last-day-of-month syntax")
NO_LAST_PG = Rej("C303", "added in pg_cron 1.6")
OR_ON_PG = Rej("C305", "fires when either of day-of-month and day-of-week match")
AND_ON_OBAN = Rej("C305", "Oban 2.23 fires when both of day-of-month and day-of-week match")

# fmt: off
CASES: list[Case] = [
    # -- facts: what pg_cron 1.4.2 / 1.6 and Oban 2.23 accept, misread or reject --------------
    c("*/5 * * * *", "*/5 * * * *", "2026-03-01T00:05 2026-03-01T00:10 2026-03-01T00:15",
      words="every 5 minutes, every day"),
    c("0 7 * * 0", "0 7 * * 0", "2026-03-01T07:00 2026-03-08T07:00 2026-03-15T07:00",
      words="at 07:00, on Sunday"),
    c("0 7 * * 7", "0 7 * * 0", "2026-03-01T07:00 2026-03-08T07:00 2026-03-15T07:00"),
    c("0 7 * * sun", "0 7 * * 0", "2026-03-01T07:00 2026-03-08T07:00 2026-03-15T07:00"),
    c("0 7 * * SUN", "0 7 * * 0", "2026-03-01T07:00 2026-03-08T07:00 2026-03-15T07:00"),
    c("0 0 1 jan *", "0 0 1 1 *", "2027-01-01T00:00 2028-01-01T00:00 2029-01-01T00:00",
      words="at 00:00, on day 1 of the month in January"),
    c("0 0 1 JAN-mar *", "0 0 1 1-3 *", "2027-01-01T00:00 2027-02-01T00:00 2027-03-01T00:00",
      words="at 00:00, on day 1 of the month in January to March"),
    c("0-59/20 * * * *", "0-59/20 * * * *",
      "2026-03-01T00:20 2026-03-01T00:40 2026-03-01T01:00"),
    c("*/60 * * * *", Rej("C302", "at most /59", 3)),
    c("*/10 * * * * *", Rej("C301", "6 fields: cron has no seconds field here", 1)),
    c("@daily", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00",
      words="at 00:00, every day"),
    c("@daily extra", Rej("C301", "unexpected text `extra` after `@daily`", 8)),
    c("@reboot", "@reboot", words="when the executor starts (@reboot)"),
    c("@restart", Rej("C303", "`@restart` is pg_cron-only")),
    c("1#2 * * * *", Rej("C301", "silently drops `#N`", 2)),
    c("10-5 * * * *", Rej("C302", "reversed range `10-5`", 1)),
    c("0 0 31 2 *", Rej("C304", "can never fire", 5)),
    c(" 0 0 * * * ", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("0  0 * * *", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("0\t0 * * *", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("0,30 1-5/2 * * 1-5", "0,30 1-5/2 * * 1-5",
      "2026-03-02T01:00 2026-03-02T01:30 2026-03-02T03:00",
      words="at minutes 0 and 30 past hours 1, 3 and 5, on Monday to Friday"),
    c("0 0 1,15 * MON", Rej("C305", "say which you mean with `day_match: any`", 5)),
    c("5.5 * * * *", Rej("C301", "decimal values are not cron syntax", 2)),
    c("1/20 * * * *", "1-59/20 * * * *", "2026-03-01T00:01 2026-03-01T00:21 2026-03-01T00:41",
      words="at minutes 1, 21 and 41 of every hour, every day"),
    c("@DAILY", Rej("C301", "write `@daily`", 1)),
    c("@every 5m", Rej("C301", "`@every` is not cron syntax")),
    c("30 seconds", "30 seconds", oban=NO_SECONDS_OBAN, pg14=NO_SECONDS_14,
      words="every 30 seconds"),
    c("0 12 $ * *", "0 12 $ * *", "2026-03-31T12:00 2026-04-30T12:00 2026-05-31T12:00",
      oban=NO_LAST_OBAN, pg14=NO_LAST_PG, pg15=NO_LAST_PG,
      words="at 12:00, on the last day of the month"),
    c("0 0 L * *", Rej("C301", "`L` and `W` are not supported", 5)),
    c("0 0 ? * *", Rej("C301", "Quartz syntax", 5)),
    c("60 * * * *", Rej("C302", "minute value 60 is out of range 0-59", 1)),
    c("0 24 * * *", Rej("C302", "hour value 24 is out of range 0-23", 3)),
    c("0 0 0 * *", Rej("C302", "day-of-month value 0 is out of range 1-31", 5)),
    c("0 0 32 * *", Rej("C302", "day-of-month value 32 is out of range 1-31", 5)),
    c("0 0 * 13 *", Rej("C302", "month value 13 is out of range 1-12", 7)),
    c("0 0 * * 8", Rej("C302", "day-of-week value 8 is out of range 0-7", 9)),
    c("* * * *", Rej("C301", "found 4")),
    c("", Rej("C301", "empty schedule")),
    c("0 0 30 2 *", Rej("C304", "can never fire", 5)),
    c("H 0 * * *", Rej("C301", "Jenkins syntax", 1)),
    # -- nicknames ------------------------------------------------------------------------------
    c("@yearly", "0 0 1 1 *", "2027-01-01T00:00 2028-01-01T00:00 2029-01-01T00:00"),
    c("@annually", "0 0 1 1 *", "2027-01-01T00:00 2028-01-01T00:00 2029-01-01T00:00"),
    c("@monthly", "0 0 1 * *", "2026-04-01T00:00 2026-05-01T00:00 2026-06-01T00:00",
      words="at 00:00, on day 1 of the month"),
    c("@weekly", "0 0 * * 0", "2026-03-08T00:00 2026-03-15T00:00 2026-03-22T00:00"),
    c("@midnight", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("@hourly", "0 * * * *", "2026-03-01T01:00 2026-03-01T02:00 2026-03-01T03:00",
      words="at minute 0 of every hour, every day"),
    c("@startup", None, words="once at every deploy (@startup)"),
    c(" @daily\t", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("@Weekly", Rej("C301", "lowercase only", 1)),
    c("@reboot now", Rej("C301", "unexpected text `now` after `@reboot`", 9)),
    c("@daily\textra", Rej("C301", "unexpected text `extra` after `@daily`", 8)),
    c("@dialy", Rej("C301", "unknown nickname `@dialy`", 1)),
    # -- names, in any case, converted to numbers (Oban reads uppercase names only) -------------
    c("0 9 * * mon-FRI", "0 9 * * 1-5", "2026-03-02T09:00 2026-03-03T09:00 2026-03-04T09:00",
      words="at 09:00, on Monday to Friday"),
    c("0 9 * * Tue,thu", "0 9 * * 2,4", "2026-03-03T09:00 2026-03-05T09:00 2026-03-10T09:00",
      words="at 09:00, on Tuesday and Thursday"),
    c("0 0 1 Feb,AUG *", "0 0 1 2,8 *", "2026-08-01T00:00 2027-02-01T00:00 2027-08-01T00:00"),
    c("0 0 1 dec *", "0 0 1 12 *", "2026-12-01T00:00 2027-12-01T00:00 2028-12-01T00:00"),
    c("0 0 1 JUL *", "0 0 1 7 *", "2026-07-01T00:00 2027-07-01T00:00 2028-07-01T00:00"),
    c("0 0 * * MON-fri/2", "0 0 * * 1-5/2", "2026-03-02T00:00 2026-03-04T00:00 2026-03-06T00:00"),
    c("0 0 * * monday", Rej("C301", "three-letter name", 9)),
    c("0 0 1 january *", Rej("C301", "three-letter name", 7)),
    # -- weekday 7 (Sunday on pg_cron, rejected by Oban) in lists, ranges and steps -------------
    c("0 0 * * 0,7", "0 0 * * 0", "2026-03-08T00:00 2026-03-15T00:00 2026-03-22T00:00"),
    c("0 0 * * 5-7", "0 0 * * 0,5,6", "2026-03-06T00:00 2026-03-07T00:00 2026-03-08T00:00",
      words="at 00:00, on Sunday, Friday and Saturday"),
    c("0 0 * * 6-7", "0 0 * * 0,6", "2026-03-07T00:00 2026-03-08T00:00 2026-03-14T00:00"),
    c("0 0 * * 1-7/2", "0 0 * * 0,1,3,5", "2026-03-02T00:00 2026-03-04T00:00 2026-03-06T00:00"),
    c("0 0 * * 0-7", "0 0 * * 0-6", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("0 0 * * 3,7", "0 0 * * 3,0", "2026-03-04T00:00 2026-03-08T00:00 2026-03-11T00:00"),
    c("0 0 * * */7", "0 0 * * */7", "2026-03-08T00:00 2026-03-15T00:00 2026-03-22T00:00"),
    c("0 0 * * */2", "0 0 * * */2", "2026-03-03T00:00 2026-03-05T00:00 2026-03-07T00:00",
      words="at 00:00, on Sunday, Tuesday, Thursday and Saturday"),
    c("0 0 * * */3", "0 0 * * */3", "2026-03-04T00:00 2026-03-07T00:00 2026-03-08T00:00"),
    c("0 0 * * 7/2", Rej("C302", "cannot start at 7", 9)),
    c("0 0 * * SAT-SUN", Rej("C302", "`6,0` for a range that wraps around", 9)),
    # -- `A/S` (Oban syntax, rejected by pg_cron) in each field, written as a range ---------------
    c("5/15 * * * *", "5-59/15 * * * *", "2026-03-01T00:05 2026-03-01T00:20 2026-03-01T00:35"),
    c("0 3/8 * * *", "0 3-23/8 * * *", "2026-03-01T03:00 2026-03-01T11:00 2026-03-01T19:00",
      words="at 03:00, 11:00 and 19:00, every day"),
    c("0 0 10/10 * *", "0 0 10-31/10 * *",
      "2026-03-10T00:00 2026-03-20T00:00 2026-03-30T00:00",
      words="at 00:00, on every 10th day of the month from the 10th"),
    c("0 0 1 2/5 *", "0 0 1 2-12/5 *", "2026-07-01T00:00 2026-12-01T00:00 2027-02-01T00:00",
      words="at 00:00, on day 1 of the month in February, July and December"),
    c("0 0 * * 1/2", "0 0 * * 1-6/2", "2026-03-02T00:00 2026-03-04T00:00 2026-03-06T00:00",
      words="at 00:00, on Monday, Wednesday and Friday"),
    c("0 0 * * 6/2", "0 0 * * 6", "2026-03-07T00:00 2026-03-14T00:00 2026-03-21T00:00"),
    c("0 0 * * SUN/3", "0 0 * * 0-6/3", "2026-03-04T00:00 2026-03-07T00:00 2026-03-08T00:00"),
    # -- lists with ranges and steps --------------------------------------------------------------
    c("*/15 9-17 * * MON-FRI", "*/15 9-17 * * 1-5",
      "2026-03-02T09:00 2026-03-02T09:15 2026-03-02T09:30",
      words="every 15 minutes during hours 9 to 17, on Monday to Friday"),
    c("0,15,30,45 * * * *", "0,15,30,45 * * * *",
      "2026-03-01T00:15 2026-03-01T00:30 2026-03-01T00:45"),
    c("0 0-6/2,12,20-22 * * *", "0 0-6/2,12,20-22 * * *",
      "2026-03-01T02:00 2026-03-01T04:00 2026-03-01T06:00"),
    c("0 */6 * * *", "0 */6 * * *", "2026-03-01T06:00 2026-03-01T12:00 2026-03-01T18:00",
      words="at 00:00, 06:00, 12:00 and 18:00, every day"),
    c("30 */2 * * *", "30 */2 * * *", "2026-03-01T00:30 2026-03-01T02:30 2026-03-01T04:30",
      words="at minute 30 of every 2nd hour, every day"),
    c("0 0 */2 * *", "0 0 */2 * *", "2026-03-03T00:00 2026-03-05T00:00 2026-03-07T00:00",
      words="at 00:00, on every 2nd day of the month from the 1st"),
    c("0 0 */3 * *", "0 0 */3 * *", "2026-03-04T00:00 2026-03-07T00:00 2026-03-10T00:00",
      words="at 00:00, on every 3rd day of the month from the 1st"),
    c("0 0 1 */3 *", "0 0 1 */3 *", "2026-04-01T00:00 2026-07-01T00:00 2026-10-01T00:00",
      words="at 00:00, on day 1 of the month in January, April, July and October"),
    c("0 0 1,15 * *", "0 0 1,15 * *", "2026-03-15T00:00 2026-04-01T00:00 2026-04-15T00:00",
      words="at 00:00, on days 1 and 15 of the month"),
    c("*,5 * * * *", "* * * * *", "2026-03-01T00:01 2026-03-01T00:02 2026-03-01T00:03",
      words="every minute, every day"),
    c("0 0 10,* * 0", "0 0 1-31 * 0", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00",
      dm="any", oban=Rej("C305", "without the question is `0 0 * * *`")),
    c("0 0 *,10 * 0", "0 0 * * 0", "2026-03-08T00:00 2026-03-15T00:00 2026-03-22T00:00"),
    c("1-5,10-15/5 * * * *", "1-5,10-15/5 * * * *",
      "2026-03-01T00:01 2026-03-01T00:02 2026-03-01T00:03"),
    c("0 12 * * 1,3-5", "0 12 * * 1,3-5", "2026-03-02T12:00 2026-03-04T12:00 2026-03-05T12:00",
      words="at 12:00, on Monday and Wednesday to Friday"),
    c("0,0 0 * * *", "0 0 * * *", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00"),
    c("05 07 * * *", "5 7 * * *", "2026-03-01T07:05 2026-03-02T07:05 2026-03-03T07:05"),
    c("*/05 * * * *", "*/5 * * * *", "2026-03-01T00:05 2026-03-01T00:10 2026-03-01T00:15"),
    # -- steps out of range, empty parts, other crons' syntax ------------------------------------
    c("0 */24 * * *", Rej("C302", "at most /23", 5)),
    c("0 0 */31 * *", Rej("C302", "at most /30", 7)),
    c("0 0 1 */12 *", Rej("C302", "at most /11", 9)),
    c("0 0 * * */8", Rej("C302", "at most /7", 11)),
    c("*/0 * * * *", Rej("C302", "step /0", 3)),
    c("0 0 1-5/99 * *", Rej("C302", "at most /30", 9)),
    c("0 0 1-32 * *", Rej("C302", "day-of-month value 32 is out of range 1-31", 7)),
    c("0 9-25 * * *", Rej("C302", "hour value 25 is out of range 0-23", 5)),
    c("0 0 -1 * *", Rej("C301", "`-1` is not valid in the day-of-month field", 5)),
    c("0 0 1,,2 * *", Rej("C301", "empty list element", 7)),
    c("0 0 5W * *", Rej("C301", "`L` and `W` are not supported", 5)),
    c("0 0 * * 5L", Rej("C301", "`L` and `W` are not supported", 9)),
    c("0 0 LW * *", Rej("C301", "`L` and `W` are not supported", 5)),
    c("0 0 * * *\n", Rej("C301", "control character")),
    c("0\u00a00 * * *", Rej("C301", "non-ASCII space (U+00A0)", 2)),
    # -- Feb 29, impossible dates ---------------------------------------------------------------
    c("0 0 29 2 *", "0 0 29 2 *", "2028-02-29T00:00 2032-02-29T00:00 2036-02-29T00:00",
      words="at 00:00, on day 29 of the month in February"),
    c("0 0 29 2 1", "0 0 29 2 1", "2044-02-29T00:00", dm="all", pg14=OR_ON_PG,
      pg15=OR_ON_PG, pg16=OR_ON_PG,
      words="at 00:00, on day 29 of the month if it is a Monday in February"),
    c("0 0 30,31 2 *", Rej("C304", "can never fire", 5)),
    c("0 0 31 4,6,9,11 *", Rej("C304", "the last day these months have is the 30th", 5)),
    c("0 0 31 4,5 *", "0 0 31 4,5 *", "2026-05-31T00:00 2027-05-31T00:00 2028-05-31T00:00"),
    c("0 0 30 2 1", "0 0 30 2 1", "2027-02-01T00:00 2027-02-08T00:00 2027-02-15T00:00",
      dm="any", oban=AND_ON_OBAN),
    c("0 0 31 2 1", Rej("C304", "can never fire", 5), dm="all"),
    # -- the day rule: Vixie (pg_cron) vs AND (Oban) ----------------------------------------------
    c("0 0 1,15 * MON", "0 0 1,15 * 1", "2026-03-02T00:00 2026-03-09T00:00 2026-03-15T00:00",
      dm="any", oban=AND_ON_OBAN,
      words="at 00:00, on days 1 and 15 of the month or on Monday"),
    c("0 0 1,15 * MON", "0 0 1,15 * 1", "2026-06-01T00:00 2026-06-15T00:00 2027-02-01T00:00",
      dm="all", pg14=Rej("C305", "pg_cron 1.4 fires when either"),
      pg15=Rej("C305", "pg_cron 1.5 fires when either"),
      pg16=Rej("C305", "run it on Oban (`executor: oban`)"),
      words="at 00:00, on days 1 and 15 of the month if it is a Monday"),
    c("0 0 */2 * 1", "0 0 */2 * 1", "2026-03-09T00:00 2026-03-23T00:00 2026-04-13T00:00",
      words="at 00:00, on every 2nd day of the month from the 1st if it is a Monday"),
    c("0 0 1-31 * 1", Rej("C305", "both day-of-month (`1-31`) and day-of-week (`1`)", 5)),
    c("0 0 1-31 * 1", "0 0 1-31 * 1", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00",
      dm="any", oban=Rej("C305", "the same schedule without the question is `0 0 * * *`"),
      words="at 00:00, every day"),
    c("0 0 1-31 * 1", "0 0 1-31 * 1", "2026-03-02T00:00 2026-03-09T00:00 2026-03-16T00:00",
      dm="all", pg14=Rej("C305", "the same schedule without the question is `0 0 * * 1`"),
      pg15=OR_ON_PG, pg16=OR_ON_PG, words="at 00:00, on Monday"),
    c("0 0 13 * FRI", "0 0 13 * 5", "2026-03-13T00:00 2026-11-13T00:00 2027-08-13T00:00",
      dm="all", pg14=OR_ON_PG, pg15=OR_ON_PG, pg16=OR_ON_PG,
      words="at 00:00, on day 13 of the month if it is a Friday"),
    c("0 0 1 * 0-6", "0 0 1 * 0-6", "2026-03-02T00:00 2026-03-03T00:00 2026-03-04T00:00",
      dm="any", oban=AND_ON_OBAN),
    c("0 0 * * 1", "0 0 * * 1", "2026-03-02T00:00 2026-03-09T00:00 2026-03-16T00:00",
      dm="any", words="at 00:00, on Monday"),
    c("0 0 */10 * 0-6", "0 0 */10 * 0-6", "2026-03-11T00:00 2026-03-21T00:00 2026-03-31T00:00"),
    c("0 12 $ * 1", "0 12 $ * 1", "2026-03-02T12:00 2026-03-09T12:00 2026-03-16T12:00",
      dm="any", oban=NO_LAST_OBAN, pg14=NO_LAST_PG, pg15=NO_LAST_PG,
      words="at 12:00, on the last day of the month or on Monday"),
    c("0 12 $ * 5", NO_LAST_PG, dm="all", oban=NO_LAST_OBAN,
      pg16=Rej("C305", "pg_cron 1.6 fires when either")),
    # -- seconds and `$` --------------------------------------------------------------------------
    c("1 second", "1 seconds", oban=NO_SECONDS_OBAN, pg14=NO_SECONDS_14, words="every second"),
    c("59 seconds", "59 seconds", oban=NO_SECONDS_OBAN, pg14=NO_SECONDS_14),
    c("0 seconds", Rej("C302", "takes N from 1 to 59")),
    c("60 seconds", Rej("C302", "takes N from 1 to 59")),
    c("30 SECONDS", Rej("C301", "lowercase")),
    c("30s", Rej("C301", "`N seconds`")),
    c("0 0 $ 2 *", "0 0 $ 2 *", "2027-02-28T00:00 2028-02-29T00:00 2029-02-28T00:00",
      oban=NO_LAST_OBAN, pg14=NO_LAST_PG, pg15=NO_LAST_PG,
      words="at 00:00, on the last day of the month in February"),
    c("0 0 1,$ * *", Rej("C301", "only as the whole day-of-month field", 7)),
    c("$ 0 * * *", Rej("C301", "only as the whole day-of-month field", 1)),
]
# fmt: on


def _case_id(case: Case) -> str:
    return repr(case.text) + (f"-{case.day_match}" if case.day_match else "")


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 90
    assert len({(case.text, case.day_match) for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_corpus(case: Case) -> None:
    verdicts = case.verdicts()
    try:
        parsed = parse(case.text, case.day_match)
    except ScheduleError as exc:
        rejection = verdicts["oban"]
        assert isinstance(rejection, Rej), f"rejected: {exc.code} {exc.message}"
        assert all(v == rejection for v in verdicts.values()), "a parse error is for everyone"
        assert exc.code == rejection.code, exc.message
        assert rejection.fragment in exc.message
        if rejection.column is not None:
            assert exc.column == rejection.column
        return
    accepting: Target | None = None
    for key, verdict in verdicts.items():
        target = TARGETS[key]
        problem = check_target(parsed, target)
        if isinstance(verdict, Rej):
            assert problem is not None, f"{target.label} accepted it"
            assert problem.code == verdict.code, problem.message
            assert verdict.fragment in problem.message
            assert target.label in problem.message  # every rejection names executor and version
            continue
        assert problem is None, f"{target.label}: {problem and problem.message}"
        accepting = accepting or target
        if verdict is None:
            assert isinstance(parsed.meaning, Startup)
            continue
        emitted = emit(parsed, target)
        assert emitted == verdict, target.label
        assert same_meaning(reparse(emitted, target), parsed.meaning), target.label
    runs = next_runs(parsed.meaning, START, UTC_ZONE, 3, accepting) if accepting else []
    assert tuple(r.local.strftime("%Y-%m-%dT%H:%M") for r in runs) == case.runs
    assert all(not r.note for r in runs)
    if case.words is not None:
        assert describe(parsed) == case.words


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
    assert describe(parse(text)) == words


# -- daylight saving: what each executor does with a skipped or repeated local time ---------------

SPRING = datetime(2026, 3, 27, 12, tzinfo=UTC)  # Berlin: 2026-03-29 02:00 CET -> 03:00 CEST
AUTUMN = datetime(2026, 10, 23, 12, tzinfo=UTC)  # Berlin: 2026-10-25 03:00 CEST -> 02:00 CET


@pytest.mark.parametrize("target", [OBAN, pg_cron("1.5"), pg_cron("1.6")], ids=lambda t: t.label)
def test_a_skipped_local_time_is_not_a_run(target: Target) -> None:
    runs = next_runs(parse("30 2 * * *").meaning, SPRING, BERLIN, 3, target)
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
    runs = next_runs(parse("*/30 2 * * *").meaning, AUTUMN, BERLIN, 6, target)
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
    runs = next_runs(parse("0 1,4 * * *").meaning, SPRING, BERLIN, 6, OBAN)
    assert all(not r.note for r in runs)
    assert [r.local.hour for r in runs] == [1, 4, 1, 4, 1, 4]


def test_pg_cron_tests_last_day_by_adding_24_hours() -> None:
    target = pg_cron("1.6")
    # 2030-03-31 is the last Sunday of March: Berlin moves to CEST that night, so 23:30 on
    # the 30th plus 24 hours is already April 1st, and pg_cron runs `$` a day early too.
    runs = next_runs(
        parse("30 23 $ * *").meaning, datetime(2030, 3, 1, tzinfo=UTC), BERLIN, 3, target
    )
    assert [r.local.strftime("%m-%d %H:%M") for r in runs] == [
        "03-30 23:30",
        "03-31 23:30",
        "04-30 23:30",
    ]
    assert "it also runs at 2030-03-30 23:30, the day before the last" in runs[0].note
    # 2027-10-31 is the last Sunday of October: 00:30 CEST plus 24 hours is still the 31st.
    runs = next_runs(
        parse("30 0 $ * *").meaning, datetime(2027, 10, 1, tzinfo=UTC), BERLIN, 2, target
    )
    assert [r.local.strftime("%Y-%m-%d %H:%M") for r in runs] == [
        "2027-11-30 00:30",
        "2027-12-31 00:30",
    ]
    assert "it does not run at 2027-10-31 00:30 on the last day" in runs[0].note
    # the schedule's own meaning, and UTC, have no such surprise
    runs = next_runs(parse("30 0 $ * *").meaning, datetime(2027, 10, 1, tzinfo=UTC), BERLIN, 1)
    assert runs[0].local.strftime("%Y-%m-%d %H:%M") == "2027-10-31 00:30"
    runs = next_runs(
        parse("30 0 $ * *").meaning, datetime(2027, 10, 1, tzinfo=UTC), UTC_ZONE, 1, target
    )
    assert runs[0].local.strftime("%Y-%m-%d %H:%M") == "2027-10-31 00:30"


def test_next_runs_start_in_the_zone_and_are_strictly_after_start() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    runs = next_runs(
        parse("0 9 * * *").meaning, datetime(2026, 2, 28, 23, 0, tzinfo=UTC), tokyo, 2, OBAN
    )
    assert [r.local.isoformat() for r in runs] == [
        "2026-03-01T09:00:00+09:00",
        "2026-03-02T09:00:00+09:00",
    ]
    assert next_runs(parse("@reboot").meaning, START, UTC_ZONE, 3, OBAN) == []
    assert next_runs(parse("30 seconds").meaning, START, UTC_ZONE, 3) == []


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
    schedule = parse(text)
    moved = shift_to_utc(schedule, timedelta(hours=hours))
    target = pg_cron("1.6")
    if shifted is None:
        assert moved is None
        return
    assert moved is not None
    assert emit(moved, target) == shifted
    zone = ZoneInfo(f"Etc/GMT{-int(hours):+d}") if hours == int(hours) else ZoneInfo("Asia/Kolkata")
    local = [r.local for r in next_runs(schedule.meaning, START, zone, 30, target)]
    utc = [r.local for r in next_runs(moved.meaning, START, UTC_ZONE, 30, target)]
    assert local == utc


def test_shift_keeps_non_cron_schedules() -> None:
    for text in ("@reboot", "@startup", "30 seconds"):
        schedule = parse(text)
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
    assert parse(a).meaning == parse(b).meaning
    assert hash(parse(a).meaning) == hash(parse(b).meaning)


def test_day_rule_is_part_of_the_meaning() -> None:
    any_rule = parse("0 0 1,15 * 1", "any").meaning
    all_rule = parse("0 0 1,15 * 1", "all").meaning
    assert isinstance(any_rule, Cron) and isinstance(all_rule, Cron)
    assert any_rule != all_rule
    assert parse("0 0 1-31 * 1", "any").meaning == parse("@daily").meaning
    assert parse("0 0 1-31 * 1", "all").meaning == parse("0 0 * * 1").meaning


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
        ("0 0 */31 2 *", None, False),
        ("0 0 30-31/2 2 *", None, False),
        ("0 0 $ 2 1", "all", True),
        ("0 0 31 2 0-6", "any", True),
    ],
)
def test_impossible_dates(text: str, day_match: DayMatch, fires: bool) -> None:
    try:
        parse(text, day_match)
    except ScheduleError as exc:
        assert not fires, exc.message
        assert exc.code in {"C304", "C302"}
    else:
        assert fires


def test_columns_count_leading_blanks_and_range_ends() -> None:
    with pytest.raises(ScheduleError) as info:
        parse("  0 24 * * *")
    assert info.value.column == 5
    with pytest.raises(ScheduleError) as info:
        parse("0 0 * 1-13 *")
    assert info.value.column == 9
    with pytest.raises(ScheduleError) as info:
        parse("\t0 0 1,15 * 1")
    assert (info.value.code, info.value.column) == ("C305", 6)


def test_versions_compare_as_numbers() -> None:
    assert pg_cron("1.10").seconds and pg_cron("1.10").last_day
    assert not pg_cron("1.4.2").seconds and pg_cron("1.5.2").seconds
    assert not OBAN.seconds and not OBAN.last_day and OBAN.timezone_setting
    assert not pg_cron("1.4").timezone_setting


def test_reparse_reads_what_the_executor_reads() -> None:
    assert reparse("0 0 * * */7", OBAN) == parse("0 0 * * 0").meaning
    assert reparse("0 0 * * */7", pg_cron("1.4")) == parse("0 0 * * 0").meaning
    assert reparse("0 0 1 * 1", pg_cron("1.4")) == parse("0 0 1 * 1", "any").meaning
    assert reparse("0 0 1 * 1", OBAN) == parse("0 0 1 * 1", "all").meaning
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
        with pytest.raises(ScheduleError):
            reparse(text, target)
