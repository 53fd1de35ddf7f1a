"""Fuzzing spec input: valid specs, then mutated ones. cronspec never ends in a traceback or
exit 2 on spec input, and every accepted spec set gives SQL that sqlglot parses back (the
compiler checks that itself and would exit 2). A sample of accepted sets applies to the real
database. Raise the budget with CRONSPEC_FUZZ_EXAMPLES (`make fuzz`)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
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


# -- hazards of issue 12: YAML tags, huge integers, deep nesting, names, cronspec.toml -----------

_DIAGNOSTIC_LINE = re.compile(r"^\S.*?(:\d+:\d+)?: (error|warning)\[[A-Z]\d{3}\]: .+$")
TAGS = ["!!int", "!!float", "!!timestamp", "!!bool", "!!null", "!!str", "!!binary", "!!set",
        "!!omap", "!!seq", "!!map", "!local", "!", "!<tag:x>", "!!python/object"]  # fmt: skip
HUGE = st.sampled_from([4299, 4300, 4301, 5000, 20000]).map(lambda n: "9" * n)
hazard = st.one_of(
    st.tuples(st.just("tag"), st.sampled_from(TAGS)),
    st.tuples(st.just("huge"), HUGE),
    st.tuples(st.just("hex"), st.integers(3500, 4000).map(lambda n: "0x" + "f" * n)),
    st.tuples(st.just("sexagesimal"), st.integers(1, 3000).map(lambda n: "1" + ":00" * n)),
    st.tuples(st.just("nest"), st.integers(1, 3000)),
    st.tuples(st.just("schedule"), HUGE.map(lambda n: f"{n} * * * *")),
    st.tuples(st.just("schedule"), HUGE.map(lambda n: f"*/{n} * * * *")),
    st.tuples(st.just("schedule"), HUGE.map(lambda n: f"{n} seconds")),
)
name_chars = st.characters(
    blacklist_characters="/\0", blacklist_categories=["Cs"], max_codepoint=0x2FFFF
)
file_names = st.one_of(
    names,
    st.text(name_chars, min_size=1, max_size=12),
    st.sampled_from(["a\nb", "a\x1b[2Jb", "a\rb", "a\u202eb", "a\u200db", "a\tb", "a\x7fb"]),
)


def _with_hazard(text: str, kind: str, value: object, seed: int) -> str:
    """The spec's YAML with one hazard put at a line chosen by `seed`."""
    lines = text.split("\n")
    keyed = [i for i, line in enumerate(lines) if re.match(r"^[a-z_]+: \S", line)] or [0]
    at = keyed[seed % len(keyed)]
    key, _, rest = lines[at].partition(": ")
    if kind == "tag":
        lines[at] = f"{key}: {value} {rest}"
    elif kind in ("huge", "hex", "sexagesimal"):
        lines[at] = f"{key}: {value}"
    elif kind == "nest":
        depth = int(str(value))
        lines[at] = f"{key}: " + "[" * depth + "1" + "]" * depth
    return "\n".join(lines)


def _run(root: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--root", str(root), *args])
    return code, out.getvalue(), err.getvalue()


def _check_lines(printed: str, fmt: str) -> None:
    """Whatever the input, what is printed is one clean line per diagnostic."""
    assert "Traceback" not in printed and "internal error" not in printed, printed
    if fmt == "json":
        json.loads(printed)
        assert printed.isascii()
        return
    for line in printed.splitlines():
        assert line.isprintable(), repr(line)
        if fmt == "text" and not line.startswith("cronspec: "):
            assert _DIAGNOSTIC_LINE.match(line), repr(line)


@FUZZ
@given(
    items=st.lists(specs(), min_size=1, max_size=3, unique_by=lambda s: s["name"]),
    hazards=st.lists(st.tuples(hazard, st.integers(0, 10**6)), min_size=1, max_size=3),
    stems=st.lists(file_names, min_size=1, max_size=3),
    fmt=st.sampled_from(["text", "json", "github"]),
)
def test_hazards_give_clean_lines_and_no_exit_2(
    items: list[dict[str, object]],
    hazards: list[tuple[tuple[str, object], int]],
    stems: list[str],
    fmt: str,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "specs").mkdir()
        for index, item in enumerate(items):
            (kind, value), seed = hazards[index % len(hazards)]
            if kind == "schedule":
                item = {**item, "schedule": [value, *item["schedule"]][: 1 + seed % 2]}  # type: ignore[list-item]
            text = yaml.safe_dump(item, allow_unicode=True, sort_keys=False)
            stem = stems[index % len(stems)] if index < len(stems) else str(item["name"])
            path = root / "specs" / f"{stem}.yaml"
            if path.exists():
                continue
            path.write_text(_with_hazard(text, kind, value, seed), encoding="utf-8")
        code, out, err = _run(root, "compile", "--format", fmt)
        assert code in (0, 1), err
        _check_lines(err if fmt == "text" else out, fmt)
        for found in sorted(set(re.findall(r"\[([A-Z]\d{3})\]", err + out))):
            event(f"code {found}")
        code, out, err = _run(root, "explain", "--format", "json")
        assert code in (0, 1), err
        json.loads(out)


def test_non_utf8_file_names(tmp_path: Path) -> None:
    """A name that is not UTF-8 (surrogates in Python) is printed escaped, never crashes."""
    specs = os.fsencode(tmp_path / "specs")
    os.mkdir(specs)
    for raw in (b"\xff\xfe.yaml", b"caf\xe9.yaml", b"ok.yaml"):
        with open(os.path.join(specs, raw), "w", encoding="utf-8") as handle:
            handle.write("name: ok\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: SELECT 1\n")
    for fmt in ("text", "json", "github"):
        code, out, err = _run(tmp_path, "compile", "--format", fmt)
        assert code == 1, err
        _check_lines(err if fmt == "text" else out, fmt)
        assert "\\udcff\\udcfe.yaml" in (err if fmt == "text" else out)


zones = st.one_of(
    st.sampled_from(["UTC", "Europe/Berlin", "", "../etc", "Mars/Base", "/etc/localtime", "."]),
    st.text(max_size=20),
)
instants = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59", "0001-01-01T00:00:00", "garbage", "", "2026-02-30"]),
    st.text(max_size=25),
)
toml_values = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    HUGE,
    st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
    st.text(max_size=20).map(json.dumps),
)


@FUZZ
@given(
    zone=zones,
    start=instants,
    runs=toml_values,
    folder=st.one_of(st.text(max_size=15), st.sampled_from(["specs", ".", "..", "specs/a.yaml"])),
    explain_from=instants,
)
def test_config_edges_give_one_line_and_no_exit_2(
    zone: str, start: str, runs: str, folder: str, explain_from: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "specs").mkdir()
        task = "name: a\ndescription: d\nkind: sql\nschedule: '30 2 * * *'\nsql: SELECT 1\n"
        (root / "specs" / "a.yaml").write_text(task + "timezone: Europe/Berlin\n")
        (root / "cronspec.toml").write_text(
            f"timezone = {json.dumps(zone)}\noutput = {json.dumps(folder)}\n"
            f"[report]\nfrom = {json.dumps(start)}\nnext_runs = {runs}\n",
            encoding="utf-8",
        )
        code, _, err = _run(root, "compile")
        assert code in (0, 1), err
        _check_lines(err, "text")
        code, _, err = _run(root, "explain", f"--from={explain_from}")
        assert code in (0, 1, 2), err
        assert "Traceback" not in err and "internal error" not in err
        if code == 2:  # a usage error: --from is not an ISO date-time
            assert err.startswith("cronspec: error: --from "), err
