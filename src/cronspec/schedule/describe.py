"""A schedule in words, e.g. `at 07:00, on Sunday`, for the report and `cronspec explain`."""

from __future__ import annotations

from collections.abc import Iterable

from .model import (
    ALL_DOMS,
    ALL_DOWS,
    DOM,
    Cron,
    CronForm,
    Item,
    Reboot,
    Schedule,
    Seconds,
    Startup,
    consecutive,
    ordinal,
)

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def describe(schedule: Schedule) -> str:
    """The schedule in words, e.g. `at 07:00, on Sunday`."""
    meaning = schedule.meaning
    if isinstance(meaning, Startup):
        return "once at every deploy (@startup)"
    if isinstance(meaning, Reboot):
        return "when the executor starts (@reboot)"
    if isinstance(meaning, Seconds):
        return "every second" if meaning.every == 1 else f"every {meaning.every} seconds"
    form = schedule.form
    assert form is not None, "bug: a cron schedule without its written form"
    every_dom = meaning.doms == ALL_DOMS and not meaning.last_dom
    every_dow = meaning.dows == ALL_DOWS
    if meaning.day_rule == "any":
        days = f"{_dom_words(meaning, form)} or on {_list_words(meaning.dows, DAY_NAMES, 'or')}"
    elif every_dom and every_dow:
        days = "every day"
    elif every_dom:
        days = f"on {_list_words(meaning.dows, DAY_NAMES)}"
    elif every_dow:
        days = _dom_words(meaning, form)
    else:
        days = (
            f"{_dom_words(meaning, form)} if it is a {_list_words(meaning.dows, DAY_NAMES, 'or')}"
        )
    months = ""
    if len(meaning.months) < 12:
        months = " in " + _list_words([m - 1 for m in meaning.months], MONTH_NAMES)
    return f"{_time_words(meaning, form)}, {days}{months}"


def _join(words: list[str], last: str = "and") -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _list_words(
    values: Iterable[int], names: tuple[str, ...] | None = None, last: str = "and"
) -> str:
    """`1, 2 and 3`, with runs of 3+ as `A to B` (names[v] as the word for v, if given)."""
    words: list[str] = []
    for a, b in consecutive(values):
        word_a = names[a] if names else str(a)
        word_b = names[b] if names else str(b)
        if b - a >= 2:
            words.append(f"{word_a} to {word_b}")
        else:
            words.extend(names[v] if names else str(v) for v in range(a, b + 1))
    return _join(words, last)


def _single_step(items: tuple[Item, ...]) -> Item | None:
    if len(items) == 1 and items[0].step and items[0].step > 1:
        return items[0]
    return None


def _time_words(meaning: Cron, form: CronForm) -> str:
    if len(meaning.minutes) == 1 and len(meaning.hours) <= 4:
        return "at " + _join([f"{h:02d}:{meaning.minutes[0]:02d}" for h in meaning.hours])
    minute_step = _single_step(form.items[0])
    if len(meaning.minutes) == 60:
        minutes = "every minute"
    elif minute_step and minute_step.start is None:
        minutes = f"every {minute_step.step} minutes"
    else:
        plural = "s" if len(meaning.minutes) > 1 else ""
        minutes = f"at minute{plural} {_list_words(meaning.minutes)}"
    at = minutes.startswith("at")
    hour_step = _single_step(form.items[1])
    if len(meaning.hours) == 24:
        hours = "of every hour" if at else ""
    elif hour_step and hour_step.start is None:
        hours = f"{'of' if at else 'during'} every {ordinal(hour_step.step or 1)} hour"
    else:
        plural = "s" if len(meaning.hours) > 1 else ""
        hours = f"{'past' if at else 'during'} hour{plural} {_list_words(meaning.hours)}"
    return f"{minutes} {hours}".strip()


def _dom_words(meaning: Cron, form: CronForm) -> str:
    if meaning.last_dom:
        return "on the last day of the month"
    step = _single_step(form.items[2])
    if step:
        first = DOM.low if step.start is None else step.start
        words = f"on every {ordinal(step.step or 1)} day of the month from the {ordinal(first)}"
        if step.end is not None:
            words += f" to the {ordinal(step.end)}"
        return words
    plural = "s" if len(meaning.doms) > 1 else ""
    return f"on day{plural} {_list_words(meaning.doms)} of the month"
