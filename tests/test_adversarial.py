"""Adversarial specs: whatever text a spec holds, the outputs mean exactly what the spec says.

Text from specs reaches every output: descriptions (REPORT.md), SQL bodies (dollar-quoted
procedure bodies, quoted job commands), worker and queue names and args (the Elixir crontab).
For each adversarial spec set, `cronspec compile` either refuses it with clear diagnostics (exit
1, one printable line per error, no traceback) or writes outputs that, applied for real, mean the
spec exactly:

- the migration runs with psql on the real PostgreSQL 15 + pg_cron cluster; a `canary` table
  survives; `cron.job` holds exactly the declared jobs (name, schedule, command, active);
  `pg_proc.prosrc` is each body after cronspec's normalisation (trailing spaces stripped, one
  final newline); the @startup run writes exactly the values the SQL literals spell;
- the Elixir crontab parses and evaluates with the real `elixir`, and the real Oban 2.18.3 starts
  with it and inserts jobs with exactly the declared args (tests/support/oban.py);
- REPORT.md shows a description as text, without Markdown or HTML structure.

Hypothesis then throws random Unicode (control characters included) at the description, an
args string and a SQL string literal. CRONSPEC_FUZZ_EXAMPLES raises the example counts.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.oban import Job, Oban, check_crontab, same, write_crontab

from cronspec import cli
from cronspec.api import Compiled, compile_specs

FUZZ = int(os.environ.get("CRONSPEC_FUZZ_EXAMPLES", "0"))
PURE_EXAMPLES = max(FUZZ, 100)
DB_EXAMPLES = max(FUZZ // 10, 10)
NEVER = "0 0 1 1 *"  # a schedule that will not fire while the tests run (pg_cron is live)


# -- writing specs: YAML double-quoted scalars that spell any text exactly ---------------------


def yaml_str(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
        text = repr(value)  # YAML 1.1 floats need a dot and a signed exponent
        if "e" in text:
            mantissa, exponent = text.split("e")
            mantissa += "" if "." in mantissa else ".0"
            text = f"{mantissa}e{int(exponent):+d}"
        return text
    if isinstance(value, str):
        return yaml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    assert isinstance(value, Mapping)
    return "{" + ", ".join(f"{yaml_str(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"


def spec_text(fields: Mapping[str, Any]) -> str:
    return "".join(f"{key}: {yaml_value(value)}\n" for key, value in fields.items())


def sql_task(
    name: str, body: str, *, description: str = "d", schedule: str | list[str] = NEVER
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "kind": "sql",
        "schedule": schedule,
        "sql": body,
    }


def app_task(
    name: str,
    worker: str,
    *,
    description: str = "d",
    schedule: str | list[str] = NEVER,
    **opts: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "kind": "app",
        "schedule": schedule,
        "worker": worker,
        **opts,
    }


def make_project(root: Path, tasks: list[dict[str, Any]]) -> Path:
    specs = root / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    for old in specs.iterdir():
        old.unlink()
    for task in tasks:
        (specs / f"{task['name']}.yaml").write_text(spec_text(task), encoding="utf-8")
    return root


def normalized(body: str) -> str:
    """cronspec's body normalisation: white space around the body off, one final newline;
    nothing inside changes."""
    return body.strip() + "\n"


def compile_ok(root: Path) -> Compiled:
    compiled = compile_specs(root)
    assert compiled.ok, "\n".join(map(str, compiled.diagnostics))
    return compiled


# -- REPORT.md: a description is text ----------------------------------------------------------

_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_INLINE = set("\\`*_[]<>|")
_ENTITY = re.compile(r"(?<!\\)&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Line starts that make a Markdown block (after a blank line): ATX heading, list item,
# thematic break, block quote, code fence, table row.
_BLOCK = re.compile(
    r"^ {0,3}(#{1,6}( |$)|[-+*]( |$)|\d{1,9}[.)]( |$)|([-*_] *){3,}$|[>|]|`{3}|~{3})"
)


def report_text(line: str) -> str:
    """The text a Markdown line shows, if the line is plain text; AssertionError otherwise."""
    assert not _BLOCK.match(line), f"starts a Markdown block: {line!r}"
    assert not _ENTITY.search(line), f"an HTML entity shows as another character: {line!r}"
    out, i = [], 0
    while i < len(line):
        char = line[i]
        if char == "\\" and i + 1 < len(line) and line[i + 1] in _PUNCT:
            out.append(line[i + 1])
            i += 2
            continue
        assert char not in _INLINE, f"unescaped {char!r} is Markdown/HTML syntax: {line!r}"
        out.append(char)
        i += 1
    return "".join(out)


def check_report_description(report: str, name: str, description: str) -> None:
    """The description's lines are the report's, each plain text: a line break is a hard break
    (a trailing backslash), a blank line between paragraphs."""
    lines = report.split("\n")
    at = lines.index(f"## {name}")
    assert lines[at + 1] == "", lines[at : at + 4]
    text = "\n".join(line.rstrip() for line in description.strip().split("\n"))
    blocks = [[ln for ln in block.split("\n") if ln.strip()] for block in text.split("\n\n")]
    expected: list[str | None] = []
    for block in (b for b in blocks if b):
        expected += [*block, None]  # None: the blank line after a paragraph
    shown = lines[at + 2 : at + 2 + len(expected)]
    assert len(shown) == len(expected), (shown, expected)
    for index, (line, want) in enumerate(zip(shown, expected, strict=True)):
        if want is None:
            assert line == "", shown
            continue
        last = expected[index + 1] is None
        if not last:
            assert line.endswith("\\"), line
        assert report_text(line if last else line[:-1]) == " ".join(want.split())


# -- the database ------------------------------------------------------------------------------

SETUP_SQL = """
CREATE TABLE canary (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO canary VALUES (1, 'alive');
CREATE TABLE adv_log (id serial PRIMARY KEY, task text NOT NULL, note text);
"""


@dataclass
class DbState:
    canary: list[tuple[Any, ...]]
    jobs: set[tuple[str, str, str, bool]]
    jobids: dict[str, int]
    procedures: dict[str, str]
    log: list[tuple[str, str | None]] = field(default_factory=list)


def db_state(dsn: str) -> DbState:
    with psycopg.connect(dsn, autocommit=True) as conn:
        canary = conn.execute("SELECT id, note FROM canary ORDER BY id").fetchall()
        rows = conn.execute(
            "SELECT jobname, schedule, command, active, jobid FROM cron.job "
            "WHERE username = current_user"
        ).fetchall()
        procs = conn.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'cronspec'"
        ).fetchall()
        log = conn.execute("SELECT task, note FROM adv_log ORDER BY id").fetchall()
    return DbState(
        canary,
        {(r[0], r[1], r[2], r[3]) for r in rows},
        {r[0]: r[4] for r in rows},
        dict(procs),
        log,
    )


def apply(psql: Callable[..., Any], root: Path, name: str = "pg_cron.sql") -> None:
    result = psql(file=root / name, check=False)
    assert result.returncode == 0, f"{name} does not apply: {result.stderr}"


def call(name: str) -> str:
    return f'CALL "cronspec"."{name}"()'


# -- set 1: SQL quoting (pg_cron), applied for real --------------------------------------------

NASTY_DESCRIPTIONS = [
    "it's '' $$ $body$ $fn$ */ /* -- ; \\ \\\\ E'\\'' é 🙂 עברית",
    "'); DROP TABLE canary; -- $body_1$ \"quoted\" %s %I %L :var :'var' \\gexec",
    "<b>bold</b> <script>alert(1)</script> [x](javascript:alert(1)) ![i](x.png)",
    "| a | b | **strong** _em_ `code` ``` <!-- c --> <https://x.example>",
]


@dataclass(frozen=True)
class SqlCase:
    name: str
    body: str
    note: str | None  # what the @startup run logs, None when the task has no @startup
    command: str | None = None  # the job's command when it is not CALL <procedure>


SQL_CASES = [
    SqlCase(
        "dollar-tags",
        "INSERT INTO adv_log (task, note)\n"
        "VALUES ('dollar-tags', $body$ $$ $fn$ '' $body_1$ $body$ || $body_1$x$body_1$);\n",
        " $$ $fn$ '' $body_1$ x",
    ),
    SqlCase(
        "drop-in-literal",
        "INSERT INTO adv_log (task, note) VALUES ('drop-in-literal', "
        "'''); DROP TABLE canary; --');\n",
        "'); DROP TABLE canary; --",
    ),
    SqlCase(
        "comments",
        "/* '); DROP TABLE canary; -- */\n"
        "INSERT INTO adv_log (task, note)\n"
        "VALUES ('comments', '/* not a comment */ -- nor this; $body$');"
        "  -- '); DROP TABLE canary; --\n"
        "/* nested /* $body$ */ ; DROP TABLE canary; */\n",
        "/* not a comment */ -- nor this; $body$",
    ),
    SqlCase(
        "e-strings",
        "INSERT INTO adv_log (task, note)\n"
        "VALUES ('e-strings', E'\\'' || E'\\\\' || '\\' || U&'\\00e9' || E'\\n');   \n\n\n",
        "'\\\\é\n",
    ),
    SqlCase(
        "ends-in-dollar-body",
        "INSERT INTO adv_log (task, note) VALUES ('ends-in-dollar-body', 'x') -- $body",
        "x",
    ),
    SqlCase(
        "ends-in-dollar",
        "INSERT INTO adv_log (task, note) SELECT 'ends-in-dollar', $q$ends in $$q$",
        "ends in $",
    ),
    SqlCase(
        "multi",
        "INSERT INTO adv_log (task, note) VALUES ('multi', 'a;b'); /* ; */\n"
        "UPDATE adv_log SET note = note || ';c'\n"
        "WHERE id = (SELECT max(id) FROM adv_log WHERE task = 'multi');\n"
        "-- trailing comment $body$ '\n",
        "a;b;c",
    ),
    SqlCase(
        "unicode",
        "INSERT INTO adv_log (task, note)\nVALUES ('unicode', 'é 🙂 \u00a0end \u3000 ﷺ');\n",
        "é 🙂 \u00a0end \u3000 ﷺ",
    ),
    SqlCase(
        "standalone",
        "VACUUM (ANALYZE) adv_log -- it's $$ 'q' \\ $body$ E'\\''\n",
        None,
        "VACUUM (ANALYZE) adv_log",  # the statement, first token to last: no trailing comment
    ),
    SqlCase(
        "standalone-trailing",
        "VACUUM adv_log; -- done; DROP TABLE canary;\n",
        None,
        "VACUUM adv_log",
    ),
]


def sql_set() -> list[dict[str, Any]]:
    tasks = []
    for i, case in enumerate(SQL_CASES):
        schedule = [NEVER] if case.note is None else ["@startup", NEVER]
        tasks.append(
            sql_task(
                case.name,
                case.body,
                schedule=schedule,
                description=NASTY_DESCRIPTIONS[i % len(NASTY_DESCRIPTIONS)],
            )
        )
    return tasks


@pytest.mark.db
def test_sql_quoting_set_applies_exactly(tmp_path: Path, db: str, psql: Callable[..., Any]) -> None:
    root = make_project(tmp_path, sql_set())
    compiled = compile_ok(root)
    assert compiled.plan is not None
    for name, text in compiled.files.items():
        (root / name).write_text(text, encoding="utf-8")
    psql(sql=SETUP_SQL)
    apply(psql, root)

    state = db_state(db)
    assert state.canary == [(1, "alive")]
    assert state.jobs == {(c.name, NEVER, c.command or call(c.name), True) for c in SQL_CASES}
    assert state.procedures == {c.name: normalized(c.body) for c in SQL_CASES if not c.command}
    startup_order = sorted(c.name for c in SQL_CASES if c.note is not None)
    assert state.log == [
        (name, next(c.note for c in SQL_CASES if c.name == name)) for name in startup_order
    ]

    # A second deploy changes no job, runs @startup again; the rollback removes only ours.
    apply(psql, root)
    again = db_state(db)
    assert (again.jobids, again.procedures, again.canary) == (
        state.jobids,
        state.procedures,
        state.canary,
    )
    assert again.log == state.log * 2
    apply(psql, root, "pg_cron_rollback.sql")
    after = db_state(db)
    assert (after.jobs, after.procedures, after.canary) == (set(), {}, [(1, "alive")])

    for i, case in enumerate(SQL_CASES):
        check_report_description(
            compiled.files["REPORT.md"], case.name, NASTY_DESCRIPTIONS[i % len(NASTY_DESCRIPTIONS)]
        )


# -- set 2: Oban args, workers and queues, read back by Elixir ---------------------------------

STRINGS = {
    "quote": '"',
    "interp": "#{System.halt(1)}",
    "escaped-interp": "\\#{x}",
    "backslash": "\\",
    "newline": "a\nb",
    "crlf": "a\r\nb",
    "tab": "a\tb",
    "controls": "\x01\x07\x1b[2J\x7f\x85\x9f",
    "emoji": "🙂👍🏽🏳️‍🌈",
    "rtl": "\u200f\u202eabc\u202c",
    "isolates": "\u2066x\u2069",
    "separators": "\u2028\u2029",
    "bom": "\ufeff",
    "nbsp": "\u00a0",
    "max": "\U0010ffff",
    "nonchar": "\ufffe\uffff",
    "heredoc": "\"\"\"\n'''\n",
    "sigils": '~s(x) ~S"y" ~r/z/',
    "code": 'end) ; IO.puts("pwned") ; (fn -> :ok end).()',
    "atoms": ":nil :true %{} <<>> [] {}",
    "empty": "",
    "#{key}": "interpolated key",
    "": "empty key",
    'k"ey': "quoted key",
    "k\\ey": "backslash key",
    "k\ney": "newline key",
}
NUMBERS = {
    "big": 2**70,
    "negbig": -(2**64) - 1,
    "neg": -1,
    "zero": 0,
    "tenth": 0.1,
    "tiny": 5e-324,
    "huge": 1.7976931348623157e308,
    "negzero": -0.0,
    "exp": 1e16,
    "small": 1.5e-7,
    "t": True,
    "f": False,
    "n": None,
    "list": [1, "two", [3, [4, []]], {"five": 5}],
    "emptylist": [],
    "emptymap": {},
}
DEEP: Any = "bottom"  # specs may nest 16 levels (Y110)
for _level in range(4):
    DEEP = [DEEP, {"d": [DEEP]}]

APP_TASKS = [
    app_task(
        "strings",
        "Adv.Strings",
        schedule=["@startup", "0 1 * * *"],
        args={**STRINGS, "nested": {"list": list(STRINGS.values())}},
        queue="nil",
        priority=0,
        description=NASTY_DESCRIPTIONS[0],
    ),
    app_task(
        "numbers",
        "Elixir.Adv.Numbers",
        schedule=["0 2 * * *", "@startup", "@hourly"],
        args=NUMBERS,
        queue="true",
        max_attempts=1,
        description=NASTY_DESCRIPTIONS[1],
    ),
    app_task(
        "workers",
        "Adv.Nil.True.False_9",
        schedule="@startup",
        queue="do",
        description=NASTY_DESCRIPTIONS[2],
    ),
    app_task(
        "deep",
        "Adv.Deep",
        args={"deep": DEEP},
        queue="false",
        priority=9,
        max_attempts=100,
        description=NASTY_DESCRIPTIONS[3],
    ),
    app_task("off", "Adv.Off", args={"never": "#{"}, enabled=False),
]


NUL_TASK = app_task("nul", "Adv.Nul", schedule="@startup", args={"nul": "a\0b"})


@pytest.mark.elixir
def test_oban_cannot_store_nul_in_args(tmp_path: Path, oban: Oban) -> None:
    """PostgreSQL's jsonb has no U+0000, so `Oban.insert!` of such args raises: why cronspec
    refuses them (below). cronspec writes no such crontab, so the test puts the NUL in one."""
    root = make_project(tmp_path, [{**NUL_TASK, "args": {"nul": "a\x01b"}}])
    compiled = compile_specs(root)
    assert compiled.ok and compiled.plan is not None
    crontab = compiled.files["oban_crontab.exs"]
    assert crontab.count("\\u{1}") == 1
    write_crontab(root, {**compiled.files, "oban_crontab.exs": crontab.replace("\\u{1}", "\\u{0}")})
    with pytest.raises(AssertionError, match=r"\\u0000 cannot be converted to text"):
        check_crontab(oban, root, compiled.plan)


def test_nul_in_args_is_refused(tmp_path: Path) -> None:
    """What Oban could not insert (above) is refused at compile, at the value."""
    compiled = compile_specs(make_project(tmp_path, [NUL_TASK]))
    assert not compiled.ok
    assert [(d.code, d.span.line) for d in compiled.diagnostics if d.is_error] == [("S204", 6)]


@pytest.mark.elixir
def test_oban_set_reaches_oban_with_the_declared_args(tmp_path: Path, oban: Oban) -> None:
    root = make_project(tmp_path, APP_TASKS)
    compiled = compile_ok(root)
    assert compiled.plan is not None
    write_crontab(root, compiled.files)
    booted = check_crontab(oban, root, compiled.plan)

    # Independently of the plan: each declared task, args as declared, in every job Oban made.
    jobs = [*booted.startup, *booted.cron]
    for task in APP_TASKS:
        worker = task["worker"].removeprefix("Elixir.")
        mine = [params(job) for job in jobs if job.worker == worker]
        if not task.get("enabled", True):
            assert mine == []
            continue
        schedules = task["schedule"] if isinstance(task["schedule"], list) else [task["schedule"]]
        assert len(mine) == len(schedules)
        want = {"worker": worker, "args": task.get("args", {})}
        want |= {
            k: (str(task[k]) if k == "queue" else task[k])
            for k in ("queue", "priority", "max_attempts")
            if k in task
        }
        for got in mine:
            got = {k: v for k, v in got.items() if k in want}
            assert same(got, want), f"{task['name']}: {got!r} != {want!r}"
    for task in APP_TASKS:
        check_report_description(compiled.files["REPORT.md"], task["name"], task["description"])


def params(job: Job) -> dict[str, Any]:
    fields = ("worker", "args", "queue", "priority", "max_attempts")
    return {name: getattr(job, name) for name in fields}


# -- set 3: refused with clear diagnostics -----------------------------------------------------

_DIAGNOSTIC = re.compile(r"^specs/[a-z0-9_-]+\.yaml(:\d+:\d+)?: error\[[A-Z]\d{3}\]: \S")
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    r"\u2028\u2029]"
)

REFUSED: list[Any] = [
    pytest.param(
        sql_task("t", "SELECT 1;", description="a\x1b[2Jb"), "S209", id="description-escape"
    ),
    pytest.param(
        sql_task("t", "SELECT 1;", description="a\u2028b"), "S209", id="description-u2028"
    ),
    pytest.param(
        sql_task("t", "SELECT 1;", description="x" * 501), "S204", id="description-too-long"
    ),
    pytest.param(sql_task("t", "SELECT '\x1b[2J';"), "S209", id="sql-escape"),
    pytest.param(sql_task("t", "SELECT 'a\0b';"), "S209", id="sql-nul"),
    pytest.param(sql_task("t", "SELECT 'a\rb';"), "S209", id="sql-carriage-return"),
    pytest.param(sql_task("t", "SELECT $body$ x"), "Q401", id="sql-open-dollar"),
    pytest.param(sql_task("t", "SELECT $body_1$ x $body$;"), "Q401", id="sql-mismatched-dollar"),
    pytest.param(sql_task("t", "SELECT 'x"), "Q401", id="sql-open-quote"),
    pytest.param(sql_task("t", "SELECT 1; COMMIT;"), "Q403", id="sql-commit"),
    pytest.param(sql_task("t", "SELECT 1; VACUUM canary;"), "Q404", id="sql-vacuum-not-alone"),
    pytest.param(
        sql_task("t", "VACUUM canary;", schedule="@startup"), "Q406", id="sql-vacuum-at-startup"
    ),
    pytest.param(sql_task("t", "DO $$ BEGIN DROP TABLE canary; END $$;"), "Q407", id="sql-do"),
    pytest.param(app_task("t", "Foo.#{System.halt}"), "S204", id="worker-interpolation"),
    pytest.param(app_task("t", "Foo\n"), "S204", id="worker-newline"),
    pytest.param(app_task("t", "foo"), "S204", id="worker-lowercase"),
    pytest.param(app_task("t", "Foo", queue="Nil"), "S204", id="queue-uppercase"),
    pytest.param(app_task("t", "Foo", queue='a"b'), "S204", id="queue-quote"),
    pytest.param(app_task("t", "Foo", args={"x": float("inf")}), "S204", id="args-inf"),
    pytest.param(app_task("t", "Foo", args={"x": float("nan")}), "S204", id="args-nan"),
    pytest.param(app_task("t", "Foo", description="d\x85\x1b"), "S209", id="description-c1"),
    pytest.param(
        app_task("t", "Foo", description="safe \u202egnp.exe"), "S209", id="description-bidi"
    ),
    pytest.param(sql_task("t", "SELECT 'a\u2066b\u2069';"), "S209", id="sql-bidi-in-literal"),
    pytest.param(
        app_task("t", "Foo", timezone="Bad/\x1b[2J"),
        "C306",
        id="timezone-escape",
    ),
    pytest.param(
        {**app_task("t", "Foo"), "bogus\x1b[2J": 1},
        "Y101",  # YAML itself refuses the escape character
        id="unknown-key-escape",
    ),
    pytest.param(
        app_task("t", "Foo", schedule="\u202e* * * * *"),
        "C301",
        id="schedule-bidi",
    ),
]


@pytest.mark.parametrize(("task", "code"), REFUSED)
def test_refused_with_one_clear_line_per_error(
    tmp_path: Path, task: dict[str, Any], code: str
) -> None:
    root = make_project(tmp_path, [task])
    compiled = compile_specs(root)
    errors = [d for d in compiled.diagnostics if d.is_error]
    assert not compiled.ok and code in {d.code for d in errors}, compiled.diagnostics
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(["-C", str(root), "compile"])
    assert status == 1
    assert stdout.getvalue() == ""
    assert not (root / "generated").exists()
    lines = stderr.getvalue().splitlines()
    assert len(lines) == len(errors), lines
    for line in lines:
        assert _DIAGNOSTIC.match(line), line
        assert "Traceback" not in line and "internal error" not in line
        assert not _UNPRINTABLE.search(line), f"unprintable character in {line!r}"


# -- set 4: REPORT.md ---------------------------------------------------------------------------

REPORT_TEXT = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![i](https://x.example/i.png)",
    "| a | b |",
    "**strong** __strong__ *em* _em_",
    "`code` ``` fenced",
    "trailing backslash \\",
    "a  \t  b",
    "<!-- comment -->",
    "\\<escaped\\> \\\\",
    "1 < 2 > 0",
    "R&D & more",
]
REPORT_BLOCKS = [
    "# Fake heading",
    "## Another",
    "- fake list item",
    "+ fake list item",
    "1. ordered",
    "3) ordered",
    "---",
    "- - -",
    "~~~ fence that swallows the rest",
    "&lt;script&gt; shows as <script>",
    "&#60;b&#62; and &amp;",
]


def test_report_description_is_text(tmp_path: Path) -> None:
    tasks = [sql_task(f"r{i}", "SELECT 1;", description=d) for i, d in enumerate(REPORT_TEXT)]
    compiled = compile_ok(make_project(tmp_path, tasks))
    for task in tasks:
        check_report_description(compiled.files["REPORT.md"], task["name"], task["description"])


def test_report_multi_line_description_is_text_line_by_line(tmp_path: Path) -> None:
    """Several lines (a YAML block scalar) stay several lines, each one plain text."""
    description = "\n".join([*REPORT_TEXT, "", *REPORT_BLOCKS, "", "", "last"])
    task = sql_task("multi", "SELECT 1;", description=description)
    report = compile_ok(make_project(tmp_path, [task])).files["REPORT.md"]
    check_report_description(report, "multi", description)
    assert report.count("\\\n") == len(REPORT_TEXT) + len(REPORT_BLOCKS) - 2


@pytest.mark.parametrize("description", REPORT_BLOCKS)
def test_report_description_cannot_start_a_block(tmp_path: Path, description: str) -> None:
    compiled = compile_ok(
        make_project(tmp_path, [sql_task("r", "SELECT 1;", description=description)])
    )
    check_report_description(compiled.files["REPORT.md"], "r", description)


# -- hypothesis: random text in every field ---------------------------------------------------

TRICKY = [
    "'",
    "''",
    '"',
    "\\",
    "$",
    "$$",
    "$body$",
    "$body_1$",
    "$fn$",
    "#{",
    "}",
    "*/",
    "/*",
    "--",
    ";",
    "\n",
    "\t",
    "\r",
    "\0",
    "\x1b",
    "\x85",
    "\u2028",
    "\u202e",
    "\ufeff",
    "🙂",
    "é",
    "<",
    ">",
    "[",
    "]",
    "|",
    "`",
    "*",
    "_",
    "&amp;",
    "#",
    "%{",
    "end",
    ":nil",
    " ",
    "\u3000",
    "\u00a0",
    ":'v'",
    "\\gexec",
    "E'",
]
CHARS = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",))
TEXT = st.lists(st.one_of(st.text(CHARS, max_size=8), st.sampled_from(TRICKY)), max_size=12).map(
    "".join
)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fuzz_body(text: str) -> str:
    return f"INSERT INTO adv_log (task, note) VALUES ('fuzz', {literal(text)});\n"


def stored_literal(text: str) -> str:
    """What the literal holds once the body is normalised: exactly the text."""
    return text


def _controls(text: str, allowed: str = "") -> bool:
    """Characters cronspec refuses in descriptions and SQL: C0/C1 controls, line separators and
    invisible or bidirectional formatting characters (Trojan Source): the categories Cc, Cf,
    Zl, Zp, and the letters that render as nothing."""
    invisible = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0}
    return any(
        c not in allowed
        and (unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} or ord(c) in invisible)
        for c in text
    )


@dataclass
class Fuzzed:
    root: Path
    compiled: Compiled
    description: str
    arg: str
    text: str  # the SQL literal's contents


def compile_fuzzed(root: Path, description: str, arg: str, text: str) -> Fuzzed:
    """Compile the three texts; a refused field must be refused for a reason, and is then
    replaced with plain text (so the other fields are still checked)."""
    for _ in range(3):
        tasks = [
            sql_task(
                "fuzz-sql", fuzz_body(text), description=description, schedule=["@startup", NEVER]
            ),
            app_task(
                "fuzz-app",
                "Fuzz.Worker",
                description=description,
                schedule=["@startup", "0 3 * * *"],
                args={"s": arg, "k": {arg: [arg]}},
            ),
        ]
        compiled = compile_specs(make_project(root, tasks))
        errors = [d for d in compiled.diagnostics if d.is_error]
        if not errors:
            return Fuzzed(root, compiled, description, arg, text)
        fields = set()
        for error in errors:
            line = spec_text(tasks[0] if "fuzz-sql" in error.span.path else tasks[1])
            key = line.split("\n")[error.span.line - 1].split(":")[0] if error.span.line else ""
            fields.add(key)
        assert fields <= {"description", "sql"}, errors
        if "description" in fields:
            assert _controls(description, "\t\n") or not 1 <= len(description) <= 500, (
                description,
                errors,
            )
            description = "d"
        if "sql" in fields:
            assert _controls(text, "\t\n"), (text, errors)
            text = "x"
    raise AssertionError("plain text refused")


def check_fuzzed(fuzzed: Fuzzed, oban: Oban) -> None:
    compiled, plan = fuzzed.compiled, fuzzed.compiled.plan
    assert plan is not None
    (procedure,) = plan.procedures
    assert procedure.body == normalized(fuzz_body(fuzzed.text))
    write_crontab(fuzzed.root, compiled.files)
    booted = check_crontab(oban, fuzzed.root, plan)
    args = {"s": fuzzed.arg, "k": {fuzzed.arg: [fuzzed.arg]}}
    for job in [*booted.startup, *booted.cron]:
        assert same(job.args, args), (job.args, args)
    for name in ("fuzz-app", "fuzz-sql"):
        check_report_description(compiled.files["REPORT.md"], name, fuzzed.description)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cronspec-fuzz-") as folder:
        yield Path(folder)


@pytest.mark.elixir
@settings(max_examples=PURE_EXAMPLES, deadline=None)
# no U+0000 in args: Oban cannot insert it (test_oban_cannot_store_nul_in_args)
@given(description=TEXT, arg=TEXT.map(lambda t: t.replace("\0", "")), text=TEXT)
def test_fuzz_text_means_what_it_says(oban: Oban, description: str, arg: str, text: str) -> None:
    with scratch() as root:
        check_fuzzed(compile_fuzzed(root, description, arg, text), oban)


@pytest.mark.db
@pytest.mark.elixir
@settings(
    max_examples=DB_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(description=TEXT, text=TEXT)
def test_fuzz_sql_literal_applies_exactly(
    db: str, psql: Callable[..., Any], description: str, text: str
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS canary (id int PRIMARY KEY, note text NOT NULL);"
            "INSERT INTO canary VALUES (1, 'alive') ON CONFLICT DO NOTHING;"
            "CREATE TABLE IF NOT EXISTS adv_log (id serial PRIMARY KEY, task text "
            "NOT NULL, note text); TRUNCATE adv_log;"
        )
    with scratch() as root:
        fuzzed = compile_fuzzed(root, description, "a", text)
        (root / "pg_cron.sql").write_text(fuzzed.compiled.files["pg_cron.sql"], encoding="utf-8")
        apply(psql, root)
        state = db_state(db)
    assert state.canary == [(1, "alive")]
    assert state.procedures == {"fuzz-sql": normalized(fuzz_body(fuzzed.text))}
    assert state.jobs == {("fuzz-sql", NEVER, call("fuzz-sql"), True)}
    assert state.log == [("fuzz", stored_literal(fuzzed.text))]
