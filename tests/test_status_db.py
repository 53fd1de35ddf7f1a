"""`cronspec status` on the real executors: pg_cron 1.4.2 and 1.6.7 running jobs while the test
waits (1.6.7's `1 seconds`; 1.4.2's minute tick), and the real Oban 2.18.3 inserting and
performing crontab jobs. Nothing here writes cron.job_run_details or oban_jobs by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.dbtools import apply, execute, login_role, query, wait_until, write_project
from support.oban import OBAN_DB, Oban
from support.pgcluster import PgCluster
from support.servers import Server

from cronspec.api import compile_specs

pytestmark = pytest.mark.db

CLI = Callable[..., tuple[int, str, str]]
TICK = 75.0  # seconds: the next minute tick of pg_cron 1.4, and the run after it


def sql_spec(name: str, schedule: str, body: str) -> str:
    return f'name: {name}\ndescription: d\nkind: sql\nschedule: "{schedule}"\nsql: |\n  {body}\n'


def app_spec(name: str, schedule: str, worker: str, extra: str = "") -> str:
    return (
        f'name: {name}\ndescription: d\nkind: app\nschedule: "{schedule}"\nworker: {worker}\n'
        f"needs: [ml]\n{extra}"
    )


def project_at(root: Path, specs: dict[str, str], toml: str) -> Path:
    write_project(root, specs, toml)
    compiled = compile_specs(root)
    assert compiled.ok, [str(d) for d in compiled.diagnostics]
    return root


def migrate(dsn: str, root: Path) -> None:
    compiled = compile_specs(root)
    apply(dsn, compiled.files["pg_cron.sql"])


def status(cli: CLI, root: Path, dsn: str, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(root, "status", "--dsn", dsn, "--format", "json", *args)
    assert code in (0, 1), (code, err)
    return code, json.loads(out)


def by_job(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job"]: job for job in report["jobs"]}


def ran(dsn: str, *names: str) -> bool:
    """Every job named has a finished run in cron.job_run_details."""
    rows = query(
        dsn,
        "SELECT DISTINCT j.jobname FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
        "WHERE d.status IN ('succeeded', 'failed')",
    )
    return set(names) <= {name for (name,) in rows}


def test_succeeded_failing_and_late_jobs(
    pg_server: Server, pg_db: str, tmp_path: Path, cli: CLI
) -> None:
    """Three jobs really run: `ok` succeeds, `boom` divides by zero, and `paused` runs once
    and is then made inactive by hand while its spec keeps it enabled, so that the next start
    passes without a run: late. A second project on the same database, whose one job
    succeeds, is healthy: status reads only its own project."""
    seconds = pg_server.target == "1.6"
    every = "1 seconds" if seconds else "* * * * *"
    toml = f'[pg_cron]\nversion = "{pg_server.target}"\n'
    root = project_at(
        tmp_path / "main",
        {
            "ok": sql_spec("ok", every, "SELECT 1;"),
            "boom": sql_spec("boom", every, "SELECT 1 / 0;"),
            "paused": sql_spec("paused", every, "SELECT 2;"),
            "nightly": sql_spec("nightly", "0 3 * * *", "SELECT 3;"),
        },
        toml,
    )
    calm = project_at(
        tmp_path / "calm",
        {"calm": sql_spec("calm", every, "SELECT 4;")},
        'project = "calm"\n' + toml,
    )
    migrate(pg_db, root)
    migrate(pg_db, calm)
    wait_until(lambda: ran(pg_db, "paused"), TICK)
    execute(pg_db, "UPDATE cron.job SET active = false WHERE jobname = 'paused'")
    wait_until(lambda: ran(pg_db, "ok", "boom", "calm"), TICK)

    def paused_is_late() -> bool:
        return "late" in by_job(status(cli, root, pg_db, "--grace", "1s")[1])["paused"]["flags"]

    wait_until(paused_is_late, TICK)
    code, report = status(cli, root, pg_db, "--grace", "1s")
    assert code == 1
    assert report["healthy"] is False
    jobs = by_job(report)
    assert set(jobs) == {"ok", "boom", "paused", "nightly"}  # not project calm's job

    ok = jobs["ok"]
    assert ok["flags"] == [] and ok["active"] is True and ok["alert"] is False
    assert ok["last_run"]["status"] == "succeeded"
    assert ok["last_run"]["message"] == "CALL"  # the job's command calls the task's procedure
    assert ok["failures"] == 0 and ok["runs"] >= 1 and ok["max_seconds"] is not None
    assert ok["next_run"] is not None
    ((start,),) = query(
        pg_db,
        "SELECT max(start_time) FROM cron.job_run_details JOIN cron.job USING (jobid) "
        "WHERE jobname = 'ok' AND status = 'succeeded'",
    )
    assert ok["last_run"]["start"] <= report["at"]
    assert abs(_iso(ok["last_run"]["start"]) - start.timestamp()) < 5

    boom = jobs["boom"]
    assert boom["flags"] == ["failing"] and boom["alert"] is True
    assert boom["last_run"]["status"] == "failed"
    assert boom["last_run"]["message"].startswith("ERROR:  division by zero")
    assert boom["failures"] == boom["runs"] >= 1

    paused = jobs["paused"]
    assert paused["active"] is False
    assert paused["flags"] == ["inactive", "late"] and paused["alert"] is True
    assert paused["last_run"]["status"] == "succeeded" and paused["next_run"] is None

    assert jobs["nightly"]["flags"] == ["never ran"] and jobs["nightly"]["alert"] is False

    code, text, _ = cli(root, "status", "--dsn", pg_db, "--grace", "1s")
    assert code == 1
    lines = text.splitlines()
    assert lines[-1] == "2 of 4 jobs failing or late: boom, paused"
    assert any(line.startswith("boom ") and "ERROR: division by zero" in line for line in lines)
    version = "1.6" if seconds else "1.4-1"
    assert f"pg_cron {version} in database cronspec_test (schedules in GMT)" in lines[0]

    code, calm_report = status(cli, calm, pg_db, "--grace", "1s")
    assert code == 0 and [j["job"] for j in calm_report["jobs"]] == ["calm"]
    assert calm_report["jobs"][0]["last_run"]["status"] == "succeeded"


def _iso(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def test_a_plain_role_sees_only_its_own_jobs(
    pg_server: Server, pg_db: str, tmp_path: Path, cli: CLI
) -> None:
    """pg_cron's row-level security: the project's jobs of another role cannot be judged by a
    plain role, and status says so; the role's own job of the project can. (The task is a
    bare VACUUM, so that each role's migration makes only a job, no procedure.)"""
    root = project_at(
        tmp_path / "p",
        {"nightly": sql_spec("nightly", "0 3 * * *", "VACUUM;")},
        f'[pg_cron]\nversion = "{pg_server.target}"\n',
    )
    migrate(pg_db, root)  # as postgres, a superuser
    watcher = login_role(pg_db, "watcher")
    code, report = status(cli, root, watcher)
    assert code == 0
    (job,) = report["jobs"]
    assert (job["role"], job["flags"], job["active"]) == ("postgres", ["not visible"], None)
    assert any("pg_cron shows a role only its own jobs" in note for note in report["notes"])
    # cron.timezone (1.5+) is for superusers and pg_read_all_settings: found on 1.6.7
    timezone_note = any("may not read cron.timezone" in note for note in report["notes"])
    assert timezone_note == (pg_server.target == "1.6")
    migrate(watcher, root)  # the same project, as watcher: a job of its own
    code, report = status(cli, root, watcher)
    flags = {j["role"]: j["flags"] for j in report["jobs"]}
    assert flags == {"postgres": ["not visible"], "watcher": ["never ran"]}
    code, report = status(cli, root, pg_db)  # a superuser sees both
    assert sorted(j["role"] for j in report["jobs"]) == ["postgres", "watcher"]
    assert all(j["flags"] == ["never ran"] for j in report["jobs"])
    execute(pg_db, "SELECT cron.unschedule(jobid) FROM cron.job WHERE username = 'watcher'")


