"""Schedule text to a `Schedule`, or the diagnostic that says why cronspec refuses it.

The language is a superset of what each executor reads (names in any case, weekday 7, `A/S`,
nicknames, `N seconds`, `@reboot`, `@startup`), minus everything one executor would read
differently from another. Sources for the executors' parsers are in the package docstring.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..diagnostics import Diagnostic, Origin, error
from .fields import Refusal, parse_field, read_number
from .model import (
    DAYS_IN_MONTH,
    DOM,
    EVERYWHERE,
    FIELDS,
    OBANS,
    CronForm,
    DayMatch,
    Reboot,
    Schedule,
    Seconds,
    Startup,
    ordinal,
)

RESTART = ("@reboot", "@restart")  # pg_cron reads both; Oban only the first
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# pg_cron 1.5+ lowercases the text and reads `%u secon%c%c`: any case, blanks optional
_SECONDS = re.compile(r"^([0-9]+)[ \t]*(?i:seconds?)$")
_SECONDS_LOOSE = re.compile(r"^[0-9]+[ \t]*(?i:s|secs?|seconds?)$")
_BLANKS = re.compile(r"[ \t]+")


def parse(
    text: str, day_match: DayMatch | None = None, origin: Origin | None = None
) -> Schedule | Diagnostic:
    """Parse one schedule; a refusal comes back as a diagnostic at its place in `origin`.

    `origin` says where the text starts in its file (by default, column 1 of `<schedule>`).
    """
    where = origin or Origin("<schedule>")
    try:
        return _parse(text, day_match)
    except Refusal as refusal:
        start = refusal.column
        return error(refusal.code, refusal.message, where.span(1, start, 1, start + refusal.width))


@lru_cache(maxsize=4096)  # many tasks share a schedule; a refusal raises and is not kept
def _parse(text: str, day_match: DayMatch | None) -> Schedule:
    if any((ord(c) < 32 and c not in " \t") or ord(c) == 127 for c in text):
        raise Refusal(
            "C301",
            "schedule contains a control character (newline?); write it on one line",
            width=len(text),
        )
    for index, char in enumerate(text):
        if char.isspace() and char not in " \t":
            raise Refusal(
                "C301",
                f"schedule contains a non-ASCII space (U+{ord(char):04X}); {EVERYWHERE} "
                "separate fields with plain spaces",
                index + 1,
            )
    stripped = text.strip(" \t")
    offset = len(text) - len(text.lstrip(" \t"))
    if not stripped:
        raise Refusal(
            "C301",
            f"empty schedule; {EVERYWHERE} need 5 cron fields, e.g. `0 3 * * *`",
            width=len(text),
        )
    if stripped.startswith("@"):
        return _nickname(text, stripped, day_match, offset)
    seconds = _SECONDS.match(stripped)
    if seconds:
        every = read_number(seconds.group(1), offset + 1)
        if not 1 <= every <= 59:
            raise Refusal(
                "C302",
                "`N seconds` takes N from 1 to 59 (`30 seconds`, pg_cron 1.5+); for longer "
                "intervals use cron fields, e.g. `*/2 * * * *`",
                offset + 1,
                len(stripped),
            )
        return Schedule(text, Seconds(every))
    if _SECONDS_LOOSE.match(stripped):
        raise Refusal(
            "C301",
            f"`{stripped}`: pg_cron 1.5+ reads intervals as `N seconds` only "
            "(N from 1 to 59), e.g. `30 seconds`",
            offset + 1,
            len(stripped),
        )
    return Schedule.of_form(text, _cron(stripped, day_match, offset))


def _split_fields(text: str) -> list[tuple[str, int]]:
    """Blank-separated fields with their 0-based positions (blanks: spaces and tabs)."""
    out = []
    position = 0
    for chunk in _BLANKS.split(text):
        position = text.index(chunk, position)
        out.append((chunk, position))
        position += len(chunk)
    return [(chunk, pos) for chunk, pos in out if chunk]


def _nickname(text: str, word_text: str, day_match: DayMatch | None, offset: int) -> Schedule:
    fields = _split_fields(word_text)
    word = fields[0][0]
    column = offset + 1
    if word.lower() == "@every":
        raise Refusal(
            "C301",
            f"`@every` is not cron syntax ({EVERYWHERE} reject it); write `*/N` in the minute "
            "field, or `N seconds` on pg_cron 1.5+",
            column,
            len(word_text),
        )
    if len(fields) > 1:
        rest = word_text[fields[1][1] :]
        raise Refusal(
            "C301",
            f"unexpected text `{rest}` after `{word}`: pg_cron 1.4-1.6 silently ignores it and "
            f"{OBANS} rejects it; write `{word}` alone",
            offset + fields[1][1] + 1,
            len(rest),
        )
    if word == "@startup":
        return Schedule(text, Startup())
    if word in RESTART:  # `@restart` is pg_cron's own name for it (check_target)
        return Schedule(text, Reboot())
    if word in NICKNAMES:
        return Schedule.of_form(text, _cron(NICKNAMES[word], day_match, 0))
    lower = word.lower()
    if lower in NICKNAMES or lower in {*RESTART, "@startup"}:
        raise Refusal(
            "C301",
            f"`{word}`: {EVERYWHERE} read nicknames in lowercase only (pg_cron rejects "
            f"`{word}`); write `{lower}`",
            column,
            len(word),
        )
    raise Refusal(
        "C301",
        f"unknown nickname `{word}`; known: {', '.join(sorted(NICKNAMES))}, @reboot, @startup",
        column,
        len(word),
    )


def _cron(text: str, day_match: DayMatch | None, offset: int) -> CronForm:
    fields = _split_fields(text)
    if len(fields) != 5:
        if len(fields) == 6:
            raise Refusal(
                "C301",
                "6 fields: cron has no seconds field here; pg_cron silently ignores the 6th "
                "field (`*/10 * * * * *` would run every 10 minutes) and Oban rejects it; use "
                "5 fields, or `N seconds` on pg_cron 1.5+",
                offset + 1,
                len(text),
            )
        if len(fields) > 6:
            raise Refusal(
                "C301",
                f"{len(fields)} fields: pg_cron 1.4-1.6 silently ignores every field after the "
                f"5th and {OBANS} rejects it; write the 5 fields minute hour day-of-month month "
                "day-of-week, e.g. `0 3 * * *`",
                offset + 1,
                len(text),
            )
        raise Refusal(
            "C301",
            f"expected 5 fields (minute hour day-of-month month day-of-week), found "
            f"{len(fields)}; {EVERYWHERE} need all 5, e.g. `0 3 * * *`",
            offset + 1,
            len(text),
        )
    texts = [part for part, _ in fields]
    columns = [offset + pos + 1 for _, pos in fields]
    last_dom = texts[2] == "$"
    items = tuple(
        () if (spec is DOM and last_dom) else parse_field(part, spec, column)
        for spec, part, column in zip(FIELDS, texts, columns, strict=True)
    )
    restricted = not texts[2].startswith("*") and not texts[4].startswith("*")
    if restricted and day_match is None:
        raise Refusal(
            "C305",
            f"both day-of-month (`{texts[2]}`) and day-of-week (`{texts[4]}`) are restricted: "
            "pg_cron fires when either matches, Oban only when both do; say which you mean "
            "with `day_match: any` or `day_match: all`",
            columns[2],
            columns[4] + len(texts[4]) - columns[2],
        )
    form = CronForm(items, last_dom, day_match if restricted else None)
    meaning = form.meaning()
    month_days = [d for m in meaning.months for d in meaning.doms if d <= DAYS_IN_MONTH[m - 1]]
    # Feb 29 counts: it falls on every weekday over 28 years; every month has a last day
    if not meaning.last_dom and not month_days and meaning.day_rule == "all":
        longest = max(DAYS_IN_MONTH[m - 1] for m in meaning.months)
        raise Refusal(
            "C304",
            f"`{' '.join(texts)}` can never fire: no month in it has such a day "
            "(pg_cron 1.4-1.6 and Oban 2.18 accept it and never run it, Oban 2.23 rejects it); "
            "the "
            f"last day these months have is the {ordinal(longest)}"
            + (", and pg_cron 1.6+ reads `$` as the last day of any month" if longest < 31 else ""),
            columns[2],
            len(texts[2]),
        )
    return form
