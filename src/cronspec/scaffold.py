"""The files `cronspec init` creates: a commented cronspec.toml and two example specs."""

from __future__ import annotations

import json

from .spec import task_json_schema

SCHEMA_PATH = "schemas/cronspec-spec.schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema=../{SCHEMA_PATH}\n"

CONFIG = """\
# cronspec project settings. Every setting but `project` is optional; the values shown
# commented out are the defaults.

# The project's name. cronspec records it with every pg_cron job and procedure it makes, and a
# migration changes or removes only its own project's objects: give each project that shares a
# database (pg_cron has one per cluster) a name of its own. Renaming it later means the old
# name's objects are no longer this project's. Without this line the name is "default".
project = "my-app"

# IANA zone of every schedule. pg_cron 1.4 runs every job in GMT, so other zones need
# pg_cron 1.5+ (and a matching cron.timezone on the server) or a fixed offset.
# timezone = "UTC"

# Folders of task specs and of generated files.
# specs = "specs"
# output = "generated"

[pg_cron]
# The pg_cron version on your servers: "1.4" (Debian 12), "1.5" or "1.6".
# version = "1.4"
# Schema of the generated procedures.
# schema = "cronspec"
# Purge cron.job_run_details rows older than this with a managed daily job.
# keep_history = "7 days"

[oban]
# The OTP application name used in the config snippet of oban_crontab.exs.
# app = "my_app"

[report]
# How many next runs REPORT.md lists per schedule, counted from a fixed local instant (in
# `timezone`), so that the report does not depend on the clock. `cronspec explain` counts from
# now, or from `--from`.
# next_runs = 5
# from = "2026-01-01T00:00:00"
# The week chart warns (R701) where more jobs than this start in the same minute.
# max_starts_per_minute = 3
"""

NEXT_STEPS = """\
next: set `project`, `timezone` and `[pg_cron] version` in cronspec.toml; write a spec per task
in specs/ (the two examples show both kinds); `cronspec compile` and commit generated/;
`cronspec plan --dsn URL` shows what the migration would change (it needs `pip install
'cronspec[db]'`)
"""

SQL_EXAMPLE = (
    SCHEMA_LINE
    + """\
name: refresh-daily-totals
description: Recompute yesterday's order totals.
kind: sql
schedule: "15 0 * * *"
sql: |
  INSERT INTO daily_totals (day, total)
  SELECT created_at::date, sum(amount) FROM orders
  WHERE created_at >= current_date - 1 AND created_at < current_date
  GROUP BY 1
  ON CONFLICT (day) DO UPDATE SET total = excluded.total;
"""
)

APP_EXAMPLE = (
    SCHEMA_LINE
    + """\
name: send-digest
description: Email the daily digest to subscribers.
kind: app
schedule:
  - "0 7 * * 1-5"
worker: MyApp.Workers.DigestWorker
needs: [network]
queue: mailers
max_attempts: 3
"""
)


def init_files() -> dict[str, str]:
    """Path (relative to the project) -> content."""
    return {
        "cronspec.toml": CONFIG,
        "specs/refresh-daily-totals.yaml": SQL_EXAMPLE,
        "specs/send-digest.yaml": APP_EXAMPLE,
        SCHEMA_PATH: json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n",
    }
