"""Every claim cronspec's schedule messages make about an executor, checked on the executor.

A message such as "pg_cron 1.4 and Oban 2.18-2.23 would run it at 0 only, and pg_cron 1.6.5+
rejects it" is a set of facts. Each row of FACTS is a text, a piece of the message cronspec
gives for it, and what each executor does with the text:

- pg_cron 1.4.2 and 1.6.7: `cron.schedule` takes it or refuses it, and pg_cron's own parser
  (support/pg_cron_parser: `parse_cron_entry` in the running server) says what it runs;
- Oban 2.18.3 (the parser its Cron plugin runs) and Oban 2.23.1's parser: refused, or the
  values of the five fields.

`test_every_claim_is_a_checked_fact` holds the table to the source: every message text in
schedule/parse.py, fates.py and emit.py that names an executor appears in a message of a row
here, or in CHECKED_ELSEWHERE with the test that checks it. A message is wrong only where a
row shows it wrong; the rows that did (issue 13 part 6) are fixed in the messages.
"""

from __future__ import annotations

import ast
import calendar
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
import pytest
from support import pg_cron_parser
from support.common import need
from support.oban import CronRead, Oban, parse_with_2_18, read_with_2_23
from support.pg_cron_parser import PgRead, Reader
from support.servers import Server

