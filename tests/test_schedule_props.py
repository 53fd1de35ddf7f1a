"""Random schedules in cronspec's language: the emitted text means the same on each executor.

For every target that accepts a generated schedule, the runs cronspec computes from its own
model (`next_runs`) must equal the runs an independent library computes from the EMITTED text
under that executor's rules:

- Oban ANDs the day fields: croniter with `day_or=False`.
- pg_cron follows Vixie cron: the day fields OR, unless either field *starts* with `*`, then
  they AND. croniter decides its OR on the expanded values, so `*/2` in a day field would OR
  there; `implement_cron_bug=True` makes it look at the leading `*` like Vixie cron does.
  cronsim (Debian cron: `day_and = dom.startswith("*") or dow.startswith("*")`) is a second
  reference for the same rule.

Known croniter 7.0 deviations, worked around: it reads a one-value range such as `0-0` as `*`
(cronspec writes `0`), and it collapses a full day field to `*` when the other day field has a
`*` anywhere (see `croniter_misreads_days`; cronsim still checks those).

CRONSPEC_FUZZ_EXAMPLES raises the example count (default 200).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter  # type: ignore[import-untyped]
from cronsim import CronSim
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cronspec.diagnostics import Diagnostic
from cronspec.schedule import (
    DOM,
    DOW,
    HOUR,
    MINUTE,
    MONTH,
    OBAN,
    Cron,
    FieldSpec,
    Schedule,
    Target,
    Unreadable,
    check_target,
    describe,
    emit,
    next_runs,
    parse,
    pg_cron,
    reparse,
)

EXAMPLES = int(os.environ.get("CRONSPEC_FUZZ_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TARGETS = (OBAN, pg_cron("1.4"), pg_cron("1.5"), pg_cron("1.6"))
STARTS = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 12, 31, 23, 30, tzinfo=UTC))
HORIZON = timedelta(days=366 * 6)
COUNT = 20
UTC_ZONE = ZoneInfo("UTC")


@st.composite
def value(draw: st.DrawFn, spec: FieldSpec, low: int, high: int) -> tuple[int, str]:
    """A value in low..high and how it is written: a number (maybe zero-padded) or a name."""
    number = draw(st.integers(low, high))
    if spec.names and (spec is MONTH or number <= 6) and draw(st.booleans()):
        name = spec.names[number - 1 if spec is MONTH else number]
        return number, draw(st.sampled_from([name, name.upper(), name.capitalize()]))
    if number < 10 and draw(st.integers(0, 9)) == 0:
        return number, f"0{number}"
    return number, str(number)


@st.composite
def item(draw: st.DrawFn, spec: FieldSpec) -> str:
    kind = draw(st.sampled_from(["*", "*/S", "A", "A-B", "A-B/S", "A/S"]))
    step = draw(st.integers(1, spec.max_step))
    if kind == "*":
        return "*"
    if kind == "*/S":
        return f"*/{step}"
    if kind == "A/S":
        top = 6 if spec is DOW else spec.high  # an `A/S` weekday step runs to Saturday
        _, a = draw(value(spec, spec.low, top))
        return f"{a}/{step}"
    start, a = draw(value(spec, spec.low, spec.high))
    if kind == "A":
        return a
    _, b = draw(value(spec, start, spec.high))
    return f"{a}-{b}" if kind == "A-B" else f"{a}-{b}/{step}"


def field(spec: FieldSpec, star_weight: int) -> st.SearchStrategy[str]:
    listed = st.lists(item(spec), min_size=1, max_size=3).map(",".join)
    return st.one_of(*[st.just("*")] * star_weight, listed)


@st.composite
def schedule_text(draw: st.DrawFn) -> str:
    parts = [
        draw(field(MINUTE, 1)),
        draw(field(HOUR, 1)),
        draw(st.one_of(field(DOM, 2), st.just("$"))),
        draw(field(MONTH, 3)),
        draw(field(DOW, 2)),
    ]
    blanks = st.sampled_from([" ", " ", "  ", "\t", " \t"])
    text = parts[0]
    for part in parts[1:]:
        text += draw(blanks) + part
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " "]))


def parsed_or_skip(text: str, day_match: str) -> Schedule:
    schedule = parse(text, "any" if day_match == "any" else "all")
    if isinstance(schedule, Diagnostic):
        # the generator writes only valid syntax: the one legitimate refusal is a date that
        # never happens (`0 0 30 2 *`)
        assert schedule.code == "C304", f"{text!r}: {schedule.code} {schedule.message}"
        assume(False)
        raise AssertionError("unreachable")
    assert isinstance(schedule.meaning, Cron)
    return schedule


def reference_runs(text: str, target: Target, start: datetime) -> list[datetime]:
    """Runs from an independent implementation of the executor's rules, up to the horizon."""
    expr = text.replace("$", "L")
    if target.executor == "oban":
        it = croniter(expr, start, day_or=False)
    else:
        it = croniter(expr, start, day_or=True, implement_cron_bug=True)
    out: list[datetime] = []
    try:
        while len(out) < COUNT:
            moment = it.get_next(datetime)
            if moment > start + HORIZON:
                break
            out.append(moment)
    except CroniterBadDateError:
        pass
    return out


