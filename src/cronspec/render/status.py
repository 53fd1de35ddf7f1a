"""A `StatusReport` as `cronspec status` prints it: an aligned table (text), every field
(json), or the table plus GitHub Actions annotations for the jobs that need attention (github).
Pure functions of the report; times are shown in the report's zone.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..status import JobStatus, RunRecord, StatusReport

MESSAGE_WIDTH = 60
COLUMNS = (
    "TASK", "EXECUTOR", "SCHEDULE", "ACTIVE", "LAST RUN", "TOOK", "STATUS", "FAILED", "MEDIAN",
    "MAX", "NEXT RUN", "FLAGS", "MESSAGE",
)  # fmt: skip


def one_line(text: str) -> str:
    """A message on one printable line (pg_cron's carry DETAIL, HINT and CONTEXT lines)."""
    flat = " ".join(text.split())
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in flat)


def first_line(text: str) -> str:
    """The first line that says something."""
    return next((line for line in text.splitlines() if line.strip()), "")


def duration(value: timedelta | None) -> str:
    """`0.4ms`, `1.25s`, `12.3s`, `4m05s`, `2h07m`, `3d04h`; `-` for none."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _took(run: RunRecord | None, now: datetime) -> str:
    if run is None:
        return "-"
    if run.end is None and run.start is not None:
        return duration(now - run.start) + "+"  # under way: so far
    return duration(run.duration)


def _cells(job: JobStatus, report: StatusReport, zone: ZoneInfo) -> list[str]:
    last = job.last
    active = {True: "yes", False: "no", None: "?"}[job.active]
    # the first line: pg_cron's failures go on with CONTEXT, DETAIL and HINT lines, Oban's
    # with the stack trace
    message = one_line(first_line(last.message)) if last is not None else ""
    if len(message) > MESSAGE_WIDTH:
        message = message[: MESSAGE_WIDTH - 3] + "..."
    name = job.job if job.executor == "pg_cron" else job.task
    return [
        name,
        job.executor,
        job.schedule or "-",
        active,
        _when(last.start or last.due, zone) if last is not None else "never",
        _took(last, report.at),
        last.status if last is not None else "-",
        f"{job.failures}/{job.runs}" if job.runs else "-",
        duration(job.median),
        duration(job.maximum),
        _when(job.next_run, zone),
        ",".join(flag.replace(" ", "-") for flag in job.flags) or "ok",
        message,
    ]


def _header(report: StatusReport) -> str:
    zone = ZoneInfo(report.zone)
    sides = [report.pg_cron or "no pg_cron in this database"]
    if report.oban is not None:
        sides.append(f"Oban {report.oban}")
    return (
        f"cronspec status: project {report.project}, role {report.role}, "
        f"{_when(report.at, zone)} {report.zone}; " + "; ".join(sides) + "\n"
    )


def _summary(report: StatusReport) -> str:
    alerts = report.alerts
    total = len(report.jobs)
    if alerts:
        names = ", ".join(f"{j.job if j.executor == 'pg_cron' else j.task}" for j in alerts)
        return f"{len(alerts)} of {total} jobs failing or late: {names}\n"
    return f"{total} jobs, none failing or late\n"


def format_text(report: StatusReport) -> str:
    """The table, each flagged job's details, the notes and a summary line."""
    zone = ZoneInfo(report.zone)
    rows = [list(COLUMNS)] + [_cells(job, report, zone) for job in report.jobs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    out = [_header(report)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.append("  ".join([*cells, row[-1]]).rstrip() + "\n")
    for job in report.jobs:
        for detail in job.details:
            name = job.job if job.executor == "pg_cron" else f"{job.task} ({job.schedule})"
            out.append(f"  {name}: {one_line(detail)}\n")
    out += [f"note: {one_line(note)}\n" for note in report.notes]
    out.append(_summary(report))
    return "".join(out)


def _run_json(run: RunRecord | None, zone: ZoneInfo) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "status": run.status,
        "start": run.start.astimezone(zone).isoformat() if run.start else None,
        "end": run.end.astimezone(zone).isoformat() if run.end else None,
        "duration": run.duration.total_seconds() if run.duration is not None else None,
        "message": run.message,
    }


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def as_json(report: StatusReport) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    zone = ZoneInfo(report.zone)
    jobs = [
        {
            "task": j.task,
            "executor": j.executor,
            "job": j.job,
            "jobid": j.jobid,
            "role": j.role,
            "schedule": j.schedule,
            "active": j.active,
            "last_run": _run_json(j.last, zone),
            "runs": j.runs,
            "failures": j.failures,
            "median_seconds": _seconds(j.median),
            "max_seconds": _seconds(j.maximum),
            "next_run": j.next_run.astimezone(zone).isoformat() if j.next_run else None,
            "flags": list(j.flags),
            "details": list(j.details),
            "skipped": j.skipped,
            "slow_runs": j.slow_runs,
            "alert": j.alert,
        }
        for j in report.jobs
    ]
    return {
        "project": report.project,
        "role": report.role,
        "at": report.at.astimezone(zone).isoformat(),
        "timezone": report.zone,
        "runs": report.runs,
        "grace_seconds": report.grace.total_seconds(),
        "pg_cron": report.pg_cron,
        "oban": report.oban,
        "healthy": not report.alerts,
        "jobs": jobs,
        "notes": list(report.notes),
    }


def format_json(report: StatusReport) -> str:
    """`as_json`, indented, with a final newline."""
    return json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"


def _escape(value: str, *, prop: bool = False) -> str:
    text = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def format_github(report: StatusReport) -> str:
    """The text table, then one workflow command per flagged job: `::error` for failing and
    late jobs, `::warning` for the other flags."""
    out = [format_text(report)]
    for job in report.jobs:
        if not job.flags or job.flags == ("not visible",):
            continue
        level = "error" if job.alert else "warning"
        name = job.job if job.executor == "pg_cron" else job.task
        title = _escape(f"cronspec status: {name}", prop=True)
        what = [f"{name} ({job.executor}, {job.schedule}): {', '.join(job.flags)}"]
        if job.last is not None and job.last.message and "failing" in job.flags:
            what.append(f"last run: {one_line(first_line(job.last.message))}")
        what += [one_line(d) for d in job.details]
        out.append(f"::{level} title={title}::{_escape('; '.join(what))}\n")
    return "".join(out)


FORMATS = {"text": format_text, "json": format_json, "github": format_github}
