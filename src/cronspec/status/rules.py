"""The rules of `cronspec status`, per job, at a fixed instant `now`:

- **failing**: the newest run failed (an Oban job waiting for a retry counts: its last attempt
  failed).
- **late**: the job should run (the specs have it enabled) and the next start after its newest
  run (pg_cron: that run's start; Oban: when the Cron plugin inserted it) is more than `grace`
  ago; or an Oban job is still waiting in its queue `grace` after it was inserted. A run still
  under way is not late (see slow). `@reboot`, `@startup` are never late.
- **never ran**: no run on record. cronspec cannot tell since when such a job was due, so it
  is not late.
- **slow**: a run (of those read) ended after the next scheduled start, or is under way past
  it: pg_cron then queues the next run behind it (`N seconds` jobs: at most one).
- **skipped**: runs that `overlap: skip` turned away, recorded in cronspec.skipped_run, since
  the oldest run read: each for the job whose run it was (its pid is the run's job_pid); skips
  of no job's run (a manual CALL; a row without pid) for the task's first job, said so.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .. import schedule as sched
from .model import FAILED, UNDER_WAY, Flag, JobStatus, RunRecord, Skip


def meaning_of(text: str, day_match: sched.DayMatch) -> sched.Meaning | None:
    """What an executor's schedule text means (pg_cron ORs restricted day fields: `any`;
    Oban ANDs them: `all`); None when cronspec cannot read it."""
    if not text:
        return None
    parsed = sched.parse(text, day_match)
    return parsed.meaning if isinstance(parsed, sched.Schedule) else None


def _next_slot(
    meaning: sched.Meaning, after: datetime, target: sched.Target, zone: ZoneInfo
) -> datetime | None:
    """The first scheduled start strictly after `after`."""
    if isinstance(meaning, sched.Seconds):
        return after + timedelta(seconds=meaning.every)
    found = sched.next_runs(meaning, after, zone, 1, target)
    return found[0].local if found else None


def job_status(
    executor: str,
    task: str,
    job: str,
    schedule: str,
    active: bool | None,
    runs: tuple[RunRecord, ...],
    meaning: sched.Meaning | None,
    target: sched.Target,
    zone: ZoneInfo,
    *,
    expected: bool,
    now: datetime,
    grace: timedelta,
    shown: ZoneInfo,
    flags: list[Flag],
    details: list[str],
    skips: tuple[Skip, ...],
    unmatched: tuple[Skip, ...] = (),
    told_apart: bool = True,
    jobid: int | None = None,
    role: str | None = None,
) -> JobStatus:
    """One job judged from its newest-first `runs`: the flags of the module docstring, with
    `flags` and `details` already found by the caller in front. `skips` are its runs' skips,
    `unmatched` its task's skips of no job's run (`told_apart`: cronspec.skipped_run has pid)."""
    last = runs[0] if runs else None
    timed = isinstance(meaning, sched.Cron | sched.Seconds)
    if last is not None and last.status in FAILED:
        flags.append("failing")
    if last is None and expected:
        flags.append("never ran")
    if last is not None and expected and timed:
        assert meaning is not None
        late = _late(last, meaning, target, zone, now, grace)
        if late is not None:
            flags.append("late")
            what, since = late
            details.append(what.format(when(since, shown)))
    slow = 0
    if timed:
        assert meaning is not None
        slow = sum(_outlasted(run, meaning, target, zone, now) for run in runs)
    if slow:
        flags.append("slow")
        details.append(f"{slow} of the last {len(runs)} runs lasted past the next scheduled start")
    window = min((r.start for r in runs if r.start is not None), default=None)
    # a skip matched to one of this job's runs is that run's (at most `runs` of them are read,
    # the newest): no window, as pg_cron stamps a run's start_time after its transaction began
    skipped = list(skips)
    loose = [s for s in unmatched if window is None or s.at >= window]
    if skipped or loose:
        flags.append("skipped")
    if skipped:
        details.append(
            f"{len(skipped)} runs skipped (overlap: skip), the last at {when(skipped[0].at, shown)}"
        )
    if loose and told_apart:
        details.append(
            f"{len(loose)} {'skip' if len(loose) == 1 else 'skips'} not of a scheduled run "
            f"(overlap: skip), the last at {when(loose[0].at, shown)}: no run of the task's jobs "
            "has its pid (a manual CALL of the procedure, or a skip recorded before "
            "cronspec.skipped_run had its pid column)"
        )
    elif loose:
        details.append(
            f"{len(loose)} runs of the task's jobs skipped (overlap: skip), the last at "
            f"{when(loose[0].at, shown)}: cronspec.skipped_run has no pid column, so not which "
            "job's (`cronspec apply` of a project with overlap: skip adds it)"
        )
    durations = [d for r in runs if (d := r.duration) is not None]
    next_run = None
    if expected and timed and active is not False:
        assert meaning is not None
        next_run = _next_run(meaning, last, target, zone, now)
    return JobStatus(
        executor,  # type: ignore[arg-type]
        task,
        job,
        schedule,
        active,
        last,
        len(runs),
        sum(r.status in FAILED for r in runs),
        statistics.median_low(durations) if durations else None,
        max(durations) if durations else None,
        next_run.astimezone(shown) if next_run is not None else None,
        tuple(flags),
        tuple(details),
        jobid,
        role,
        len(skipped) + len(loose),
        slow,
    )


def _reference(run: RunRecord) -> datetime | None:
    """The instant a run stands for: when Oban inserted it, or when pg_cron started it."""
    return run.due or run.start


def _late(
    last: RunRecord,
    meaning: sched.Meaning,
    target: sched.Target,
    zone: ZoneInfo,
    now: datetime,
    grace: timedelta,
) -> tuple[str, datetime] | None:
    """Why the job is late, with `{}` for the instant it is about, or None."""
    ref = _reference(last)
    if ref is None:
        return None
    if last.status == "waiting" and last.start is None:
        if ref + grace < now:
            return "waiting in its queue since {}: is the queue running?", ref
        return None
    if last.status in UNDER_WAY:
        return None
    slot = _next_slot(meaning, ref, target, zone)
    if slot is not None and slot + grace < now:
        return "due at {}, no run since", slot
    return None


def _outlasted(
    run: RunRecord, meaning: sched.Meaning, target: sched.Target, zone: ZoneInfo, now: datetime
) -> bool:
    ref = _reference(run)
    if ref is None or run.start is None:
        return False
    end = run.end if run.end is not None else (now if run.status in UNDER_WAY else None)
    slot = _next_slot(meaning, ref, target, zone)
    return end is not None and slot is not None and end > slot


def _next_run(
    meaning: sched.Meaning,
    last: RunRecord | None,
    target: sched.Target,
    zone: ZoneInfo,
    now: datetime,
) -> datetime | None:
    if isinstance(meaning, sched.Seconds):
        step = timedelta(seconds=meaning.every)
        base = last.start if last is not None and last.start is not None else now
        if base > now:
            return base
        return base + step * ((now - base) // step + 1)
    return _next_slot(meaning, now, target, zone)


def when(moment: datetime, zone: ZoneInfo) -> str:
    """An instant as the details write it, in `zone`."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def bare(
    executor: str,
    task: str,
    job: str,
    schedule: str,
    flags: tuple[Flag, ...],
    details: tuple[str, ...] = (),
    jobid: int | None = None,
    role: str | None = None,
) -> JobStatus:
    """A job with nothing to judge: not in the database, or not visible to the reading role."""
    return JobStatus(
        executor,  # type: ignore[arg-type]
        task, job, schedule, None, None, 0, 0, None, None, None, flags, details, jobid, role,
    )  # fmt: skip
