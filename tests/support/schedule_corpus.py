"""The schedule corpus: one row per schedule as a spec would write it, with the verdict of
Oban 2.23 and pg_cron 1.4, 1.5 and 1.6 (the exact text cronspec emits, or the code and a piece
of the message of its refusal), and for accepted rows the first three runs in UTC after
2026-03-01T00:00Z (a Sunday).

The rows marked "facts" come from the facts table of /work/shared/reference/scheduler-facts.md,
each confirmed on the real executors: test_schedule_pg.py feeds every pg_cron 1.4 text of this
table to a real pg_cron 1.4.2. test_schedule.py checks every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cronspec.schedule import OBAN, Target, pg_cron

TARGETS: dict[str, Target] = {
    "oban": OBAN,
    "1.4": pg_cron("1.4"),
    "1.5": pg_cron("1.5"),
    "1.6": pg_cron("1.6"),
}
START = datetime(2026, 3, 1, tzinfo=UTC)


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
    c("@restart", "@reboot", oban=Rej("C303", "`@restart` is pg_cron's name for `@reboot`"),
      words="when the executor starts (@reboot)"),
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
    c("0 0 */31 * *", "0 0 */31 * *", "2026-04-01T00:00 2026-05-01T00:00 2026-06-01T00:00",
      words="at 00:00, on every 31st day of the month from the 1st"),
    c("0 0 1 */12 *", "0 0 1 */12 *", "2027-01-01T00:00 2028-01-01T00:00 2029-01-01T00:00",
      words="at 00:00, on day 1 of the month in January"),
    c("0 0 */32 * *", Rej("C302", "at most /31", 7)),
    c("0 0 1 */13 *", Rej("C302", "at most /12", 9)),
    c("*/100 * * * *", Rej("C302", "rejects a step of more than two digits", 3)),
    c("*/5000000000 * * * *", Rej("C302", "keep only the low 32 bits", 3)),
    c("5/60 * * * *", Rej("C302", "pg_cron 1.4-1.6 rejects it", 3)),
    c("0 0 * * */8", Rej("C302", "at most /7", 11)),
    c("*/0 * * * *", Rej("C302", "step /0", 3)),
    c("0 0 1-5/99 * *", Rej("C302", "at most /31", 9)),
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
    c("30 SECONDS", "30 seconds", oban=NO_SECONDS_OBAN, pg14=NO_SECONDS_14),
    c("30seconds", "30 seconds", oban=NO_SECONDS_OBAN, pg14=NO_SECONDS_14),
    c("30 Second", "30 seconds", oban=NO_SECONDS_OBAN, pg14=NO_SECONDS_14),
    c("30 sec", Rej("C301", "`N seconds` only")),
    c("30s", Rej("C301", "`N seconds`")),
    c("0 0 $ 2 *", "0 0 $ 2 *", "2027-02-28T00:00 2028-02-29T00:00 2029-02-28T00:00",
      oban=NO_LAST_OBAN, pg14=NO_LAST_PG, pg15=NO_LAST_PG,
      words="at 00:00, on the last day of the month in February"),
    c("0 0 1,$ * *", Rej("C301", "only as the whole day-of-month field", 7)),
    c("$ 0 * * *", Rej("C301", "only as the whole day-of-month field", 1)),
]
# fmt: on
