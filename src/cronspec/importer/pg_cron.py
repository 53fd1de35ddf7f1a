"""pg_cron jobs (rows of `cron.job`, read by db/) to specs that adopt them as they are.

A spec keeps the job's name (the task's name), its schedule as pg_cron has it (cronspec reads
pg_cron's text the way pg_cron does: names in any case, weekday 7, nicknames, `N seconds`, `$`;
both day fields restricted fire on either, which the spec says as `day_match: any`), its
command as the SQL body (`run_as: command`, unless cronspec runs that body bare anyway), its
database when it is not the cron database, and `enabled`. `cronspec plan --adopt` then lists
each job as an adoption, with its jobid kept.

Jobs `foo`, `foo:2`, ..., `foo:N` of one role with the same command, database and state are one
task with N schedules, as cronspec itself names them. What cannot be kept exactly is listed
with the reason and gets no spec: a name that is not a task name (pg_cron cannot rename a job),
a schedule pg_cron misreads or that never fires, one the configured pg_cron version lacks, a
command cronspec refuses. Jobs cronspec's bookkeeping records are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import schedule as sched
from ..diagnostics import Diagnostic
from ..model import Settings
from ..plan import Plan
from ..spec import MAX_NAME, NAME_PATTERN
from .specs import Conversion, Listed, Written, compile_draft, first_error, render_exactly

_NAME = re.compile(NAME_PATTERN)
_NUMBERED = re.compile(r"(.+):([0-9]+)")


@dataclass(frozen=True)
class CronJob:
    """One row of `cron.job`, and who owns it in cronspec's bookkeeping (None: nobody)."""

    jobid: int
    jobname: str | None
    schedule: str
    command: str
    database: str
    username: str
    active: bool
    owner: str | None = None  # e.g. "cronspec project billing (role app)"

    @property
    def source(self) -> str:
        """How the import names the job."""
        return f"pg_cron job {self.jobid}" + (f" ({self.jobname})" if self.jobname else "")


@dataclass(frozen=True)
class PgCronServer:
    """What the import needs to know of the server it read the jobs from."""

    database: str  # the database it connected to: the cron database, where the migration runs
    version: str  # pg_cron's extversion
    timezone: str | None  # cron.timezone, where the role may read it
    role: str  # the role it connected as


def canonical(sql: str) -> str:
    """A command as adoption compares it: without surrounding blanks and trailing `;`."""
    return sql.strip(" \t\r\n").rstrip(" \t\r\n;")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def _zone_error(server: PgCronServer, settings: Settings) -> str | None:
    target = settings.pg_cron.target
    live = _version(server.version)
    if live < target.version:
        return (
            f"cronspec.toml says pg_cron {settings.pg_cron.version}, but the server has pg_cron "
            f"{server.version}: set `[pg_cron] version` to what the server runs"
        )
    wanted = target.zone(settings.timezone)
    if live >= (1, 5) and server.timezone and not sched.same_zone(server.timezone, wanted):
        return (
            f"the server runs pg_cron jobs in `{server.timezone}` (cron.timezone), and this "
            f'project\'s schedules mean `{wanted}`: set `timezone = "{server.timezone}"` in '
            "cronspec.toml (with `[pg_cron] version` 1.5 or later) and import again"
        )
    return None


def _suggest(name: str) -> str:
    text = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_") or "job"
    return text[:MAX_NAME].rstrip("-_")


def _name_problem(name: str | None) -> str | None:
    if name is None:
        return (
            "it has no name, and a spec is named after its job: schedule its command again "
            "with a name (cron.schedule(name, schedule, command)), unschedule this one, and "
            "import again"
        )
    if _NAME.fullmatch(name) and len(name.encode()) <= MAX_NAME:
        return None
    return (
        f"`{name}` is not a cronspec task name (lowercase letters, digits, `-` and `_`, at "
        "most 63 bytes), and pg_cron cannot rename a job: schedule its command again as "
        f"`{_suggest(name)}`, unschedule this one, and import again"
    )