from cronspec.diagnostics import Diagnostic, Span
from cronspec.schedule import (
    Cron,
    DayMatch,
    Reboot,
    Schedule,
    Target,
    check_target,
    compile_schedule,
    oban,
    parse,
    pg_cron,
    zone_refusal,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "cronspec" / "schedule"
Kind = Literal["rejects", "accepts", "never"]


@dataclass(frozen=True)
class Means:
    """Accepted, and run as cronspec's meaning of `text` (under `day_match`)."""

    text: str
    day_match: DayMatch | None = None

    def meaning(self) -> Cron | Reboot:
        schedule = parse(self.text, self.day_match)
        assert isinstance(schedule, Schedule), schedule
        assert isinstance(schedule.meaning, Cron | Reboot)
        return schedule.meaning


Verdict = Kind | Means
REJ: Kind = "rejects"
ACC: Kind = "accepts"  # accepted; what it runs is checked elsewhere (N seconds)
NEVER: Kind = "never"  # accepted, and no minute of any date matches


@dataclass(frozen=True)
class Fact:
    text: str
    says: str  # a piece of cronspec's message for the text
    pg14: Verdict
    pg16: Verdict
    oban18: Verdict
    oban23: Verdict
    target: str | None = None  # the message is check_target's for this target, not parse's
    day_match: DayMatch | None = None

    def message(self) -> str:
        schedule = parse(self.text, self.day_match)
        if self.target is None:
            assert isinstance(schedule, Diagnostic), f"{self.text!r} is accepted"
            return schedule.message
        assert isinstance(schedule, Schedule), schedule
        problem = check_target(schedule, TARGETS[self.target])
        assert problem is not None, f"{self.text!r} is accepted for {self.target}"
        return problem.message


TARGETS: dict[str, Target] = {
    "1.4": pg_cron("1.4"),
    "1.6": pg_cron("1.6"),
    "oban": oban("2.23"),
    "oban 2.18": oban("2.18"),
}


def f(
    text: str,
    says: str,
    pg: Verdict,
    ob: Verdict,
    *,
    pg14: Verdict | None = None,
    pg16: Verdict | None = None,
    oban18: Verdict | None = None,
    oban23: Verdict | None = None,
    target: str | None = None,
    dm: DayMatch | None = None,
) -> Fact:
    """A row: `pg` for both pg_cron servers and `ob` for both Oban parsers, unless one says."""
    return Fact(
        text,
        says,
        pg14 or pg,
        pg16 or pg,
        oban18 or ob,
        oban23 or ob,
        target,
        dm,
    )


STEP = "pg_cron 1.4 and Oban 2.18-2.23 would run it at {} only, and pg_cron 1.6.5+ rejects it"
BITS = (
    "pg_cron 1.4-1.6 keep only the low 32 bits of so large a step: they reject some such steps "
    "and run others as another step"
)
EITHER = "pg_cron fires when either matches, Oban only when both do"

# fmt: off
FACTS: list[Fact] = [
    f("0\u00a00 * * *", "separate fields with plain spaces", REJ, REJ),
    f("", "need 5 cron fields", REJ, REJ),
    f("0 seconds", "`N seconds` takes N from 1 to 59", REJ, REJ),
    f("60 seconds", "`N seconds` takes N from 1 to 59", REJ, REJ),
    f("30s", "pg_cron 1.5+ reads intervals as `N seconds` only", REJ, REJ),
    f("30 secs", "pg_cron 1.5+ reads intervals as `N seconds` only", REJ, REJ),
    f("@every 5m", "(pg_cron 1.4-1.6 and Oban 2.18-2.23 reject it)", REJ, REJ),
    f("@daily extra", "pg_cron 1.4-1.6 silently ignores it and Oban 2.18-2.23 rejects it",
      Means("@daily"), REJ),
    f("@reboot now", "pg_cron 1.4-1.6 silently ignores it", Means("@reboot"), REJ),
    f("@DAILY", "read nicknames in lowercase only (pg_cron rejects `@DAILY`)", REJ, REJ),
    f("@Reboot", "read nicknames in lowercase only (pg_cron rejects `@Reboot`)", REJ, REJ),
    f("@RESTART", "read nicknames in lowercase only (pg_cron rejects `@RESTART`)", REJ, REJ),
    f("@restart", "`@restart` is pg_cron's name for `@reboot` (the database server's start); "
      "Oban 2.23 rejects it",
      Means("@reboot"), REJ, target="oban"),
    f("@restart", "Oban 2.18 rejects it", Means("@reboot"), REJ, target="oban 2.18"),
    f("*/10 * * * * *", "pg_cron silently ignores the 6th field (`*/10 * * * * *` would run "
      "every 10 minutes) and Oban rejects it", Means("*/10 * * * *"), REJ),
    f("0 3 * * * 1 2", "7 fields: pg_cron 1.4-1.6 silently ignores every field after the 5th "
      "and Oban 2.18-2.23 rejects it", Means("0 3 * * *"), REJ),
    f("* * * *", "pg_cron 1.4-1.6 and Oban 2.18-2.23 need all 5", REJ, REJ),
    f("0 0 1,15 * 1", EITHER, Means("0 0 1,15 * 1", "any"), Means("0 0 1,15 * 1", "all")),
    f("0 0 13 * 5", EITHER, Means("0 0 13 * 5", "any"), Means("0 0 13 * 5", "all")),
    f("0 0 */2 * 1", "", Means("0 0 */2 * 1"), Means("0 0 */2 * 1"), target="none"),
    f("0 0 31 2 *", "pg_cron 1.4-1.6 and Oban 2.18 accept it and never run it, Oban 2.23 "
      "rejects it", NEVER, NEVER, oban23=REJ),
    f("0 0 30,31 2 */2", "and never run it", NEVER, NEVER, oban23=REJ),
    f("0 0 31 4,6,9,11 *", "and pg_cron 1.6+ reads `$` as the last day of any month", NEVER,
      NEVER, oban23=REJ, pg16=NEVER),
    f("0 0 * * 1#2", "pg_cron 1.4-1.6 silently drops `#N` (`1#2` runs every Monday) and "
      "Oban 2.18-2.23 rejects it", Means("0 0 * * 1"), REJ),
    f("1#2 * * * *", "silently drops `#N`", Means("1 * * * *"), REJ),
    f("0 0 ? * *", "`?` is Quartz syntax that pg_cron 1.4-1.6 and Oban 2.18-2.23 reject",
      REJ, REJ),
    f("5.5 * * * *", "pg_cron 1.4-1.6 silently drops the fraction (`5.5` runs as `5`) and "
      "Oban 2.18-2.23 rejects it", Means("5 * * * *"), REJ),
    f("0 0 1,$ * *", "`$` (last day of the month) is allowed only as the whole day-of-month "
      "field, e.g. `0 12 $ * *`, and only on pg_cron 1.6+", REJ, REJ),
    f("$ 0 * * *", "only as the whole day-of-month field", REJ, REJ),
    f("0 0 L * *", "are not supported by pg_cron 1.4-1.6 and Oban 2.18-2.23; for the last day "
      "of the month pg_cron 1.6+ reads `$` as the whole day-of-month field", REJ, REJ),
    f("0 0 LW * *", "are not supported by pg_cron 1.4-1.6 and Oban 2.18-2.23", REJ, REJ),
    f("0 0 * * 5L", "are not supported by pg_cron 1.4-1.6 and Oban 2.18-2.23", REJ, REJ),
    f("H * * * *", "Jenkins syntax that pg_cron 1.4-1.6 and Oban 2.18-2.23 reject", REJ, REJ),
    f("*/0 * * * *", "never advances; pg_cron 1.4-1.6 and Oban 2.18-2.23 reject it", REJ, REJ),
    f("*/60 * * * *", STEP.format(0), Means("0 * * * *"), Means("0 * * * *"), pg16=REJ),
    f("0 */24 * * *", STEP.format(0), Means("0 0 * * *"), Means("0 0 * * *"), pg16=REJ),
    f("0 0 */32 * *", STEP.format(1), Means("0 0 1 * *"), Means("0 0 1 * *"), pg16=REJ),
    f("0 0 1 */13 *", STEP.format(1), Means("0 0 1 1 *"), Means("0 0 1 1 *"), pg16=REJ),
    f("0 0 * * */8", STEP.format(0), Means("0 0 * * 0"), Means("0 0 * * 0"), pg16=REJ),
    f("10-20/60 * * * *", STEP.format(10), Means("10 * * * *"), Means("10 * * * *"),
      pg16=REJ),
    f("*/100 * * * *", "pg_cron 1.4 would run it at 0 only, Oban 2.18-2.23 rejects a step of "
      "more than two digits, and pg_cron 1.6.5+ rejects it", Means("0 * * * *"), REJ,
      pg16=REJ),
    f("*/2147483647 * * * *", "pg_cron 1.4 would run it at 0 only", Means("0 * * * *"), REJ,
      pg16=REJ),
    f("*/3000000000 * * * *", BITS, REJ, REJ),
    f("*/4294967297 * * * *", "(`*/4294967297` runs every minute)", Means("* * * * *"), REJ),
    f("*/5000000000 * * * *", BITS, Means("0 * * * *"), REJ, pg16=REJ),
    f("5/60 * * * *", "Oban 2.18-2.23 would run it at 5 only, and pg_cron 1.4-1.6 rejects it",
      REJ, Means("5 * * * *")),
    f("10-5 * * * *", "pg_cron 1.4 accepts it and never runs it, pg_cron 1.6 runs it at "
      "0,1,2,3,4,5,10,11,12,13,14,15 instead, Oban 2.18-2.23 rejects it", NEVER, REJ,
      pg16=Means("0-5,10-15 * * * *")),
    f("0 0 20-3 * *", "pg_cron 1.6 runs it at 1,2,3,20,21,22,23,24 instead", NEVER, REJ,
      pg16=Means("0 0 1-3,20-24 * *")),
    f("0 0 * 12-1 *", "pg_cron 1.6 runs it at 1,12 instead", NEVER, REJ,
      pg16=Means("0 0 * 1,12 *")),
    f("5-3 * * * *", "pg_cron 1.4-1.6 accepts it and never runs it", NEVER, REJ),
    f("10-5/2 * * * *", "pg_cron 1.4-1.6 accepts it and never runs it", NEVER, REJ),
    f("0 0 * * 5-1", "accepts it and never runs it", NEVER, REJ),
    f("0 0 * * 7/2", "an `A/S` weekday step runs to Saturday (6), so it cannot start at 7",
      REJ, REJ),
    f("0 0 * * 1/2", "", REJ, Means("0 0 * * 1,3,5"), target="none"),
    f("0 0 * * monday", "three-letter name (sun, mon, tue, ...), as pg_cron 1.4-1.6 and Oban "
      "2.18-2.23 read them", REJ, REJ),
    f("0 0 * * MON", "", Means("0 0 * * 1"), Means("0 0 * * 1"), target="none"),
    f("0 0 1 JAN *", "", Means("0 0 1 1 *"), Means("0 0 1 1 *"), target="none"),
    f("0 0 * * mon", "", Means("0 0 * * 1"), REJ, target="none"),
    # check_target: the executor or version of the task refuses what parses
    f("0 0 1,15 * 1", "pg_cron 1.4 fires when either of day-of-month and day-of-week match",
      Means("0 0 1,15 * 1", "any"), Means("0 0 1,15 * 1", "all"), target="1.4", dm="all"),
    f("0 0 1,15 * 1", "Oban 2.23 fires when both of day-of-month and day-of-week match",
      Means("0 0 1,15 * 1", "any"), Means("0 0 1,15 * 1", "all"), target="oban", dm="any"),
    f("30 seconds", "Oban 2.23 has no seconds schedules (its finest grain is one minute)",
      REJ, REJ, pg16=ACC, target="oban"),
    f("30 seconds", "pg_cron 1.4 has no seconds schedules (added in pg_cron 1.5)", REJ, REJ,
      pg16=ACC, target="1.4"),
    f("30 SECONDS", "pg_cron 1.4 has no seconds schedules", REJ, REJ, pg16=ACC, target="1.4"),
    f("30seconds", "pg_cron 1.4 has no seconds schedules", REJ, REJ, pg16=ACC, target="1.4"),
    f("59 Second", "pg_cron 1.4 has no seconds schedules", REJ, REJ, pg16=ACC, target="1.4"),
    f("0 12 $ * *", "Oban 2.23 has no last-day-of-month syntax (`$` is pg_cron 1.6+)", REJ, REJ,
      pg16=ACC, target="oban"),
    f("0 12 $ * *", "pg_cron 1.4 has no `$` (last day of the month, added in pg_cron 1.6)",
      REJ, REJ, pg16=ACC, target="1.4"),
]
# fmt: on

# Claims of messages no parse shows, each with the test that checks it on the executor
CHECKED_ELSEWHERE = {
    "Oban's cron zone is plugin-wide": "test_oban.py::test_oban_refuses",
    "pg_cron runs every job in one zone (`cron.timezone`": (
        "test_db.py::test_cron_timezone_is_one_setting_of_the_server"
    ),
    "pg_cron 1.4 ignores `cron.timezone` and runs every job in GMT": (
        "test_db.py::test_pg_cron_1_4_runs_in_gmt_and_1_6_in_cron_timezone"
    ),
    "pg_cron 1.4 runs every job in GMT": (
        "test_db.py::test_pg_cron_1_4_runs_in_gmt_and_1_6_in_cron_timezone"
    ),
}


def fact_id(fact: Fact) -> str:
    return repr(fact.text) + (f"-{fact.target}" if fact.target else "")


CLAIMS = [fact for fact in FACTS if fact.target != "none"]


# -- the messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fact", CLAIMS, ids=fact_id)
def test_the_message_says_it(fact: Fact) -> None:
    assert fact.says in fact.message()


def zone_messages() -> Iterator[str]:
    """The zone refusals, as a task would get them."""
    at = Span("<schedule>")
    for text, target, zone in [
        ("0 3 * * *", pg_cron("1.4"), "Europe/Berlin"),  # daylight saving: never the same UTC
        ("0 1 1 * *", pg_cron("1.4"), "Etc/GMT-3"),  # 22:00 on the day before the 1st
    ]:
        schedule = parse(text)
        assert isinstance(schedule, Schedule)
        refused = compile_schedule(schedule, target, zone=zone, project_zone="UTC", at=at)
        assert isinstance(refused, Diagnostic), (text, zone)
        yield refused.message
    for target in (oban("2.23"), pg_cron("1.6")):
        message = zone_refusal(target, "Europe/Berlin", "UTC")
        assert message is not None
        yield message


def executor_literals(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each message text of a module that names an executor: its line and its fixed pieces.

    Docstrings and the texts of bugs (`Unreadable`, exceptions) are not messages.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))
        bug = {"Unreadable", "AssertionError", "ValueError"}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in bug:
            skip.update(id(arg) for arg in ast.walk(node))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
    names = {"EVERYWHERE", "OBANS", "where"}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            pieces = [p.value for p in node.values if isinstance(p, ast.Constant)]
            formatted = [
                ast.unparse(p.value) for p in node.values if isinstance(p, ast.FormattedValue)
            ]
            named = any(v in names or v.endswith(".label") for v in formatted)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            pieces, named = [node.value], False
        else:
            continue
        text = "".join(str(p) for p in pieces)
        if named or "pg_cron" in text or "Oban" in text:
            yield node.lineno, [str(p).strip() for p in pieces if len(str(p).strip()) >= 12]


