"""A spec's `schedule` (one or a list) to `TaskSchedule` values, with their positions."""

from __future__ import annotations

from .. import schedule as sched
from ..diagnostics import Diagnostic, Origin, error, warning
from ..load.source import Document, Path
from ..model import TaskSchedule
from ..schedule import DayMatch


def task_schedules(
    doc: Document, schedule: str | list[str], day_match: DayMatch | None
) -> tuple[tuple[TaskSchedule, ...], list[Diagnostic]]:
    """Each schedule parsed where it is written; one meaning twice is an error."""
    texts = [schedule] if isinstance(schedule, str) else list(schedule)
    if not texts:
        return (), [
            error(
                "C301",
                "`schedule` is an empty list; give at least one schedule",
                doc.source.span(("schedule",)),
            )
        ]
    locs: list[Path] = (
        [("schedule",)]
        if isinstance(schedule, str)
        else [("schedule", i) for i in range(len(texts))]
    )
    diags: list[Diagnostic] = []
    out: list[TaskSchedule] = []
    seen: dict[sched.Meaning, str] = {}
    for text, loc in zip(texts, locs, strict=True):
        start = doc.source.span(loc)
        scalar = doc.source.scalars.get(loc)
        quote = 1 if scalar is not None and scalar.style in {"'", '"'} else 0
        origin = Origin(doc.path, start.line, start.col + quote)
        parsed = sched.parse(text, day_match, origin)
        if isinstance(parsed, Diagnostic):
            diags.append(parsed)
            continue
        where = origin.span(1, 1, 1, len(text) + 1)
        if parsed.meaning in seen:
            diags.append(
                error(
                    "C308",
                    f"`{text}` repeats `{seen[parsed.meaning]}`, which means the same",
                    where,
                )
            )
            continue
        seen[parsed.meaning] = text
        out.append(TaskSchedule(parsed, where))
    restricted = any(s.schedule.form is not None and s.schedule.form.restricted_days for s in out)
    if day_match is not None and not diags and not restricted:
        diags.append(
            warning(
                "C309",
                "`day_match` has no effect: no schedule of this task restricts both "
                "day-of-month and day-of-week",
                doc.source.span(("day_match",)),
            )
        )
    return tuple(out), diags
