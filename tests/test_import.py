"""`cronspec import --dsn`: the import round trip on the real servers (pg_cron 1.4.2 and 1.6.7).

A cron database holds 20+ hand-made jobs: some cronspec keeps as written (names in any case,
weekday 7, nicknames, ranges with steps, both day fields restricted, a job in another database,
a paused one, `VACUUM` with a trailing comment, two jobs that are one task's two schedules), and
some it must refuse (a name that is no task name, no name, 6 fields, `1#2`, `5.5`, a date that
never comes, a command that reaches outside, a gap in numbered names), plus a job another
cronspec project owns. Then: import, compile (no errors), `plan --adopt` lists only adoptions
(bookkeeping, schema and extension rows aside), each with its jobid; apply; plan again: no
changes; and every imported job still has its jobid in `cron.job`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.dbtools import apply_actions, compiled, execute, query, write_project
from support.servers import Server

from cronspec import api, db
from cronspec.schedule import parse

pytestmark = pytest.mark.db
Cli = Callable[..., tuple[int, str, str]]
SETUP_KINDS = {"bookkeeping", "schema", "extension"}

TABLES = """
CREATE TABLE import_events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE import_totals (day date PRIMARY KEY, n bigint NOT NULL);
CREATE MATERIALIZED VIEW import_mv AS SELECT count(*) AS n FROM import_events;
"""

ROLLUP = (
    "INSERT INTO import_totals (day, n) SELECT current_date, count(*) FROM import_events\n"
    "ON CONFLICT (day) DO UPDATE SET n = excluded.n"
)

# name, schedule, command; what the import does with it ("kept", or a word of the reason)
JOBS: list[tuple[str | None, str, str, str]] = [
    (
        "nightly-cleanup",
        "0 3 * * *",
        "DELETE FROM import_events WHERE at < now() - interval '30 days'",
        "kept",
    ),
    ("hourly-rollup", "@hourly", ROLLUP + ";", "kept"),
    ("sunday-report", "0 6 * * sun", "SELECT count(*) FROM import_totals", "kept"),
    ("weekday-seven", "30 5 * * 7", "SELECT 7", "kept"),
    ("quarter-names", "0 0 1 JAN-mar,Oct *", "SELECT 'q'", "kept"),
    ("fortnight", "0 12 1,15 * 1", "SELECT 'either'", "kept"),
    ("vacuum-events", "15 4 * * *", "VACUUM import_events", "kept"),
    ("vacuum-commented", "20 4 * * *", "VACUUM ANALYZE import_events; -- weekly stats", "kept"),
    (
        "two-statements",
        "*/15 * * * *",
        "UPDATE import_totals SET n = n WHERE day = current_date;\n"
        "DELETE FROM import_totals WHERE day < current_date - 365;",
        "kept",
    ),
    ("office-hours", "0-30/10 9-17 * * mon-fri", "SELECT 'office'", "kept"),
    ("refresh-mv", "5 */2 * * *", "REFRESH MATERIALIZED VIEW import_mv", "kept"),
    ("at-boot", "@reboot", "SELECT 'booted'", "kept"),
    ("twice-daily", "0 8 * * *", "SELECT 'twice'", "kept"),
    ("twice-daily:2", "0 20 * * *", "SELECT 'twice'", "kept"),
    ("gappy", "0 9 * * *", "SELECT 'gap'", "kept"),
    ("gappy:3", "0 21 * * *", "SELECT 'gap'", "schedule 3 of task"),
    ("Nightly Report", "0 2 * * *", "SELECT 'report'", "not a cronspec task name"),
    (None, "0 1 * * *", "SELECT 'anonymous'", "no name"),
    ("six-fields", "*/10 * * * * *", "SELECT 6", "6 fields"),
    ("nth-weekday", "0 9 * * 1#2", "SELECT 2", "`#`"),
    ("decimal-minute", "5.5 * * * *", "SELECT 5.5", "decimal"),
    ("never", "0 0 31 2 *", "SELECT 'never'", "never fire"),
    ("copy-out", "0 7 * * *", "COPY import_events TO PROGRAM 'cat > /dev/null'", "app-bound"),
]
# placed with cron.schedule_in_database, or paused with cron.alter_job
ELSEWHERE = ("elsewhere", "0 1 * * *", "SELECT 'in postgres'")
PAUSED = ("paused", "0 2 * * *", "SELECT 'paused'")
# only pg_cron 1.5+ reads these (the 1.4.2 server refuses to schedule them)
NEWER = [
    ("every-30s", "30 seconds", "SELECT 30", "kept"),
    ("month-end", "0 12 $ * *", "SELECT 'last day'", "kept"),
]

OTHER_PROJECT = (
    "name: theirs\ndescription: Another project's job.\nkind: sql\nschedule: '0 4 * * *'\n"
    "sql: SELECT 'theirs';\n"
)


def jobs_for(server: Server) -> list[tuple[str | None, str, str, str]]:
    return JOBS + (NEWER if server.target >= "1.5" else [])


def make_jobs(dsn: str, server: Server, tmp_path: Path) -> dict[str | None, int]:
    """The hand-made jobs, and one of another cronspec project; name -> jobid."""
    execute(dsn, TABLES)
    theirs = write_project(tmp_path / "theirs", {"theirs": OTHER_PROJECT}, 'project = "theirs"\n')
    apply_actions(dsn, compiled(theirs).files["pg_cron.sql"])
    for name, schedule, command, _ in jobs_for(server):
        if name is None:
            query(dsn, "SELECT cron.schedule(%s, %s)", (schedule, command))
        else:
            query(dsn, "SELECT cron.schedule(%s, %s, %s)", (name, schedule, command))
    query(dsn, "SELECT cron.schedule_in_database(%s, %s, %s, 'postgres')", ELSEWHERE)
    (paused,) = query(dsn, "SELECT cron.schedule(%s, %s, %s)", PAUSED)[0]
    query(dsn, "SELECT cron.alter_job(%s, active := false)", (paused,))
    rows = query(dsn, "SELECT jobname, jobid FROM cron.job")
    return {name: jobid for name, jobid in rows}


def project_toml(server: Server) -> str:
    return f'project = "imported"\n[pg_cron]\nversion = "{server.target}"\n'


def expected(server: Server) -> tuple[set[str], dict[str, str]]:
    """The jobs imported (by name) and the listed ones (name -> a word of the reason)."""
    kept = {n for n, _, _, what in jobs_for(server) if what == "kept" and n is not None}
    kept |= {ELSEWHERE[0], PAUSED[0]}
    listed = {str(n): what for n, _, _, what in jobs_for(server) if what != "kept"}
    return kept, listed


def test_import_round_trip(pg_server: Server, pg_db: str, tmp_path: Path, cli: Cli) -> None:
    ids = make_jobs(pg_db, pg_server, tmp_path)
    before = query(pg_db, "SELECT j::text FROM cron.job j ORDER BY jobid")
    assert len(ids) >= 25  # 20+ hand-made ones (one without a name), and theirs
    root = write_project(tmp_path / "proj", {}, project_toml(pg_server))

    code, out, err = cli(root, "import", "--dsn", pg_db)
    assert code == 1, err  # some are listed
    kept, listed = expected(pg_server)
    wrote = dict(re.findall(r"^wrote (\S+): (.*)$", out, re.M))
    not_imported = re.findall(r"^not imported: pg_cron job (\d+)(?: \((.*?)\))?: (.*)$", out, re.M)
    assert {Path(p).stem for p in wrote} == kept - {"twice-daily:2"}
    assert wrote["specs/twice-daily.yaml"] == (
        f"pg_cron job {ids['twice-daily']} (twice-daily), "
        f"pg_cron job {ids['twice-daily:2']} (twice-daily:2)"
    )
    assert {name or "None": reason for _, name, reason in not_imported}.keys() == listed.keys()
    for _, name, reason in not_imported:
        assert listed[name or "None"] in reason, (name, reason)
    assert re.search(
        rf"^skipped: pg_cron job {ids['theirs']} \(theirs\): cronspec project "
        r"theirs \(role postgres\) owns it$",
        out,
        re.M,
    )
    assert f"cronspec import: {len(wrote)} written, {len(listed)} not imported, 1 skipped" in err
    # Nothing was touched by the import.
    assert query(pg_db, "SELECT j::text FROM cron.job j ORDER BY jobid") == before

    # What it wrote compiles cleanly, and says what it kept.
    # (R701, jobs crowding one minute, is about the team's schedules, not about the import)
    code, _, err = cli(root, "compile")
    warnings = [line for line in err.splitlines() if "warning[" in line]
    assert code == 0 and "error" not in err, err
    assert all("warning[R701]" in line for line in warnings), err
    specs = {p.stem: p.read_text() for p in (root / "specs").iterdir()}
    assert "day_match: any" in specs["fortnight"]
    assert "run_as" not in specs["vacuum-events"]  # run bare anyway
    assert "run_as: command" in specs["vacuum-commented"]
    assert "run_as: command" in specs["nightly-cleanup"]
    assert "database: postgres" in specs["elsewhere"] and "enabled: false" in specs["paused"]

    # plan --adopt: only adoptions, each keeping its jobid.
    outcome = api.live(root, "plan", pg_db, adopt=True)
    assert outcome.report is not None, outcome.error
    actions = [a for a in outcome.report.actions if a.kind not in SETUP_KINDS]
    assert {a.action for a in actions} == {"adopt"}, [(a.action, a.kind, a.name) for a in actions]
    adopted = {a.name: a for a in actions}
    assert {a.kind for a in actions} == {"job"}  # no procedure: every command runs as it is
    assert set(adopted) == kept
    for name, action in adopted.items():
        assert action.jobid == ids[name] and action.details[0] == f"jobid {ids[name]} kept"
    assert cli(root, "plan", "--dsn", pg_db, "--adopt")[0] == 2  # changes: the adoptions

    # Apply, then plan again: nothing to do.
    code, out, err = cli(root, "apply", "--dsn", pg_db, "--adopt")
    assert code == 0, err
    again = api.live(root, "plan", pg_db)
    assert again.report is not None and not again.changes, [
        (a.action, a.kind, a.name, a.details) for a in again.report.actions if a.changes
    ]
    code, out, _ = cli(root, "plan", "--dsn", pg_db)
    assert code == 0 and "no changes" in out

    # Every imported job kept its jobid; the others were not touched.
    after = {
        r[0]: r[1:]
        for r in query(
            pg_db, "SELECT jobid, jobname, schedule, command, database, active FROM cron.job"
        )
    }
    for name in kept:
        jobid = ids[name]
        assert after[jobid][0] == name
    for name, schedule, command, _ in jobs_for(pg_server):
        if str(name) in listed:
            assert [
                r for r in after.values() if r[0] == name and r[1] == schedule and r[2] == command
            ], name
    assert after[ids["paused"]][4] is False and after[ids["elsewhere"]][3] == "postgres"
    # A rewritten schedule means what pg_cron's own text meant (`sun` is 0, 7 is 0, ...).
    original = {n: s for n, s, _, _ in jobs_for(pg_server)}
    for name in kept & original.keys():
        now = after[ids[name]][1]
        day_match = "any" if name == "fortnight" else None
        assert _meaning(now, day_match) == _meaning(original[name], day_match), name


def _meaning(text: str, day_match: Any) -> Any:
    parsed = parse(text, day_match)
    assert not hasattr(parsed, "code"), parsed
    return parsed.meaning  # type: ignore[union-attr]


def test_a_second_import_replaces_nothing_without_force(
    pg_db: str, tmp_path: Path, cli: Cli
) -> None:
    query(pg_db, "SELECT cron.schedule('tidy', '0 3 * * *', 'SELECT 1')")
    root = write_project(tmp_path, {}, "")
    assert cli(root, "import", "--dsn", pg_db)[0] == 0
    first = (root / "specs" / "tidy.yaml").read_bytes()
    (root / "specs" / "tidy.yaml").write_text("# mine\n" + first.decode())
    code, out, _ = cli(root, "import", "--dsn", pg_db)
    assert code == 1
    assert out.startswith("not imported: pg_cron job ") and "specs/tidy.yaml exists; --force" in out
    assert (root / "specs" / "tidy.yaml").read_text().startswith("# mine\n")
    code, out, _ = cli(root, "import", "--dsn", pg_db, "--force")
    assert code == 0 and out.startswith("wrote specs/tidy.yaml: pg_cron job ")
    assert (root / "specs" / "tidy.yaml").read_bytes() == first


def test_roles_are_imported_one_at_a_time(pg_db: str, tmp_path: Path, cli: Cli) -> None:
    from support.dbtools import login_role

    app = login_role(pg_db, "import_app")
    query(pg_db, "SELECT cron.schedule('mine', '0 3 * * *', 'SELECT 1')")
    query(app, "SELECT cron.schedule('theirs', '0 4 * * *', 'SELECT 2')")
    root = write_project(tmp_path, {}, "")
    code, _, err = cli(root, "import", "--dsn", pg_db)
    assert code == 1 and "jobs of 2 roles are visible (import_app, postgres)" in err
    assert not (root / "specs").exists() or not list((root / "specs").iterdir())
    code, out, _ = cli(root, "import", "--dsn", pg_db, "--role", "import_app")
    assert code == 0 and "wrote specs/theirs.yaml" in out
    assert "note: these are role import_app's jobs: plan and apply as import_app" in out
    # A plain role sees its own jobs only; asking for another's finds none.
    code, out, _ = cli(root, "import", "--dsn", app, "--role", "postgres", "--out", "x")
    assert code == 0 and "no pg_cron jobs of role postgres visible to role import_app" in out
    # And the role's own specs adopt its job, applied as that role.
    outcome = api.live(root, "plan", app, adopt=True)
    assert outcome.report is not None, outcome.error
    assert [(a.action, a.name) for a in outcome.report.actions if a.kind == "job"] == [
        ("adopt", "theirs")
    ]


def test_a_database_without_pg_cron_is_one_line(cluster: Any, tmp_path: Path, cli: Cli) -> None:
    root = write_project(tmp_path, {}, "")
    code, _, err = cli(root, "import", "--dsn", cluster.dsn("postgres"))
    assert code == 1
    assert err == (
        "cronspec: error: pg_cron is not installed in database postgres: connect to the "
        "database named by cron.database_name\n"
    )


def test_what_the_reader_returns(db: str) -> None:
    query(db, "SELECT cron.schedule('r', '0 3 * * *', 'SELECT 1')")
    with db_connect(db) as conn:
        source = db_read(conn)
    assert source.server.database == "cronspec_test" and source.server.role == "postgres"
    assert source.server.version.startswith("1.4")
    ((job),) = source.jobs
    assert (job.jobname, job.schedule, job.command, job.active, job.owner) == (
        "r",
        "0 3 * * *",
        "SELECT 1",
        True,
        None,
    )


db_connect = db.connect
db_read = db.read_cron_jobs