def test_every_claim_is_a_checked_fact() -> None:
    messages = [fact.message() for fact in CLAIMS] + list(zone_messages())
    uncovered = []
    for module in ("parse.py", "fates.py", "emit.py"):
        for line, pieces in executor_literals(SRC / module):
            if not any(all(piece in m for piece in pieces) for m in messages):
                uncovered.append(f"{module}:{line}: {pieces}")
    assert uncovered == [], "message texts no fact checks:\n" + "\n".join(uncovered)
    for claim, where in CHECKED_ELSEWHERE.items():
        assert any(claim in m for m in messages), claim
        module, name = where.split("::")
        assert hasattr(importlib.import_module(module.removesuffix(".py")), name), where


# -- pg_cron 1.4.2 and 1.6.7 ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader(pg_server: Server) -> Iterator[tuple[Server, Reader]]:
    need(pg_cron_parser.why_unavailable(), "pg_cron's parser in the server")
    with psycopg.connect(pg_server.cluster.dsn(), autocommit=True) as conn:
        yield pg_server, Reader(conn)


def pg_takes(conn: psycopg.Connection[Any], text: str) -> bool:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT cron.schedule('cronspec-fact', %s, 'SELECT 1')", (text,))
    except psycopg.errors.InvalidParameterValue as exc:
        assert "invalid schedule" in str(exc)
        return False
    return True