def test_a_run_longer_than_its_interval_is_slow(db16: str, tmp_path: Path, cli: CLI) -> None:
    """A `1 seconds` job whose body sleeps 1.5 s: each run outlasts the next start, which pg_cron
    1.6.7 queues behind it. Slow is not an alert."""
    root = project_at(
        tmp_path / "p",
        {"sleepy": sql_spec("sleepy", "1 seconds", "SELECT pg_sleep(1.5);")},
        '[pg_cron]\nversion = "1.6"\n',
    )
    migrate(db16, root)
    wait_until(lambda: ran(db16, "sleepy"), TICK)
    code, report = status(cli, root, db16)
    sleepy = by_job(report)["sleepy"]
    assert code == 0 and "slow" in sleepy["flags"] and sleepy["slow_runs"] >= 1
    assert sleepy["max_seconds"] >= 1.5
    assert any("lasted past the next scheduled start" in d for d in sleepy["details"])


def test_skips_of_overlap_skip_are_counted(db16: str, tmp_path: Path, cli: CLI) -> None:
    """The hook for `overlap: skip`, which does not exist yet: its wrapper will record each
    skip in cronspec.skipped_run (project, task, skipped_at). With no producer of such rows,
    this test creates the table and writes one skip row as the wrapper will; the run it is
    judged against is real. Without the table there are none."""
    root = project_at(
        tmp_path / "p",
        {"tick": sql_spec("tick", "1 seconds", "SELECT 1;")},
        '[pg_cron]\nversion = "1.6"\n',
    )
    migrate(db16, root)
    wait_until(lambda: ran(db16, "tick"), TICK)
    code, report = status(cli, root, db16)
    assert code == 0 and by_job(report)["tick"]["skipped"] == 0
    execute(
        db16,
        "CREATE TABLE cronspec.skipped_run (project text NOT NULL, task text NOT NULL, "
        "skipped_at timestamptz NOT NULL DEFAULT clock_timestamp()); "
        "INSERT INTO cronspec.skipped_run (project, task) VALUES ('default', 'tick'), "
        "('other', 'tick')",
    )
    code, report = status(cli, root, db16)
    tick = by_job(report)["tick"]
    assert code == 0 and tick["skipped"] == 1 and "skipped" in tick["flags"]


