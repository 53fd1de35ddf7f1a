"""Bad input gets one clear line `path:line:col: error[CODE]: message`, exit 1, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.common import APP_TASK, SQL_TASK

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]

# (spec file text, expected diagnostic line) — every case is a whole file named x.yaml.
CASES: list[tuple[str, str | bytes, str]] = [
    (
        "duplicate key",
        "name: x\nname: x\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: SELECT 1\n",
        "specs/x.yaml:2:1: error[Y102]: duplicate key `name` (first at line 1); "
        "YAML would silently keep the last one",
    ),
    (
        "alias",
        "name: x\ndescription: &d hello\nkind: sql\nschedule: '@daily'\nsql: *d\n",
        "specs/x.yaml:2:14: error[Y103]: YAML anchors and aliases are not allowed in specs",
    ),
    (
        "unquoted cron",
        "name: x\ndescription: d\nkind: sql\nschedule: */5 * * * *\nsql: SELECT 1\n",
        "specs/x.yaml:4:11: error[Y112]: a value starting with `*` is read by YAML as an alias; "
        'quote the cron expression, e.g. schedule: "*/5 * * * *"',
    ),
    (
        "sexagesimal",
        "name: x\ndescription: d\nkind: sql\nschedule: 12:30\nsql: SELECT 1\n",
        "specs/x.yaml:4:11: error[S203]: `schedule` must be a string or a list of strings; "
        "YAML read `12:30` as an integer (750): quote it",
    ),
    (
        "yaml 1.1 boolean",
        "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: SELECT 1\nenabled: on\n",
        "specs/x.yaml:6:10: error[S203]: `enabled` must be true or false; `on` is YAML 1.1's "
        "word for true, which YAML 1.2 reads as text, so cronspec takes neither: write "
        "`enabled: true`",
    ),
    (
        "unknown key",
        "name: x\ndescription: d\nkind: sql\nschedul: '@daily'\nsql: SELECT 1\n",
        "specs/x.yaml:4:1: error[S202]: unknown key `schedul`; did you mean `schedule`?",
    ),
    (
        "missing key",
        "name: x\ndescription: d\nschedule: '@daily'\nsql: SELECT 1\n",
        "specs/x.yaml:1:1: error[S201]: missing required key `kind`: `sql`: the work is a "
        "PostgreSQL body (`sql`). `app`: the work is an application worker (`worker`).",
    ),
    (
        "empty",
        "",
        "specs/x.yaml: error[Y104]: file is empty; a spec needs at least name, "
        "description, kind and schedule",
    ),
    (
        "two documents",
        "name: x\n---\nname: y\n",
        "specs/x.yaml:2:1: error[Y105]: file holds more than one YAML document; one task per file",
    ),
    (
        "not utf-8",
        b"name: x\ndescription: caf\xe9\n",
        "specs/x.yaml:2:17: error[Y106]: invalid UTF-8 byte 0xe9; specs must be UTF-8",
    ),
    (
        "bom",
        b"\xef\xbb\xbfname: x\n",
        "specs/x.yaml:1:1: error[Y107]: file starts with a byte-order mark; save it as UTF-8 "
        "without BOM",
    ),
    (
        "nul",
        b"name: x\ndesc\x00\n",
        "specs/x.yaml:2:5: error[Y108]: file contains a NUL byte; specs are text",
    ),
    (
        "too large",
        b"# " + b"x" * 300_000 + b"\n",
        "specs/x.yaml: error[Y109]: file is 300003 bytes, over the 262144-byte limit for one spec",
    ),
    (
        "deep",
        "name: x\ndescription: d\nargs: " + "[" * 40 + "]" * 40 + "\n",
        "specs/x.yaml:3:23: error[Y110]: nesting deeper than 16 levels",
    ),
    (
        "list at top",
        "- a\n- b\n",
        "specs/x.yaml:1:1: error[Y111]: a spec must be a YAML mapping of keys to values",
    ),
    (
        "stem differs",
        SQL_TASK.format(name="y", schedule="@daily"),
        "specs/x.yaml:1:7: error[S205]: `name: y` differs from the file name `x`; they must be "
        "equal (one task per file)",
    ),
    (
        "bad name",
        SQL_TASK.format(name="X_Y", schedule="@daily"),
        "specs/x.yaml:1:7: error[S204]: `name` must be lowercase letters, digits, `-` and `_`, "
        "starting with a letter or digit",
    ),
    (
        "invisible character in a multi-line description, where it is",
        "name: x\ndescription: |\n  one\n  tw\u00adoo\nkind: sql\nschedule: '@daily'\n"
        "sql: SELECT 1\n",
        "specs/x.yaml:4:5: error[S209]: `description` contains an invisible or control character "
        "(U+00AD SOFT HYPHEN); remove it",
    ),
    (
        "control character",
        'name: x\ndescription: "bell\\a"\nkind: sql\nschedule: "@daily"\nsql: SELECT 1\n',
        "specs/x.yaml:2:19: error[S209]: `description` contains an invisible or control "
        "character (U+0007); remove it",
    ),
    (
        "sql without body",
        "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\n",
        "specs/x.yaml:3:7: error[S208]: `kind: sql` needs a `sql:` body",
    ),
    (
        "app without worker",
        "name: x\ndescription: d\nkind: app\nschedule: '@daily'\nneeds: [ml]\n",
        "specs/x.yaml:3:7: error[S208]: `kind: app` needs `worker:` (the Oban worker module)",
    ),
    (
        "sql field on app",
        APP_TASK.format(name="x", schedule="@daily") + "sql: SELECT 1\n",
        "specs/x.yaml:7:1: error[S207]: `sql` applies to `kind: sql` only",
    ),
    (
        "queue on sql",
        SQL_TASK.format(name="x", schedule="@daily") + "queue: q\n",
        "specs/x.yaml:7:1: error[S207]: `queue` applies to tasks run on Oban; a SQL task has no "
        "Oban job options",
    ),
    (
        "bad need",
        APP_TASK.format(name="x", schedule="@daily").replace("[ml]", "[gpu]"),
        "specs/x.yaml:6:9: error[S204]: `needs` input should be 'ml', 'file_io', 'shell', "
        "'network', 'app_state', 'external_tool' or 'app_validation'",
    ),
    (
        "unknown zone",
        SQL_TASK.format(name="x", schedule="@daily") + "timezone: Mars/Olympus\n",
        "specs/x.yaml:7:11: error[C306]: unknown time zone `Mars/Olympus`; use an IANA name such "
        "as `UTC` or `Europe/Berlin`",
    ),
    (
        "six fields",
        SQL_TASK.format(name="x", schedule="*/10 * * * * *"),
        "specs/x.yaml:4:12: error[C301]: 6 fields: cron has no seconds field here; pg_cron "
        "silently ignores the 6th field (`*/10 * * * * *` would run every 10 minutes) and Oban "
        "rejects it; use 5 fields, or `N seconds` on pg_cron 1.5+",
    ),
    (
        "out of range, column inside the string",
        SQL_TASK.format(name="x", schedule="0 24 * * *"),
        "specs/x.yaml:4:14: error[C302]: hour value 24 is out of range 0-23",
    ),
    (
        "duplicate schedule",
        "name: x\ndescription: d\nkind: sql\nschedule: ['@daily', '0 0 * * *']\nsql: SELECT 1\n",
        "specs/x.yaml:4:23: error[C308]: `0 0 * * *` repeats `@daily`, which means the same",
    ),
    (
        "sql parse error maps into the block scalar",
        "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: |\n  SELECT 1;\n"
        "  UPDATE t SET a = (1;\n",
        'specs/x.yaml:7:22: error[Q401]: SQL does not parse: syntax error at or near ";"',
    ),
    (
        "transaction control",
        "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: |\n  SELECT 1;\n  COMMIT;\n",
        "specs/x.yaml:7:3: error[Q403]: transaction control (COMMIT) is not allowed: each job "
        "runs in its own transaction",
    ),
    (
        "vacuum with another statement",
        "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: |\n  SELECT 1;\n"
        "  VACUUM t;\n",
        "specs/x.yaml:7:3: error[Q404]: VACUUM cannot run inside a transaction block or "
        "procedure, so it must be the task's only statement; move it to a task of its own",
    ),
    (
        "vacuum at startup",
        "name: x\ndescription: d\nkind: sql\nschedule: ['@daily', '@startup']\nsql: VACUUM t\n",
        "specs/x.yaml:4:23: error[Q406]: @startup runs inside the migration's transaction, where "
        "VACUUM cannot run; schedule it with cron fields instead",
    ),
    (
        "pg_cron executor on an app-bound task",
        APP_TASK.format(name="x", schedule="@daily") + "executor: pg_cron\n",
        "specs/x.yaml:7:1: error[X501]: `executor: pg_cron` but the task is app-bound: kind: "
        "app: the work is the application worker My.Worker; needs ml: runs a machine-learning "
        "model (embeddings, inference)",
    ),
    (
        "outside the database with no worker",
        "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\nsql: |\n"
        "  COPY t TO PROGRAM 'gzip > /tmp/t.gz';\n",
        "specs/x.yaml:3:1: error[X503]: this task runs on Oban (reaches outside the database: "
        "COPY ... PROGRAM runs a program on the database server (SQL line 1)), so it needs "
        "`worker:`, the Oban worker module that runs it (e.g. `worker: MyApp.Workers.Export`); "
        "or, to run its SQL on pg_cron on purpose, add `reaches: [server_programs]`",
    ),
    (
        "day rule must be stated",
        SQL_TASK.format(name="x", schedule="0 0 1,15 * MON"),
        "specs/x.yaml:4:16: error[C305]: both day-of-month (`1,15`) and day-of-week (`MON`) are "
        "restricted: pg_cron fires when either matches, Oban only when both do; say which you "
        "mean with `day_match: any` or `day_match: all`",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_clear_line_and_nothing_written(
    project: Project, cli: Cli, text: str | bytes, expected: str
) -> None:
    root = project({})
    path = root / "specs" / "x.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    code, out, err = cli(root, "compile")
    assert code == 1
    assert out == ""
    assert expected in err.splitlines(), err
    assert "Traceback" not in err
    assert not (root / "generated").exists()


def test_every_error_of_a_run_sorted_by_file_and_line(project: Project, cli: Cli) -> None:
    root = project(
        {
            "b.yaml": "name: b\ndescription: d\nkind: sql\nschedule: '61 * * * *'\nsql: SELECT 1\n",
            "a.yaml": "name: a\nname: a\n",
            "c.yaml": "name: c\ndescription: d\nkind: app\nschedule: '@dialy'\nworker: W\n",
        }
    )
    code, _, err = cli(root, "compile")
    assert code == 1
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "specs/a.yaml",
        "specs/b.yaml",
        "specs/c.yaml",
    ]
    assert "error[C301]: unknown nickname `@dialy`" in lines[2]


def test_a_warning_does_not_fail_the_run(project: Project, cli: Cli) -> None:
    root = project(
        {
            "x.yaml": SQL_TASK.format(name="x", schedule="@daily") + "executor: oban\n"
            "worker: My.SqlWorker\n"
        }
    )
    code, _, err = cli(root, "compile")
    assert code == 0
    assert (
        "specs/x.yaml:7:1: warning[X502]: `executor: oban` on a SQL-eligible task: it could "
        "move to pg_cron (`executor: auto`)"
    ) in err


def test_github_format_escapes_workflow_commands(project: Project, cli: Cli) -> None:
    root = project(
        {"x.yaml": "name: x\ndescription: d\nkind: sql\nschedule: '@dialy'\nsql: SELECT 1\n"}
    )
    code, out, err = cli(root, "compile", "--format", "github")
    assert code == 1 and err == ""
    assert out == (
        "::error file=specs/x.yaml,line=4,col=12,endLine=4,endColumn=18,title=cronspec C301::"
        "unknown nickname `@dialy`; known: @annually, @daily, @hourly, @midnight, @monthly, "
        "@weekly, @yearly, @reboot, @startup\n"
    )


def test_json_format(project: Project, cli: Cli) -> None:
    import json

    root = project({"x.yaml": "name: x\n"})
    code, out, _ = cli(root, "compile", "--format", "json")
    assert code == 1
    diags = json.loads(out)["diagnostics"]
    assert {d["code"] for d in diags} == {"S201"}
    assert all(d["path"] == "specs/x.yaml" and d["severity"] == "error" for d in diags)


def test_github_escaping_of_properties_and_data() -> None:
    from cronspec.diagnostics import Span, error
    from cronspec.diagnostics.formats import format_github

    line = format_github([error("S204", "100% sure,\nnot: really", Span.at("a,b:c.yaml", 2, 3, 4))])
    assert line == (
        "::error file=a%2Cb%3Ac.yaml,line=2,col=3,endLine=2,endColumn=7,title=cronspec S204::"
        "100%25 sure, not: really\n"
    )
    whole_file = format_github([error("S210", "none", Span("specs"))])
    assert whole_file == "::error file=specs,title=cronspec S210::none\n"


def test_errors_page_is_generated_from_the_registry() -> None:
    from support.common import ROOT

    from cronspec.diagnostics.codes import errors_markdown

    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert page == errors_markdown(), "run: python -m cronspec.diagnostics > docs/errors.md"


def test_an_unregistered_code_is_a_bug() -> None:
    from cronspec.diagnostics import Span, error, warning

    with pytest.raises(AssertionError, match="Z999 is not a registered error code"):
        error("Z999", "m", Span("x"))
    with pytest.raises(AssertionError, match="S201 is not a registered warning code"):
        warning("S201", "m", Span("x"))
    with pytest.raises(AssertionError, match="X502 is not a registered error code"):
        error("X502", "m", Span("x"))


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            'timezone = "UTC"\n[pg_cron]\nversion = "1.3"\n',
            "cronspec.toml:3:1: error[T602]: `pg_cron.version`: Input should be",
        ),
        (
            '[pg_cron]\nkeep_history = "7 days\' ; DROP TABLE t; --"\n',
            "cronspec.toml:2:1: error[T602]: `pg_cron.keep_history`: String should match pattern",
        ),
    ],
    ids=["version", "keep_history"],
)
def test_bad_config_points_at_its_line(
    project: Project, cli: Cli, toml: str, expected: str
) -> None:
    root = project({"x.yaml": SQL_TASK.format(name="x", schedule="@daily")}, toml=toml)
    code, _, err = cli(root, "compile")
    assert code == 1
    assert err.startswith(expected)
    assert not (root / "generated").exists()


@pytest.mark.parametrize(
    ("text", "code", "start", "end"),
    [
        # the key, for an unknown key
        (
            "name: x\ndescription: d\nkind: sql\nschedul: '@daily'\nsql: SELECT 1\n",
            "S202",
            (4, 1),
            (4, 8),
        ),
        # the value YAML misread
        (
            "name: x\ndescription: d\nkind: sql\nschedule: 12:30\nsql: SELECT 1\n",
            "S203",
            (4, 11),
            (4, 16),
        ),
        # the refused part of a schedule, inside the quotes
        (
            "name: x\ndescription: d\nkind: sql\nschedule: '0 24 * * *'\nsql: SELECT 1\n",
            "C302",
            (4, 14),
            (4, 16),
        ),
        # an unquoted cron expression, to the end of its line
        (
            "name: x\ndescription: d\nkind: sql\nschedule: */5 * * * *\nsql: SELECT 1\n",
            "Y112",
            (4, 11),
            (4, 22),
        ),
        # the statement, inside a literal block
        (
            "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\n"
            "sql: |\n  SELECT 1;\n  COMMIT;\n",
            "Q403",
            (7, 3),
            (7, 9),
        ),
        # the offending token of a parse error
        (
            "name: x\ndescription: d\nkind: sql\nschedule: '@daily'\n"
            "sql: |\n  UPDATE t SET a = (1;\n",
            "Q401",
            (6, 22),
            (6, 23),
        ),
    ],
    ids=["key", "value", "schedule", "unquoted-cron", "statement", "sql-token"],
)
def test_json_and_github_formats_carry_where_a_problem_ends(
    project: Project,
    cli: Cli,
    text: str,
    code: str,
    start: tuple[int, int],
    end: tuple[int, int],
) -> None:
    import json

    root = project({"x.yaml": text})
    _, out, _ = cli(root, "compile", "--format", "json")
    (diag,) = [d for d in json.loads(out)["diagnostics"] if d["code"] == code]
    assert (diag["line"], diag["column"], diag["endLine"], diag["endColumn"]) == (*start, *end)
    _, out, _ = cli(root, "compile", "--format", "github")
    assert f"line={start[0]},col={start[1]},endLine={end[0]},endColumn={end[1]}," in out


def test_a_span_has_an_end_unless_it_is_the_whole_file() -> None:
    from cronspec.diagnostics import Origin, Span

    assert str(Span("specs")) == "specs" and Span("specs").end_line == 0
    span = Span.at("a.yaml", 2, 3, 4)
    assert (str(span), span.end_line, span.end_col) == ("a.yaml:2:3", 2, 7)
    with pytest.raises(AssertionError, match="has no end"):
        Span("a.yaml", 2, 3)
    with pytest.raises(AssertionError, match="ends before it starts"):
        Span("a.yaml", 2, 3, 1, 9)
    # positions inside a text, placed in its file: exactly, or at the value as a whole
    block = Origin("a.yaml", 6, 3)
    assert block.span(2, 5, 2, 9) == Span("a.yaml", 7, 7, 7, 11)
    whole = Span.at("a.yaml", 5, 6, 10)
    assert Origin("a.yaml", 5, 6, exact=False, whole=whole).span(2, 5, 2, 9) == whole