def pg_meaning(read: PgRead) -> Cron | Reboot:
    if read.reboot:
        return Reboot()
    rule: DayMatch = "any" if read.either_day else "all"
    return Cron(read.minutes, read.hours, read.doms, read.months, read.dows, rule, read.last_dom)


def never(
    minutes: Sequence[int],
    hours: Sequence[int],
    doms: Sequence[int],
    months: Sequence[int],
    dows: Sequence[int],
    either: bool,
) -> bool:
    """No minute of any date from 2024 to 2051 (every weekday of every date) matches."""
    if not minutes or not hours:
        return True
    for year in range(2024, 2052):
        for month in months:
            for day in range(1, calendar.monthrange(year, month)[1] + 1):
                dow = (calendar.weekday(year, month, day) + 1) % 7
                ok = (day in doms or dow in dows) if either else (day in doms and dow in dows)
                if ok:
                    return False
    return True


def test_pg_cron_parser_is_read_right(reader: tuple[Server, Reader]) -> None:
    """The probe is not vacuous: known texts read back as pg_cron documents them."""
    _, probe = reader
    read = probe.read("*/15 9-17 * * 1-5")
    assert read is not None
    assert read.minutes == (0, 15, 30, 45) and read.hours == tuple(range(9, 18))
    assert read.dows == (1, 2, 3, 4, 5) and not read.either_day and not read.reboot
    assert probe.read("0 0 * * 7") == probe.read("0 0 * * 0")  # Sunday twice
    assert probe.read("1/20 * * * *") is None  # pg_cron has no `A/S`


