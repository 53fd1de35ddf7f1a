"""One cron field's text to its items (`1-5/2,7`), or the refusal that says why not: items,
ranges, steps, names and numbers, and the syntax of other crons that these executors reject or
silently misread. `parse.py` reads a whole schedule with it."""

from __future__ import annotations

import re

from .fates import large_step, reversed_on_pg16
from .model import DOM, EVERYWHERE, MONTH, OBANS, FieldSpec, Item

_ITEM = re.compile(r"^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")
_LAST_WEEKDAY = re.compile(r"^(?:L|LW|W|L-[0-9]+|[0-9]+[LW]|[A-Za-z]{3}L)$", re.IGNORECASE)


class Refusal(Exception):
    """Why the text is refused, and where in it (1-based column, width).

    It only unwinds the parser's nested calls: `parse` catches it and returns a diagnostic, so
    no caller ever sees it.
    """

    def __init__(self, code: str, message: str, column: int = 1, width: int = 1) -> None:
        super().__init__(message)
        self.code, self.message, self.column, self.width = code, message, column, width


def parse_field(text: str, spec: FieldSpec, column: int) -> tuple[Item, ...]:
    """The items of one field's text, which starts at `column` of the schedule."""
    items: list[Item] = []
    offset = 0
    for part in text.split(","):
        col = column + offset
        offset += len(part) + 1
        if not part:
            raise Refusal("C301", f"empty list element in {spec.name} field `{text}`", col, 0)
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
            raise Refusal("C301", message, column + part.index(char))
    if _LAST_WEEKDAY.match(part):
        hint = (
            "; for the last day of the month pg_cron 1.6+ reads `$` as the whole "
            "day-of-month field (`0 12 $ * *`)"
            if spec is DOM
            else "; list the days instead"
        )
        raise Refusal(
            "C301",
            f"`{part}`: the last/weekday markers `L` and `W` are not supported by "
            f"{EVERYWHERE}{hint}",
            column,
            len(part),
        )
    if part.upper() == "H" or part.upper().startswith("H("):
        raise Refusal(
            "C301",
            f"`H` (hashed values) is Jenkins syntax that {EVERYWHERE} reject; pick a fixed value",
            column,
            len(part),
        )


def _parse_item(part: str, spec: FieldSpec, col: int) -> Item:
    match = _ITEM.match(part)
    if not match:
        raise Refusal("C301", f"`{part}` is not valid in the {spec.name} field", col, len(part))
    star, first, last, step_text = match.groups()
    step = read_number(step_text, col + part.index("/") + 1) if step_text is not None else None
    if step is not None and not 1 <= step <= spec.max_step:
        at = col + part.index("/") + 1
        if step == 0:
            raise Refusal(
                "C302",
                f"step /0 in `{part}` never advances; {EVERYWHERE} reject it; write a step of 1 "
                "or more",
                at,
                len(step_text),
            )
        first_value = spec.low if star else _value(first, spec, col)
        fates = large_step(step, first_value, open_end=not star and last is None)
        raise Refusal(
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
        raise Refusal(
            "C302",
            f"reversed range `{part}` in the {spec.name} field: {pg}, {OBANS} rejects it; write "
            f"`{head},{tail}` for a range that wraps around, or `{end}-{start}`",
            col,
            len(part),
        )
    open_end = step is not None and end is None
    if open_end and start > spec.top:
        raise Refusal(
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


def read_number(digits: str, column: int) -> int:
    """ASCII digits as a number; refused when far larger than any field takes."""
    if len(digits.lstrip("0")) > _MAX_NUMBER_DIGITS:
        raise Refusal(
            "C302",
            f"the number `{digits[:12]}...` ({len(digits)} digits) is far out of range for "
            "every cron field",
            column,
            len(digits),
        )
    return int(digits)


def _value(token: str, spec: FieldSpec, column: int) -> int:
    if token.isascii() and token.isdigit():
        number = read_number(token, column)
        if not spec.low <= number <= spec.high:
            raise Refusal(
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
        raise Refusal(
            "C301",
            f"`{token}` is not a {spec.name} value: use {spec.low}-{spec.high} or a "
            f"three-letter name ({', '.join(spec.names[:3])}, ...), as {EVERYWHERE} read them",
            column,
            len(token),
        )
    raise Refusal(
        "C301", f"`{token}` is not a {spec.name} value ({spec.low}-{spec.high})", column, len(token)
    )