def test_oban_jobs_the_real_oban_inserted_and_ran(
    oban: Oban, cluster: PgCluster, tmp_path: Path, cli: CLI
) -> None:
    """Oban's Cron plugin inserts the crontab's jobs (it is told to evaluate now; every entry
    is `* * * * *`), real workers perform them, and status reads them from oban_jobs: one
    matched by meta cronspec_task (as cronspec writes every entry), one by worker and cron_expr
    (its meta taken out here, as in a crontab an earlier cronspec wrote), one whose worker
    raised, discarded after its one attempt."""
    root = project_at(
        tmp_path / "app",
        {
            "sync": app_spec("sync", "* * * * *", "CronspecTest.StatusSync"),
            "embed": app_spec("embed", "* * * * *", "CronspecTest.StatusEmbed"),
            "broken": app_spec(
                "broken", "* * * * *", "CronspecTest.StatusBroken", "max_attempts: 1\n"
            ),
        },
        "",
    )
    crontab = compile_specs(root).files["oban_crontab.exs"]
    entry = '{"* * * * *", CronspecTest.StatusSync, meta: %{"cronspec_task" => "sync"}}'
    assert entry in crontab
    assert '{"* * * * *", CronspecTest.StatusEmbed, meta: %{"cronspec_task" => "embed"}}' in crontab
    crontab = crontab.replace(entry, '{"* * * * *", CronspecTest.StatusSync}')
    (root / "generated").mkdir()
    (root / "generated" / "oban_crontab.exs").write_text(crontab, encoding="utf-8")
    answer = oban.server.ask(
        "cron_tick",
        {"root": str(root), "config": str(oban.snippets[0]), "fail": ["CronspecTest.StatusBroken"]},
    )
    dsn = cluster.dsn(OBAN_DB)
    try:
        ids = answer["ids"]
        assert len(ids) == 3
        # the plugin's own minute tick may have inserted more while the test ran: not these
        execute(dsn, f"DELETE FROM oban_jobs WHERE id <> ALL(ARRAY{ids}::bigint[])")
        rows = dict(query(dsn, "SELECT worker, meta::text FROM oban_jobs"))
        assert '"cronspec_task": "embed"' in rows["CronspecTest.StatusEmbed"]
        assert "cronspec_task" not in rows["CronspecTest.StatusSync"]
        code, report = status(cli, root, dsn)
        assert report["oban"] == f"public.oban_jobs in database {OBAN_DB}"
        assert report["pg_cron"] is None  # no pg_cron in Oban's database: none needed
        jobs = {j["task"]: j for j in report["jobs"]}
        assert all(j["executor"] == "oban" and j["schedule"] == "* * * * *" for j in jobs.values())
        for name in ("sync", "embed"):
            assert jobs[name]["last_run"]["status"] == "succeeded", jobs[name]
            assert jobs[name]["flags"] == [] and jobs[name]["runs"] == 1
        broken = jobs["broken"]
        assert broken["last_run"]["status"] == "failed" and broken["flags"] == ["failing"]
        assert broken["last_run"]["message"].startswith(
            "** (RuntimeError) CronspecTest.StatusBroken failed on purpose"
        )
        assert code == 1
    finally:
        execute(dsn, "DELETE FROM oban_jobs")


def test_a_database_without_pg_cron_for_pg_cron_tasks_exits_3(
    cluster: PgCluster, tmp_path: Path, cli: CLI
) -> None:
    """The specs have pg_cron jobs, the database has no pg_cron: nothing can be judged."""
    root = project_at(tmp_path / "p", {"t": sql_spec("t", "0 3 * * *", "SELECT 1;")}, "")
    code, out, err = cli(root, "status", "--dsn", cluster.dsn("postgres"))
    assert (code, out) == (3, "")
    assert "pg_cron is not installed in database postgres, and the specs have 1 pg_cron" in err
    assert "hint: point --dsn at the database named by cron.database_name" in err