@pytest.mark.parametrize("fact", FACTS, ids=fact_id)
def test_pg_cron_does_what_the_message_says(fact: Fact, reader: tuple[Server, Reader]) -> None:
    server, probe = reader
    verdict = fact.pg16 if server.target == "1.6" else fact.pg14
    takes = pg_takes(probe.conn, fact.text)
    assert takes == (verdict != REJ), f"{server.id}: cron.schedule {'took' if takes else 'refused'}"
    if verdict in (REJ, ACC):
        return
    read = probe.read(fact.text)
    assert read is not None, f"{server.id}: cron.schedule took it, its parser did not"
    if verdict == NEVER:
        assert never(read.minutes, read.hours, read.doms, read.months, read.dows, read.either_day)
    else:
        assert isinstance(verdict, Means)
        assert pg_meaning(read) == verdict.meaning(), f"{server.id} reads {read}"


# -- Oban 2.18.3 and Oban 2.23.1's parser ---------------------------------------------------------


def oban_check(read: CronRead, verdict: Verdict, label: str) -> None:
    if verdict == REJ:
        assert read.error is not None, f"{label} took it: {read}"
        return
    assert read.error is None, f"{label} refused it: {read.error}"
    if verdict == NEVER:
        assert read.sets is not None
        minutes, hours, doms, months, dows = read.sets
        assert never(minutes, hours, doms, months, dows, either=False), read
    elif isinstance(verdict, Means):
        meaning = verdict.meaning()
        if isinstance(meaning, Reboot):
            assert read.reboot
        else:
            assert read.sets is not None
            assert Cron(*read.sets, "all") == meaning, f"{label} reads {read.sets}"


@pytest.fixture(scope="module")
def oban_218(oban: Oban) -> dict[str, CronRead]:
    texts = sorted({fact.text for fact in FACTS})
    return dict(zip(texts, parse_with_2_18(oban, texts), strict=True))


@pytest.fixture(scope="module")
def oban_223(oban_parser: Callable[[Sequence[str]], list[str | None]]) -> dict[str, CronRead]:
    texts = sorted({fact.text for fact in FACTS})
    return dict(zip(texts, read_with_2_23(texts), strict=True))


@pytest.mark.parametrize("fact", FACTS, ids=fact_id)
def test_oban_does_what_the_message_says(
    fact: Fact, oban_218: dict[str, CronRead], oban_223: dict[str, CronRead]
) -> None:
    oban_check(oban_218[fact.text], fact.oban18, "Oban 2.18.3")
    oban_check(oban_223[fact.text], fact.oban23, "Oban 2.23.1")
