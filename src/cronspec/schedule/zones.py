"""Time zones: which names mean UTC, which zones keep one offset, and moving a schedule to UTC
for pg_cron 1.4, which runs every job in GMT whatever `cron.timezone` says."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .model import ALL_DOMS, ALL_DOWS, DOM, DOW, HOUR, MINUTE, CronForm, FieldSpec, Item, Schedule
from .model import consecutive as _consecutive

UTC_NAMES = (
    "UTC",
    "Etc/UTC",
    "GMT",
    "Etc/GMT",
    "UCT",
    "Etc/UCT",
    "Universal",
    "Zulu",
    "Etc/Universal",
    "Etc/Zulu",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "Etc/GMT0",
    "GMT0",
)


def is_utc(zone: str) -> bool:
    """Whether the IANA name is one of UTC's."""
    return zone in UTC_NAMES


def same_zone(a: str, b: str) -> bool:
    """Whether two zone names are one zone (equal, or both names of UTC)."""
    return a == b or (is_utc(a) and is_utc(b))


@lru_cache(maxsize=64)
def fixed_offset(zone: ZoneInfo) -> timedelta | None:
    """The zone's offset if it has one offset from 2020 through 2060 (no daylight saving).

    Sampled at noon every day, so short changes (a Ramadan suspension) are seen too.
    """
    offsets = set()
    day = datetime(2020, 1, 1, 12)
    end = datetime(2061, 1, 1, 12)
    while day < end:
        offsets.add(day.replace(tzinfo=zone).utcoffset())
        if len(offsets) > 1:
            return None
        day += timedelta(days=1)
    (offset,) = offsets
    return offset


def _items_for(
    values: list[int] | tuple[int, ...], spec: FieldSpec, star_ok: bool
) -> tuple[Item, ...]:
    """Items that list `values` (runs of 3+ as ranges); `*` only if `star_ok` and all match."""
    wanted = sorted(set(values))
    if star_ok and wanted == list(range(spec.low, spec.top + 1)):
        return (Item(None, None, None),)
    items: list[Item] = []
    for a, b in _consecutive(wanted):
        if b - a >= 2:
            items.append(Item(a, b, None))
        else:
            items.extend(Item(v, None, None) for v in range(a, b + 1))
    return tuple(items)


def shift_to_utc(schedule: Schedule, offset: timedelta) -> Schedule | None:
    """The same schedule in UTC for a fixed offset, when the shift is exact; else None.

    Every local (hour, minute) moves by the offset. The result must again be a product of
    minutes and hours. Runs that move to another day are exact only when no day field and no
    month is restricted, or when every run moves by the same day and only the weekday is
    restricted (the weekdays move with it).
    """
    form = schedule.form
    if form is None:
        return schedule
    meaning = form.meaning()
    total = offset.total_seconds()
    if total % 60:
        return None
    shift = int(total // 60)
    moved: set[tuple[int, int, int]] = set()  # (day delta, hour, minute)
    for h in meaning.hours:
        for m in meaning.minutes:
            day_delta, rest = divmod(h * 60 + m - shift, 1440)
            moved.add((day_delta, rest // 60, rest % 60))
    minutes = sorted({m for _, _, m in moved})
    hours = sorted({h for _, h, _ in moved})
    if len({(h, m) for _, h, m in moved}) != len(moved) or len(moved) != len(minutes) * len(hours):
        return None
    deltas = {d for d, _, _ in moved}
    dom_free = form.dom_star and form.values(DOM) == ALL_DOMS and not form.last_dom
    months_free = len(meaning.months) == 12
    dows = form.values(DOW)
    days_free = dom_free and months_free and dows == ALL_DOWS
    m_items, h_items, d_items, mo_items, w_items = form.items
    if deltas != {0} and not days_free:
        if len(deltas) != 1 or not dom_free or not months_free:
            return None
        (delta,) = deltas
        w_items = _items_for([(d + delta) % 7 for d in dows], DOW, star_ok=False)
    if minutes != list(meaning.minutes):
        m_items = _items_for(minutes, MINUTE, star_ok=True)
    if hours != list(meaning.hours):
        h_items = _items_for(hours, HOUR, star_ok=True)
    moved_form = CronForm(
        (m_items, h_items, d_items, mo_items, w_items), form.last_dom, form.day_match
    )
    return Schedule.of_form(schedule.text, moved_form)