def _day_match(schedules: Iterable[str]) -> str | None:
    """`any` when a schedule restricts both day fields: pg_cron fires when either matches."""
    for text in schedules:
        parsed = sched.parse(text)
        if isinstance(parsed, Diagnostic) and parsed.code == "C305":
            return "any"
    return None


def _groups(jobs: Sequence[CronJob]) -> tuple[list[list[CronJob]], list[tuple[int, Listed]]]:
    """Jobs `foo`, `foo:2`, ... that make one task; the `foo:N` that do not, listed."""
    by_name = {(j.username, j.jobname): j for j in jobs if j.jobname is not None}
    taken: set[int] = set()
    groups: list[list[CronJob]] = []
    for job in jobs:
        if job.jobname is None or job.jobid in taken or _NUMBERED.fullmatch(job.jobname):
            continue
        group = [job]
        while True:
            follower = by_name.get((job.username, f"{job.jobname}:{len(group) + 1}"))
            same = follower is not None and (
                follower.command,
                follower.database,
                follower.active,
            ) == (job.command, job.database, job.active)
            if follower is None or not same:
                break
            group.append(follower)
        taken.update(j.jobid for j in group)
        groups.append(group)
    listed: list[tuple[int, Listed]] = []
    for job in jobs:
        if job.jobid in taken:
            continue
        numbered = _NUMBERED.fullmatch(job.jobname or "")
        if numbered and (job.username, numbered[1]) in by_name:
            base, n = numbered[1], int(numbered[2])
            previous = f"`{base}`" if n == 2 else f"`{base}` to `{base}:{n - 1}`"
            listed.append(
                (
                    job.jobid,
                    Listed(
                        job.source,
                        f"it would be schedule {n} of task `{base}` only after jobs {previous} "
                        "with the same command, database and state; schedule it again under a "
                        "task name of its own and import again",
                    ),
                )
            )
        else:
            groups.append([job])
    return sorted(groups, key=lambda g: g[0].jobid), listed


def _draft(
    group: Sequence[CronJob], server: PgCronServer, settings: Settings, *, run_as: bool
) -> list[tuple[str, Any]]:
    first = group[0]
    schedules = [j.schedule for j in group]
    ids = ", ".join(str(j.jobid) for j in group)
    word = "job" if len(group) == 1 else "jobs"
    draft: list[tuple[str, Any]] = [
        ("name", first.jobname),
        ("description", f"Imported from pg_cron {word} {ids} (role {first.username})."),
        ("kind", "sql"),
        ("schedule", schedules[0] if len(schedules) == 1 else schedules),
        ("executor", "pg_cron"),
    ]
    if not first.active:
        draft.append(("enabled", False))
    zone = settings.pg_cron.target.zone(settings.timezone)
    if not sched.same_zone(zone, settings.timezone):  # pg_cron 1.4 runs every job in GMT
        draft.append(("timezone", "UTC"))
    if (day_match := _day_match(schedules)) is not None:
        draft.append(("day_match", day_match))
    if first.database != server.database:
        draft.append(("database", first.database))
    if run_as:
        draft.append(("run_as", "command"))
    draft.append(("sql", first.command.strip()))  # as validation reads it
    return draft


def _adoptable(group: Sequence[CronJob], plan: Plan) -> str | None:
    """Why the migration would not adopt these jobs as they are (None: it would)."""
    planned = {j.jobname: j for j in plan.jobs}
    for job in group:
        assert job.jobname is not None
        want = planned.get(job.jobname)
        if want is None:
            return f"cronspec makes no job `{job.jobname}` of it"
        if job.schedule not in (want.schedule, want.written):
            return (
                f"cronspec writes its schedule as `{want.schedule}` and would not recognise "
                f"`{job.schedule}` as that text"
            )
        if canonical(job.command) != canonical(want.command):
            return "cronspec would change its command"
    return None


def _bare(group: Sequence[CronJob], plan: Plan) -> bool:
    """Whether cronspec runs the job's command as it is, with no procedure."""
    commands = {j.jobname: j.command for j in plan.jobs}
    return not plan.procedures and all(
        canonical(commands.get(j.jobname or "", "")) == canonical(j.command) for j in group
    )


