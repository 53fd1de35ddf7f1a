"""Convergence on the real cluster: from any earlier cronspec state (or none), one application
of the migration leaves exactly the specs' jobs and procedures, and rewrites nothing that did
not change (same jobid and xmin in cron.job, same xmin in pg_proc).

Scenario tests name each kind of change; a hypothesis property drives random sequences of them.
CRONSPEC_FUZZ_EXAMPLES raises the number of examples (default 20, half on each server). Each
test runs on pg_cron 1.4.2 and 1.6.7 (`pg_server`), with the specs compiled for that server's
version.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.common import RESET_SQL
from support.dbtools import (
    Target,
    apply,
    assert_plan_is_apply,
    compiled,
    execute,
    plan_actions,
    query,
    snapshot,
)
from support.servers import Server

pytestmark = pytest.mark.db

TABLE = "CREATE TABLE tiny (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)"
SCHEDULES = (("*/5 * * * *",), ("0 3 * * *",), ("15 4 * * 1",), ("0 3 * * *", "30 2 1 * *"))
# Bodies 0-2 become procedures; 3 is a bare command (VACUUM: no procedure).
BODIES = (
    "UPDATE tiny SET n = n + 1 WHERE id = 1;",
    "UPDATE tiny SET n = n + 2 WHERE id = 2;",
    "INSERT INTO tiny (id) VALUES (3) ON CONFLICT (id) DO NOTHING;\nDELETE FROM tiny WHERE id = 4;",
    "VACUUM (ANALYZE) tiny;",
)
NAMES = ("alpha", "beta", "gamma", "delta-task", "eps_5")
UNMANAGED = """
SELECT cron.schedule('handmade', '7 7 * * *', 'SELECT 1');
CREATE SCHEMA IF NOT EXISTS cronspec;
CREATE PROCEDURE cronspec."alpha-old"() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE PROCEDURE public.alpha() LANGUAGE sql AS $$ SELECT 2 $$;
"""


@dataclass(frozen=True)
class Task:
    schedules: int = 0  # index into SCHEDULES
    body: int = 0  # index into BODIES
    spaced: bool = False  # the same body with other whitespace
    oban: bool = False  # executor: oban
    enabled: bool = True

    def text(self, name: str) -> str:
        body = BODIES[self.body]
        if self.spaced:
            body = "\n\n" + body.replace(" ", "\n    ").replace("\n    (", " (") + "\n\n"
        schedules = ", ".join(f"'{s}'" for s in SCHEDULES[self.schedules])
        lines = [
            f"name: {name}",
            "description: A tiny SQL task.",
            "kind: sql",
            f"schedule: [{schedules}]",
            "sql: |",
            *("  " + line if line else "" for line in body.split("\n")),
        ]
        if self.oban:
            lines += ["executor: oban", "worker: My.TinyWorker"]
        if not self.enabled:
            lines.append("enabled: false")
        return "\n".join(lines) + "\n"


State = dict[str, Task]


def write(root: Path, state: State, version: str = "1.4") -> Path:
    (root / "specs").mkdir(parents=True, exist_ok=True)
    (root / "cronspec.toml").write_text(f'[pg_cron]\nversion = "{version}"\n', encoding="utf-8")
    specs = root / "specs"
    if specs.exists():
        shutil.rmtree(specs)
    specs.mkdir(parents=True)
    for name, task in state.items():
        (specs / f"{name}.yaml").write_text(task.text(name), encoding="utf-8")
    if not state:  # a project needs a spec: one on Oban leaves pg_cron empty
        (specs / "app.yaml").write_text(
            "name: app\ndescription: d\nkind: app\nschedule: '0 1 * * *'\nworker: My.W\n"
        )
    return root


def expected_jobs(state: State) -> dict[str, tuple[Any, ...]]:
    """jobname -> (schedule, command, database, active), derived from the model, not the plan."""
    wanted = {}
    for name, task in state.items():
        if task.oban:
            continue
        command = "VACUUM (ANALYZE) tiny" if task.body == 3 else f'CALL "cronspec"."{name}"()'
        for number, schedule in enumerate(SCHEDULES[task.schedules], start=1):
            jobname = name if number == 1 else f"{name}:{number}"
            wanted[jobname] = (schedule, command, "cronspec_test", task.enabled)
    return wanted


def expected_procedures(state: State) -> dict[str, str]:
    return {n: BODIES[t.body] for n, t in state.items() if not t.oban and t.body != 3}


def live_jobs(conn: Target) -> dict[str, tuple[Any, ...]]:
    rows = query(
        conn,
        "SELECT jobname, schedule, command, database, active, jobid, xmin::text FROM cron.job "
        "WHERE jobname <> 'handmade'",
    )
    return {r[0]: r[1:] for r in rows}


def live_procedures(conn: Target) -> dict[str, tuple[str, str]]:
    """name -> (body, xmin) of cronspec's procedures (the unmanaged `alpha-old` left out)."""
    rows = query(
        conn,
        "SELECT p.proname, p.prosrc, p.xmin::text FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname = 'cronspec' AND p.proname <> 'alpha-old'",
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def unmanaged(conn: Target) -> list[tuple[Any, ...]]:
    return query(
        conn,
        "SELECT j.xmin::text, j::text FROM cron.job j WHERE jobname = 'handmade' "
        "UNION ALL SELECT p.xmin::text, p::text FROM pg_proc p WHERE proname IN "
        "('alpha-old', 'alpha') AND pronamespace <> 'cronspec'::regnamespace ORDER BY 2",
    )


def words(sql: str) -> str:
    return " ".join(sql.split())


class Converger:
    """Applies states one after another and checks each against the model."""

    def __init__(self, conn: psycopg.Connection[Any], root: Path, version: str) -> None:
        self.conn = conn  # one session for every query and apply: faster
        self.root = root
        self.version = version  # the server's pg_cron: what the specs are compiled for
        self.state: State = {}
        execute(conn, TABLE)
        execute(conn, UNMANAGED)
        self.kept = unmanaged(conn)

    def to(self, state: State) -> None:
        before_jobs, before_procs = live_jobs(self.conn), live_procedures(self.conn)
        result = compiled(write(self.root, state, self.version))
        sql = result.files["pg_cron.sql"]
        assert_plan_is_apply(self.conn, sql)  # what plan says is what apply does
        jobs, procs = live_jobs(self.conn), live_procedures(self.conn)
        # A bare command is scheduled as written: compare it word by word.
        assert {k: (v[0], words(v[1]), *v[2:4]) for k, v in jobs.items()} == expected_jobs(state)
        want_procs = expected_procedures(state)
        assert set(procs) == set(want_procs)
        for name, (body, _) in procs.items():
            assert words(body) == words(want_procs[name])
        # No churn: what did not change keeps its row (jobid and xmin).
        for jobname, row in jobs.items():
            old = before_jobs.get(jobname)
            if old is not None and old[:4] == row[:4]:
                assert old[4:] == row[4:], f"job {jobname} rewritten without a change"
            if old is not None:
                assert old[4] == row[4], f"job {jobname} got a new jobid"
        for name, (body, xmin) in procs.items():
            old_proc = before_procs.get(name)
            if old_proc is not None and words(old_proc[0]) == words(body):
                assert old_proc[1] == xmin, f"procedure {name} rewritten without a change"
        assert unmanaged(self.conn) == self.kept
        # The bookkeeping names exactly what cronspec now manages, by jobid.
        recorded = query(self.conn, "SELECT jobname, jobid FROM cronspec.owned_job")
        assert dict(recorded) == {name: row[4] for name, row in jobs.items()}
        managed = query(self.conn, "SELECT procedure_name FROM cronspec.owned_procedure")
        assert {r[0] for r in managed} == set(want_procs)
        # And a second application changes no row at all, and plans nothing.
        again = snapshot(self.conn, catalog=False)
        assert {a[0] for a in plan_actions(self.conn, sql)} <= {"unchanged"}
        apply(self.conn, sql)
        assert snapshot(self.conn, catalog=False) == again
        self.state = dict(state)

    def rollback(self) -> None:
        result = compiled(write(self.root, self.state, self.version))
        apply(self.conn, result.files["pg_cron_rollback.sql"])
        assert live_jobs(self.conn) == {}
        assert live_procedures(self.conn) == {}
        assert unmanaged(self.conn) == self.kept


@pytest.fixture
def converger(pg_server: Server, pg_db: str, tmp_path: Path) -> Iterator[Converger]:
    with psycopg.connect(pg_db, autocommit=True) as conn:
        yield Converger(conn, tmp_path / "proj", pg_server.target)


# --- one kind of change at a time -------------------------------------------------------------


def test_add_change_rename_remove(converger: Converger) -> None:
    converger.to({"alpha": Task()})
    converger.to({"alpha": Task(), "beta": Task(schedules=1, body=1)})  # added
    converger.to({"alpha": Task(schedules=2), "beta": Task(schedules=1, body=2)})  # changed
    converger.to({"alpha": Task(schedules=3), "beta": Task(schedules=1, body=3)})  # 2 jobs; bare
    converger.to({"gamma": Task(schedules=3), "beta": Task(schedules=1, body=3)})  # renamed
    converger.to({"beta": Task(schedules=1, body=0)})  # removed; bare command -> procedure
    converger.to({})
    converger.to({"alpha": Task()})
    converger.rollback()


def test_whitespace_only_change_rewrites_nothing(converger: Converger) -> None:
    converger.to({"alpha": Task(body=2)})
    before = snapshot(converger.conn)
    converger.to({"alpha": Task(body=2, spaced=True)})
    assert snapshot(converger.conn) == before
    converger.to({"alpha": Task(body=1, spaced=True)})
    body = live_procedures(converger.conn)["alpha"][0]  # a real change writes the new text
    assert body.strip() == BODIES[1].replace(" ", "\n    ")


def test_disable_then_enable(converger: Converger) -> None:
    converger.to({"alpha": Task(), "beta": Task(enabled=False, schedules=3)})
    jobs = live_jobs(converger.conn)
    assert [jobs[j][3] for j in ("alpha", "beta", "beta:2")] == [True, False, False]
    converger.to({"alpha": Task(enabled=False), "beta": Task(schedules=3)})
    converger.to({"alpha": Task(enabled=False, schedules=1), "beta": Task(schedules=3)})
    assert live_jobs(converger.conn)["alpha"][:4][3] is False  # schedule changed, still off


def test_move_to_oban_and_back(converger: Converger) -> None:
    converger.to({"alpha": Task(), "beta": Task(body=1)})
    converger.to({"alpha": Task(oban=True), "beta": Task(body=1)})
    assert "alpha" not in live_procedures(converger.conn)
    converger.to({"alpha": Task(), "beta": Task(body=1, oban=True)})
    converger.to({"alpha": Task(oban=True), "beta": Task(body=1, oban=True)})
    assert live_jobs(converger.conn) == {}


def test_from_a_hand_edited_state(converger: Converger) -> None:
    """Drift made by hand (schedule, active, a dropped procedure) is put back."""
    state = {"alpha": Task(), "beta": Task(body=1, enabled=False)}
    converger.to(state)
    execute(
        converger.conn,
        "UPDATE cron.job SET schedule = '1 1 * * *', active = false WHERE jobname = 'alpha';"
        "UPDATE cron.job SET active = true WHERE jobname = 'beta';"
        'DROP PROCEDURE cronspec."beta"();'
        "SELECT cron.unschedule('alpha');",
    )
    converger.to(state)


# --- random sequences -------------------------------------------------------------------------

# The random sequences are shared between the two servers (half each): as many as before the
# suite ran on two, at the cost of one; the scenario tests above run whole on both.
EXAMPLES = max(1, int(os.environ.get("CRONSPEC_FUZZ_EXAMPLES", "20")) // 2)


def step(state: State, action: str, index: int, value: int) -> State:
    """One change to the specs; a change that does not apply leaves them as they are."""
    new = dict(state)
    names = sorted(state)
    free = [n for n in NAMES if n not in state]
    target = names[index % len(names)] if names else None
    if action == "add" and free:
        new[free[index % len(free)]] = Task(schedules=value % len(SCHEDULES), body=value % 3)
    elif target is None:
        return new
    elif action == "schedule":
        new[target] = replace(state[target], schedules=value % len(SCHEDULES))
    elif action == "body":
        new[target] = replace(state[target], body=value % len(BODIES), spaced=False)
    elif action == "whitespace":
        new[target] = replace(state[target], spaced=not state[target].spaced)
    elif action == "remove":
        del new[target]
    elif action == "rename" and free:
        new[free[value % len(free)]] = new.pop(target)
    elif action == "move":
        new[target] = replace(state[target], oban=not state[target].oban)
    elif action == "toggle":
        new[target] = replace(state[target], enabled=not state[target].enabled)
    return new


ACTIONS = ("add", "schedule", "body", "whitespace", "remove", "rename", "move", "toggle")
STEPS = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, 4), st.integers(0, 11)),
    min_size=1,
    max_size=5,
)
START = st.dictionaries(
    st.sampled_from(NAMES),
    st.builds(
        Task,
        schedules=st.integers(0, len(SCHEDULES) - 1),
        body=st.integers(0, len(BODIES) - 1),
        spaced=st.booleans(),
        oban=st.booleans(),
        enabled=st.booleans(),
    ),
    max_size=3,
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cronspec-conv-") as folder:
        yield Path(folder)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(start=START, steps=STEPS)
def test_random_changes_converge(
    pg_server: Server, scratch: Path, start: State, steps: list[tuple[str, int, int]]
) -> None:
    with psycopg.connect(pg_server.cluster.dsn(), autocommit=True) as conn:
        execute(conn, RESET_SQL)
        converger = Converger(conn, scratch / "proj", pg_server.target)
        converger.to(start)  # from no cronspec state
        state = start
        for action, index, value in steps:
            state = step(state, action, index, value)
            converger.to(state)
        converger.rollback()
