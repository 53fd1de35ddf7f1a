"""A spec's run-time policies (`overlap`, `timeout`, `retry`, `settings`) to a `model.Policy`,
with diagnostics at their place in the YAML.

What does not depend on the executor is checked here: intervals cronspec reads exactly as
PostgreSQL does, and settings that cannot work as a procedure's setting. Where each policy can
apply (pg_cron's procedure, Oban's crontab entry) is classify/policy.py's question.
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic, Span, error
from ..load.source import Document
from ..model import Interval, Policy, Retry
from ..spec import SETTING_PATTERN, TaskSpec

# PostgreSQL's interval units up to a day (src/backend/utils/adt/datetime.c, deltatktbl), in
# milliseconds; months and years have no fixed length, and a timeout cannot reach them.
_UNITS: dict[str, int] = {
    **dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds", "mseconds"), 1),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1000),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60_000),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600_000),
    **dict.fromkeys(("d", "day", "days"), 86_400_000),
}
_PART = re.compile(r"([0-9]{1,10}) ?([a-z]+)")
MAX_TIMEOUT_MS = 2_147_483_647  # statement_timeout is an int of milliseconds
MAX_BACKOFF_MS = 86_400_000
_FORM = (
    "write whole numbers with units up to days, as PostgreSQL reads an interval: `10 minutes`, "
    "`90 seconds`, `1 hour 30 minutes`, `500 ms`"
)

# Settings a procedure cannot carry, and why (the spec's `settings`).
REFUSED_SETTINGS: dict[str, str] = {
    "statement_timeout": "use `timeout:` instead: as a procedure's setting, statement_timeout "
    "has no effect on a pg_cron run (PostgreSQL arms it only when a top-level statement starts, "
    "so cronspec sets it in the job's command)",
    "standard_conforming_strings": "cronspec fixes it on for every procedure it creates, so "
    "that the body means what it says",
    "search_path": "PostgreSQL resolves the body's names with the migration's search_path when "
    "it creates the procedure, and the migration checks its relations with the job's: "
    "schema-qualify the names in the body instead",
}


# Settings whose value is a list of names, each quoted apart (PostgreSQL's GUC_LIST_QUOTE): one
# quoted value with commas in it is one name
QUOTED_LISTS = frozenset(
    ("temp_tablespaces", "local_preload_libraries", "session_preload_libraries",
     "shared_preload_libraries")
)  # fmt: skip


def read_interval(text: str) -> int | None:
    """`text` in milliseconds, read as PostgreSQL reads an interval of these units; None when
    it is not one (or names a unit twice)."""
    words = text.strip().lower()
    parts: list[tuple[int, str]] = []
    position = 0
    while position < len(words):
        match = _PART.match(words, position)
        if match is None or match.group(2) not in _UNITS:
            return None
        parts.append((int(match.group(1)), match.group(2)))
        position = match.end()
        if position < len(words):
            if words[position] != " ":
                return None
            position += 1
    sizes = [_UNITS[unit] for _, unit in parts]
    if not parts or len(set(sizes)) != len(sizes):
        return None
    return sum(number * _UNITS[unit] for number, unit in parts)


def task_policy(doc: Document, spec: TaskSpec) -> tuple[Policy, list[Diagnostic]]:
    """The policies a spec declares, and what is wrong with them."""
    diags: list[Diagnostic] = []
    span = doc.source.span
    spans: list[tuple[str, Span]] = []
    for key in ("overlap", "timeout", "retry"):
        if key in doc.data:
            spans.append((key, span((key,))))
    timeout = None
    if spec.timeout is not None:
        timeout = _interval(spec.timeout, "timeout", 1, MAX_TIMEOUT_MS, span(("timeout",)), diags)
    retry = None
    if spec.retry is not None:
        backoff = None
        if spec.retry.backoff is not None:
            where = span(("retry", "backoff"))
            spans.append(("retry.backoff", where))
            backoff = _interval(
                spec.retry.backoff, "retry.backoff", 0, MAX_BACKOFF_MS, where, diags
            )
        retry = Retry(spec.retry.attempts, backoff)
        if timeout is not None and backoff is not None and backoff.ms >= timeout.ms:
            diags.append(
                error(
                    "P801",
                    f"`retry.backoff` ({backoff.text}) is not shorter than `timeout` "
                    f"({timeout.text}), which counts the whole run: no new try could start",
                    span(("retry", "backoff")),
                )
            )
    settings: list[tuple[str, str]] = []
    for name, value in sorted((spec.settings or {}).items()):
        where = span(("settings", name), key=True)
        spans.append((f"settings.{name}", where))
        if not re.fullmatch(SETTING_PATTERN, name):
            diags.append(
                error(
                    "S204",
                    f"`settings`: `{name}` is not a setting's name as PostgreSQL spells it: "
                    "lowercase letters, digits and `_`, with one `.` in a custom one "
                    "(`myapp.mode`)",
                    where,
                )
            )
        elif name in REFUSED_SETTINGS:
            diags.append(
                error("P802", f"`settings` cannot set {name}: {REFUSED_SETTINGS[name]}", where)
            )
        elif name in QUOTED_LISTS and "," in value:
            diags.append(
                error(
                    "P802",
                    f"`settings` cannot give {name} a list: a procedure's SET clause holds one "
                    f"quoted value, which PostgreSQL reads as one name (`{value}`); give one "
                    "name",
                    span(("settings", name)),
                )
            )
        settings.append((name, value))
    if "settings" in doc.data:
        spans.append(("settings", span(("settings",), key=True)))
    policy = Policy(spec.overlap, timeout, retry, tuple(settings), tuple(spans))
    return policy, diags


def _interval(
    text: str, key: str, low: int, high: int, where: Span, diags: list[Diagnostic]
) -> Interval | None:
    ms = read_interval(text)
    if ms is None:
        diags.append(error("P801", f"`{key}`: cannot read `{text}` as an interval; {_FORM}", where))
        return None
    if not low <= ms <= high:
        bound = (
            "more than 0"
            if ms < low
            else "at most 2147483647 ms (about 24.8 days, statement_timeout's limit)"
            if key == "timeout"
            else "at most a day"
        )
        diags.append(error("P801", f"`{key}`: `{text}` is out of range: it must be {bound}", where))
        return None
    return Interval(text.strip(), ms)