def _convert(
    group: Sequence[CronJob], server: PgCronServer, settings: Settings, folder: str
) -> Written | str:
    """The spec of one task, or why it cannot be imported."""
    path = f"{folder}/{group[0].jobname}.yaml"
    run_as = False
    while True:
        text = render_exactly(path, _draft(group, server, settings, run_as=run_as))
        plan, diags = compile_draft(path, text, settings)
        if plan is None:
            app_bound = next((d for d in diags if d.code == "X501"), None)
            if app_bound is not None:  # the spec pins pg_cron; the reason is what binds it
                why = app_bound.message.split("app-bound: ", 1)[-1]
                return f"it is app-bound, so cronspec would not run it on pg_cron: {why}"
            problem = first_error(diags)
            if any(d.is_error and d.code.startswith("C3") for d in diags):
                texts = ", ".join(f"`{j.schedule}`" for j in group)
                problem = f"its schedule{'s' if len(group) > 1 else ''} {texts}: {problem}"
            return problem
        if run_as or _bare(group, plan):
            break
        run_as = True  # the body as the job's command: what pg_cron runs today
    unadoptable = _adoptable(group, plan)
    if unadoptable is not None:
        return unadoptable
    sources = ", ".join(j.source for j in group)
    return Written(group[0].jobname or "", text, sources)


def _existing_problem(
    name: str, folder: str, existing: Mapping[str, str], force: bool
) -> str | None:
    filename = existing.get(name)
    if filename is None:
        return None
    if not filename.endswith(".yaml"):
        return f"{folder}/{filename} defines task `{name}`"
    return None if force else f"{folder}/{filename} exists; --force replaces it"


def from_pg_cron(
    jobs: Iterable[CronJob],
    server: PgCronServer,
    settings: Settings,
    *,
    folder: str,
    existing: Mapping[str, str] | None = None,
    force: bool = False,
) -> Conversion:
    """Specs for `jobs` (one role's), to be written in `folder` (as shown in messages).

    `existing` maps the task names the folder has specs for to their file names: a spec is
    replaced only with `force`, and never one written as `NAME.yml` (the task would be defined
    twice).
    """
    jobs = sorted(jobs, key=lambda j: j.jobid)
    roles = sorted({j.username for j in jobs})
    if len(roles) > 1:
        return Conversion(
            error=f"jobs of {len(roles)} roles are visible ({', '.join(roles)}): import one "
            "role's jobs at a time with --role (a project is applied as one role, and adopts "
            "that role's jobs)"
        )
    if jobs and (problem := _zone_error(server, settings)):
        return Conversion(error=problem)
    skipped = [Listed(j.source, f"{j.owner} owns it") for j in jobs if j.owner is not None]
    groups, listed = _groups([j for j in jobs if j.owner is None])
    specs: list[Written] = []
    for group in groups:
        first = group[0]
        problem = _name_problem(first.jobname) or _existing_problem(
            first.jobname or "", folder, existing or {}, force
        )
        if problem is not None:
            listed.extend((j.jobid, Listed(j.source, problem)) for j in group)
            continue
        result = _convert(group, server, settings, folder)
        if not isinstance(result, Written) and len(group) > 1:
            alone = _convert(group[:1], server, settings, folder)
            if isinstance(alone, Written):  # the others do not fit in one spec with it
                specs.append(alone)
                listed.extend(
                    (j.jobid, Listed(j.source, f"it cannot join task `{first.jobname}`: {result}"))
                    for j in group[1:]
                )
                continue
        if isinstance(result, Written):
            specs.append(result)
        else:
            listed.extend((j.jobid, Listed(j.source, result)) for j in group)
    notes: tuple[str, ...] = ()
    if roles and roles[0] != server.role and specs:
        notes = (f"these are role {roles[0]}'s jobs: plan and apply as {roles[0]} to adopt them",)
    return Conversion(
        tuple(specs),
        tuple(item for _, item in sorted(listed, key=lambda pair: pair[0])),
        tuple(skipped),
        notes=notes,
    )
