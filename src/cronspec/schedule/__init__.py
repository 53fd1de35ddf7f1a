"""The schedule language: parse, compile for an executor, describe, and compute next runs.

cronspec owns the meaning of a schedule (`model`): `parse` reads a spec's text into a
`Schedule`; `compile_schedule` (`emit`) turns it into the text one executor reads as exactly
that meaning, moved to UTC where pg_cron 1.4 needs it (`zones`), and reads the text back under
the executor's own rules before anything is written; `describe` says it in words and
`next_runs` (`runs`) lists when it fires.

Sources for the executor behaviour encoded here (read, not guessed):

- pg_cron's parser is Vixie cron's `entry.c` (citusdata/pg_cron src/entry.c): `*` spans
  `FIRST_x..LAST_x` with weekdays 0-7, names are compared with strcasecmp, `A/S` is rejected,
  `DOM_STAR`/`DOW_STAR` are set when a field's first character is `*`, and from 1.6 a lone `$`
  sets `DOM_LAST`.
- pg_cron's launcher (src/pg_cron.c, `StartAllPendingRuns`/`StartPendingRuns`/`ShouldRunTask`)
  walks absolute minutes (`TimestampTz`) and converts each one to wall-clock time:
  `gmtime()` up to 1.4, `pg_localtime(..., pg_tzset(cron_timezone))` from 1.5. Its clock-jump
  branches compare absolute timestamps, so a daylight-saving change is not a "jump": a local
  time that does not exist is never matched (the run is skipped) and a local time that happens
  twice is matched twice (the job runs twice). `$` is decided as "24 hours later it is the
  1st" (`tomorrowTime_t = currentTime + USECS_PER_DAY`), which is off by one hour's worth of
  minutes on a month-end daylight-saving day. (Read in pg_cron 1.6.2 as vendored by
  yugabyte/yugabyte-db, src/postgres/third-party-extensions/pg_cron/src/pg_cron.c.)
- Oban's Cron plugin (oban-bg/oban lib/oban/plugins/cron.ex, `insert_scheduled_jobs`) wakes once
  a minute, takes `DateTime.now(timezone)` and inserts every entry for which
  `Oban.Cron.Expression.now?/2` holds (all five fields must match, so the day fields AND).
  Same consequence: a skipped local time never matches, a repeated one matches twice.
"""

from .describe import describe
from .emit import Emitted, Unreadable, check_target, compile_schedule, emit, reparse, zone_refusal
from .model import (
    ALL_DOMS,
    ALL_DOWS,
    DOM,
    DOW,
    EVERYWHERE,
    FIELDS,
    HOUR,
    MINUTE,
    MONTH,
    OBAN,
    OBANS,
    Cron,
    CronForm,
    DayMatch,
    FieldSpec,
    Item,
    Meaning,
    Reboot,
    Schedule,
    Seconds,
    Startup,
    Target,
    oban,
    pg_cron,
)
from .parse import NICKNAMES, RESTART, parse
from .runs import Run, dst_changes, next_runs
from .zones import UTC_NAMES, fixed_offset, is_utc, same_zone, shift_to_utc

__all__ = [
    "ALL_DOMS",
    "ALL_DOWS",
    "DOM",
    "DOW",
    "EVERYWHERE",
    "FIELDS",
    "HOUR",
    "MINUTE",
    "MONTH",
    "NICKNAMES",
    "OBAN",
    "OBANS",
    "RESTART",
    "UTC_NAMES",
    "Cron",
    "CronForm",
    "DayMatch",
    "Emitted",
    "FieldSpec",
    "Item",
    "Meaning",
    "Reboot",
    "Run",
    "Schedule",
    "Seconds",
    "Startup",
    "Target",
    "Unreadable",
    "check_target",
    "compile_schedule",
    "describe",
    "dst_changes",
    "emit",
    "fixed_offset",
    "is_utc",
    "next_runs",
    "oban",
    "parse",
    "pg_cron",
    "reparse",
    "same_zone",
    "shift_to_utc",
    "zone_refusal",
]
