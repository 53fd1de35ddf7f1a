"""Schedule text to a `Schedule`, or the diagnostic that says why cronspec refuses it.

The language is a superset of what each executor reads (names in any case, weekday 7, `A/S`,
nicknames, `N seconds`, `@reboot`, `@startup`), minus everything one executor would read
differently from another. Sources for the executors' parsers are in the package docstring.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic, Origin, error
from .fates import large_step, reversed_on_pg16
from .model import (
    DAYS_IN_MONTH,
    DOM,
    EVERYWHERE,
    FIELDS,
    MONTH,
    OBANS,
    CronForm,
    DayMatch,
    FieldSpec,
    Item,
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
_ITEM = re.compile(r"^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")
_LAST_WEEKDAY = re.compile(r"^(?:L|LW|W|L-[0-9]+|[0-9]+[LW]|[A-Za-z]{3}L)$", re.IGNORECASE)
_BLANKS = re.compile(r"[ \t]+")


class _Refusal(Exception):
    """Why the text is refused, and where in it (1-based column, width).

    It only unwinds the parser's nested calls: `parse` catches it and returns a diagnostic, so
    no caller ever sees it.
    """

    def __init__(self, code: str, message: str, column: int = 1, width: int = 1) -> None:
        super().__init__(message)
        self.code, self.message, self.column, self.width = code, message, column, width


def parse(
    text: str, day_match: DayMatch | None = None, origin: Origin | None = None
) -> Schedule | Diagnostic:
    """Parse one schedule; a refusal comes back as a diagnostic at its place in `origin`.

    `origin` says where the text starts in its file (by default, column 1 of `<schedule>`).
    """
    where = origin or Origin("<schedule>")
    try:
        return _parse(text, day_match)
    except _Refusal as refusal:
        start = refusal.column
        return error(refusal.code, refusal.message, where.span(1, start, 1, start + refusal.width))


def _parse(text: str, day_match: DayMatch | None) -> Schedule:
    if any((ord(c) < 32 and c not in " \t") or ord(c) == 127 for c in text):
        raise _Refusal(
            "C301",
            "schedule contains a control character (newline?); write it on one line",
            width=len(text),
        )
    for index, char in enumerate(text):
        if char.isspace() and char not in " \t":
            raise _Refusal(
                "C301",
                f"schedule contains a non-ASCII space (U+{ord(char):04X}); {EVERYWHERE} "
                "separate fields with plain spaces",
                index + 1,
            )
    stripped = text.strip(" \t")
    offset = len(text) - len(text.lstrip(" \t"))
    if not stripped:
        raise _Refusal(
            "C301",
            f"empty schedule; {EVERYWHERE} need 5 cron fields, e.g. `0 3 * * *`",
            width=len(text),
        )
    if stripped.startswith("@"):
        return _nickname(text, stripped, day_match, offset)
    seconds = _SECONDS.match(stripped)
    if seconds:
        every = _number(seconds.group(1), offset + 1)
        if not 1 <= every <= 59:
            raise _Refusal(
                "C302",
                "`N seconds` takes N from 1 to 59 (`30 seconds`, pg_cron 1.5+); for longer "
                "intervals use cron fields, e.g. `*/2 * * * *`",
                offset + 1,
                len(stripped),
            )
        return Schedule(text, Seconds(every))
    if _SECONDS_LOOSE.match(stripped):
        raise _Refusal(
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
        raise _Refusal(
            "C301",
            f"`@every` is not cron syntax ({EVERYWHERE} reject it); write `*/N` in the minute "
            "field, or `N seconds` on pg_cron 1.5+",
            column,
            len(word_text),
        )
    if len(fields) > 1:
        rest = word_text[fields[1][1] :]
        raise _Refusal(
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
        raise _Refusal(
            "C301",
            f"`{word}`: {EVERYWHERE} read nicknames in lowercase only (pg_cron rejects "
            f"`{word}`); write `{lower}`",
            column,
            len(word),
        )
    raise _Refusal(
        "C301",
        f"unknown nickname `{word}`; known: {', '.join(sorted(NICKNAMES))}, @reboot, @startup",
        column,
        len(word),
    )


def _cron(text: str, day_match: DayMatch | None, offset: int) -> CronForm:
    fields = _split_fields(text)
    if len(fields) != 5:
        if len(fields) == 6:
            raise _Refusal(
                "C301",
                "6 fields: cron has no seconds field here; pg_cron silently ignores the 6th "
                "field (`*/10 * * * * *` would run every 10 minutes) and Oban rejects it; use "
                "5 fields, or `N seconds` on pg_cron 1.5+",
                offset + 1,
                len(text),
            )
        if len(fields) > 6:
            raise _Refusal(
                "C301",
                f"{len(fields)} fields: pg_cron 1.4-1.6 silently ignores every field after the "
                f"5th and {OBANS} rejects it; write the 5 fields minute hour day-of-month month "
                "day-of-week, e.g. `0 3 * * *`",
                offset + 1,
                len(text),
            )
        raise _Refusal(
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
        () if (spec is DOM and last_dom) else _parse_field(part, spec, column)
        for spec, part, column in zip(FIELDS, texts, columns, strict=True)
    )
    restricted = not texts[2].startswith("*") and not texts[4].startswith("*")
    if restricted and day_match is None:
        raise _Refusal(
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
        raise _Refusal(
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


def _parse_field(text: str, spec: FieldSpec, column: int) -> tuple[Item, ...]:
    items: list[Item] = []
    offset = 0
    for part in text.split(","):
        col = column + offset
        offset += len(part) + 1
        if not part:
            raise _Refusal("C301", f"empty list element in {spec.name} field `{text}`", col, 0)
        _refuse_special(part, col, spec)
        items.append(_parse_item(part, spec, col))
    return tuple(items)


def _refuse_special(part: str, column: int, spec: FieldSpec) -> None:
    """Syntax other crons have and these executors reject or, worse, silently misread."""
    checks = (
        (
            "#",
            "`#` (nth weekday of the month) is not supported: pg_cron 1.4-1.6 silently drops "
            f"`#N` (`1#2` runs every Monday) and {OBANS} rejects it; for the 2nd Monday write "
            "`8-14` as the day of month and `1` as the weekday with `day_match: all` (Oban), "
            "or schedule Mondays and test the date in the SQL (pg_cron)",
        ),
        ("?", f"`?` is Quartz syntax that {EVERYWHERE} reject; write `*`"),
        (
            ".",
            "decimal values are not cron syntax: pg_cron 1.4-1.6 silently drops the fraction "
            f"(`5.5` runs as `5`) and {OBANS} rejects it; write a whole number",
        ),
        (
            "$",
            "`$` (last day of the month) is allowed only as the whole day-of-month field, "
            "e.g. `0 12 $ * *`, and only on pg_cron 1.6+",
        ),
    )
    for char, message in checks:
        if char in part:
            raise _Refusal("C301", message, column + part.index(char))
    if _LAST_WEEKDAY.match(part):
        hint = (
            "; for the last day of the month pg_cron 1.6+ reads `$` as the whole "
            "day-of-month field (`0 12 $ * *`)"
            if spec is DOM
            else "; list the days instead"
        )
        raise _Refusal(
            "C301",
            f"`{part}`: the last/weekday markers `L` and `W` are not supported by "
            f"{EVERYWHERE}{hint}",
            column,
            len(part),
        )
    if part.upper() == "H" or part.upper().startswith("H("):
        raise _Refusal(
            "C301",
            f"`H` (hashed values) is Jenkins syntax that {EVERYWHERE} reject; pick a fixed value",
            column,
            len(part),
        )


def _parse_item(part: str, spec: FieldSpec, col: int) -> Item:
    match = _ITEM.match(part)
    if not match:
        raise _Refusal("C301", f"`{part}` is not valid in the {spec.name} field", col, len(part))
    star, first, last, step_text = match.groups()
    step = _number(step_text, col + part.index("/") + 1) if step_text is not None else None
    if step is not None and not 1 <= step <= spec.max_step:
        at = col + part.index("/") + 1
        if step == 0:
            raise _Refusal(
                "C302",
                f"step /0 in `{part}` never advances; {EVERYWHERE} reject it; write a step of 1 "
                "or more",
                at,
                len(step_text),
            )
        first_value = spec.low if star else _value(first, spec, col)
        fates = large_step(step, first_value, open_end=not star and last is None)
        raise _Refusal(
            "C302",
            f"step /{step} in `{part}` is larger than the {spec.name} field allows "
            f"(at most /{spec.max_step}): {fates}; write `{first_value}` or a smaller step",
            at,
            len(step_text),
        )
    if star:
        return Item(None, None, step)
    start = _value(first, spec, col)
    end = _value(last, spec, col + len(first) + 1) if last is not None else None
    if end is not None and end < start:
        head = f"{start}-{spec.top}" if start < spec.top else f"{start}"
        tail = f"{spec.low}-{end}" if end > spec.low else f"{spec.low}"
        misread = reversed_on_pg16(start, end, spec) if step in (None, 1) else []
        pg = (
            "pg_cron 1.4 accepts it and never runs it, pg_cron 1.6 runs it at "
            f"{','.join(map(str, misread))} instead"
            if misread
            else "pg_cron 1.4-1.6 accepts it and never runs it"
        )
        raise _Refusal(
            "C302",
            f"reversed range `{part}` in the {spec.name} field: {pg}, {OBANS} rejects it; write "
            f"`{head},{tail}` for a range that wraps around, or `{end}-{start}`",
            col,
            len(part),
        )
    open_end = step is not None and end is None
    if open_end and start > spec.top:
        raise _Refusal(
            "C302",
            f"`{part}`: an `A/S` weekday step runs to Saturday (6), so it cannot start at 7; "
            "write `0` or `7` for Sunday, or start the step at 0",
            col,
            len(part),
        )
    return Item(start, end, step, open_end)


# Far beyond any field, yet short enough for the messages that say what the executors make of
# a large step (pg_cron keeps its low 32 bits); Python refuses to read over 4,300 digits at all.
_MAX_NUMBER_DIGITS = 100


def _number(digits: str, column: int) -> int:
    """ASCII digits as a number; refused when far larger than any field takes."""
    if len(digits.lstrip("0")) > _MAX_NUMBER_DIGITS:
        raise _Refusal(
            "C302",
            f"the number `{digits[:12]}...` ({len(digits)} digits) is far out of range for "
            "every cron field",
            column,
            len(digits),
        )
    return int(digits)


def _value(token: str, spec: FieldSpec, column: int) -> int:
    if token.isascii() and token.isdigit():
        number = _number(token, column)
        if not spec.low <= number <= spec.high:
            raise _Refusal(
                "C302",
                f"{spec.name} value {number} is out of range {spec.low}-{spec.high}",
                column,
                len(token),
            )
        return number
    lowered = token.lower()
    if spec.names and lowered in spec.names:
        index = spec.names.index(lowered)
        return index + 1 if spec is MONTH else index
    if spec.names:
        raise _Refusal(
            "C301",
            f"`{token}` is not a {spec.name} value: use {spec.low}-{spec.high} or a "
            f"three-letter name ({', '.join(spec.names[:3])}, ...), as {EVERYWHERE} read them",
            column,
            len(token),
        )
    raise _Refusal(
        "C301", f"`{token}` is not a {spec.name} value ({spec.low}-{spec.high})", column, len(token)
    )