def croniter_misreads_days(text: str) -> bool:
    """croniter 7.0 treats a full day field as `*` when the other day field merely *contains*
    a `*` (`10,*/7` with `0-6`), which flips Vixie's OR to AND; cronsim has no such shortcut."""
    fields = text.split(" ")
    return any("*" in f[1:] for f in (fields[2], fields[4]))


def vixie_runs(text: str, start: datetime) -> list[datetime]:
    """pg_cron's day rule again, from cronsim (Debian cron); `$` is cronsim's `L`."""
    out: list[datetime] = []
    for moment in CronSim(text.replace("$", "L"), start.replace(tzinfo=None)):
        if moment > (start + HORIZON).replace(tzinfo=None) or len(out) == COUNT:
            break
        out.append(moment.replace(tzinfo=UTC))
    return out


def model_runs(meaning: Cron, target: Target, start: datetime) -> list[datetime]:
    runs = next_runs(meaning, start, UTC_ZONE, COUNT, target)
    return [r.local.astimezone(UTC) for r in runs if r.local <= start + HORIZON]


@SETTINGS
@given(text=schedule_text(), day_match=st.sampled_from(["any", "all"]))
def test_emitted_text_runs_like_the_model(text: str, day_match: str) -> None:
    schedule = parsed_or_skip(text, day_match)
    assert isinstance(schedule.meaning, Cron)
    meaning = schedule.meaning
    checked: set[tuple[str, str]] = set()
    for target in TARGETS:
        if check_target(schedule, target) is not None:
            continue
        emitted = emit(schedule)
        if (target.executor, emitted) in checked:  # pg_cron 1.4-1.6 share most texts
            continue
        checked.add((target.executor, emitted))
        for start in STARTS:
            expected = model_runs(meaning, target, start)
            if target.executor == "pg_cron":
                assert vixie_runs(emitted, start) == expected, (target.label, emitted)
            if target.executor == "oban" or not croniter_misreads_days(emitted):
                assert reference_runs(emitted, target, start) == expected, (target.label, emitted)


@SETTINGS
@given(text=schedule_text(), day_match=st.sampled_from(["any", "all"]))
def test_emitted_text_reparses_to_the_same_meaning_and_reads_well(
    text: str, day_match: str
) -> None:
    schedule = parsed_or_skip(text, day_match)
    meaning, form = schedule.meaning, schedule.form
    assert form is not None
    accepted = 0
    for target in TARGETS:
        if check_target(schedule, target) is not None:
            continue
        accepted += 1
        emitted = emit(schedule)
        assert reparse(emitted, target) == meaning, (target.label, emitted)
        again = parse(emitted, "any" if target.executor == "pg_cron" else "all")
        assert isinstance(again, Schedule) and again.meaning == meaning
    if not form.restricted_days and not form.last_dom:
        assert accepted == len(TARGETS)  # only the day rule and `$` depend on the target
    words = describe(schedule)
    assert words and ", " in words and "  " not in words and "every 1 " not in words
    for number, suffix in re.findall(r"\b(\d+)(st|nd|rd|th)\b", words):
        n = int(number)
        teen = 10 <= n % 100 <= 20
        assert suffix == ("th" if teen else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")), words


@SETTINGS
@given(st.text(alphabet="0123456789*/-,$#?LWHlw@ \tabcdefghijmnorstuvyMONJANSUN.\n", max_size=30))
def test_any_text_parses_or_is_refused_with_a_reason(text: str) -> None:
    schedule = parse(text)
    if isinstance(schedule, Diagnostic):
        assert schedule.code in {"C301", "C302", "C303", "C304", "C305"}
        assert schedule.message and schedule.is_error
        span = schedule.span
        assert 1 <= span.col <= max(len(text), 1)
        assert span.line == span.end_line == 1 and span.col <= span.end_col <= len(text) + 1
        return
    for target in TARGETS:
        if check_target(schedule, target) is None and not text.strip().startswith("@startup"):
            assert not isinstance(reparse(emit(schedule), target), Unreadable)
