"""Fuzzing spec input: valid specs, then mutated ones. cronspec never ends in a traceback or
exit 2 on spec input, and every accepted spec set gives SQL that sqlglot parses back (the
compiler checks that itself and would exit 2). A sample of accepted sets applies to the real
database. Raise the budget with CRONSPEC_FUZZ_EXAMPLES (`make fuzz`)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cronspec.api import compile_specs
from cronspec.cli import main

EXAMPLES = int(os.environ.get("CRONSPEC_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)
minute = st.sampled_from(["*", "*/5", "0", "15", "0,30", "10-40/10", "5/20"])
hour = st.sampled_from(["*", "3", "0-23/6", "9-17", "*/2"])
dom = st.sampled_from(["*", "1", "1,15", "*/2", "28"])
month = st.sampled_from(["*", "1", "jan-mar", "*/3", "12"])
dow = st.sampled_from(["*", "0", "1-5", "sun", "7", "MON-fri"])
cron = st.tuples(minute, hour, dom, month, dow).map(" ".join)
schedules = st.lists(
    st.one_of(cron, st.sampled_from(["@daily", "@hourly", "@startup", "@weekly", "@reboot"])),
    min_size=1,
    max_size=3,
    unique=True,
)
bodies = st.sampled_from(
    [
        "UPDATE t SET a = a + 1;",
        "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING;\nDELETE FROM t WHERE a > 100;",
        "WITH x AS (SELECT max(a) AS m FROM t) UPDATE t SET a = x.m FROM x WHERE t.a IS NULL;",
        "ANALYZE t;",
    ]
)
texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, object]:
    name = draw(names)
    spec: dict[str, object] = {
        "name": name,
        "description": draw(texts) or "d",
        "schedule": draw(schedules),
    }
    if draw(st.booleans()):
        spec.update(kind="sql", sql=draw(bodies))
    else:
        spec.update(
            kind="app",
            worker="My.Worker",
            needs=["ml"],
            args={"k": draw(texts), "n": draw(st.integers(-(10**6), 10**6))},
        )
    if draw(st.booleans()):
        spec["day_match"] = draw(st.sampled_from(["any", "all"]))
    if draw(st.booleans()):
        spec["enabled"] = False
    return spec


def _mutate(data: bytes, how: int, seed: int) -> bytes:
    if how == 0 or not data:
        return data
    if how == 1:
        return data[: seed % len(data)]
    if how == 2:
        index = seed % len(data)
        return data[:index] + bytes([seed % 256]) + data[index + 1 :]
    if how == 3:
        return data.replace(b"\n", b"\n  ", 1)
    if how == 4:
        return data + b"\nextra: [1, {a: *x}]\n"
    return data.replace(b": ", b": - ", 1)


def _write(root: Path, items: list[dict[str, object]], how: int, seed: int) -> None:
    specs_dir = root / "specs"
    if specs_dir.exists():
        for p in specs_dir.iterdir():
            p.unlink()
    specs_dir.mkdir(parents=True, exist_ok=True)
    for item in items:
        raw = yaml.safe_dump(item, allow_unicode=True, sort_keys=False).encode()
        (specs_dir / f"{item['name']}.yaml").write_bytes(_mutate(raw, how, seed))


@FUZZ
@given(
    items=st.lists(specs(), min_size=1, max_size=4, unique_by=lambda s: s["name"]),
    how=st.integers(0, 5),
    seed=st.integers(0, 10**6),
)
def test_no_traceback_no_exit_2(
    tmp_path_factory: object, items: list[dict[str, object]], how: int, seed: int
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _write(root, items, how, seed)
        code = main(["--root", str(root), "compile"])
        assert code in (0, 1)
        if code == 0:
            assert main(["--root", str(root), "compile", "--check"]) == 0


@settings(
    max_examples=max(EXAMPLES // 12, 8),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(items=st.lists(specs(), min_size=1, max_size=4, unique_by=lambda s: s["name"]))
def test_accepted_sets_apply_to_the_real_database(
    db: str, psql: Callable[..., subprocess.CompletedProcess[str]], items: list[dict[str, object]]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _write(root, items, 0, 0)
        compiled = compile_specs(root)
        if not compiled.ok:
            return
        sql = root / "pg_cron.sql"
        sql.write_text(compiled.files["pg_cron.sql"])
        run = psql  # type: ignore[assignment]
        run(sql="DROP TABLE IF EXISTS t; CREATE TABLE t (a int UNIQUE)")  # type: ignore[operator]
        result = run(file=sql)  # type: ignore[operator]
        assert isinstance(result, subprocess.CompletedProcess)
        assert compiled.plan is not None
        names = run(
            sql="SELECT string_agg(jobname, ',' ORDER BY jobname) FROM cron.job "  # type: ignore[operator]
            "WHERE jobname IS NOT NULL"
        ).stdout
        expected = ",".join(sorted(j.jobname for j in compiled.plan.jobs))
        assert expected in names
        run(sql="SELECT cron.unschedule(jobid) FROM cron.job")  # type: ignore[operator]
        run(sql="DROP SCHEMA cronspec CASCADE")  # type: ignore[operator]
