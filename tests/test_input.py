"""Input that crashed cronspec (exit 2) or misled its user, each now one clear line and exit 1,
or output that says what it means: YAML tags, huge integers, cronspec.toml at the edges, file
names with control characters, positions in `|2` blocks, invisible characters, empty zones,
errors in waves, raw parser messages, and multi-line descriptions (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlglot
from support.common import APP_TASK, SQL_TASK

from cronspec.api import compile_specs

Project = Callable[..., Path]
Cli = Callable[..., tuple[int, str, str]]
SQL = SQL_TASK.format(name="x", schedule="@daily")
APP = APP_TASK.format(name="x", schedule="@daily")
BIG = "1" * 5000


def _one_line(cli: Cli, root: Path, *args: str) -> str:
    code, out, err = cli(root, "compile", *args)
    assert code == 1, err
    assert out == "" and not (root / "generated").exists()
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!int foo", "YAML cannot read `foo` as an integer; remove the tag `!!int`"),
        ("!!float foo", "YAML cannot read `foo` as a number; remove the tag `!!float`"),
        ("!!timestamp foo", "YAML cannot read `foo` as a date; remove the tag `!!timestamp`"),
        ("2024-13-45", "YAML cannot read `2024-13-45` as a date (month must be in 1..12)"),
        ("!secret foo", "unknown YAML tag `!secret`"),
        ("!!set {a, b}", "the YAML tag `!!set` is not allowed in specs"),
    ],
)
def test_a_value_that_does_not_fit_its_tag(
    project: Project, cli: Cli, value: str, expected: str
) -> None:
    line = _one_line(cli, project({"x.yaml": APP + f"priority: {value}\n"}))
    assert line.startswith(f"specs/x.yaml:7:11: error[Y117]: {expected}")


@pytest.mark.parametrize(
    ("where", "text", "expected"),
    [
        ("field", APP + f"priority: {BIG}\n", "specs/x.yaml:7:11: error[Y118]"),
        ("args", APP + f"args:\n  n: {BIG}\n", "specs/x.yaml:8:6: error[Y118]"),
        ("hex args", APP + f"args:\n  n: 0x{'f' * 3600}\n", "specs/x.yaml:8:6: error[Y118]"),
        ("sexagesimal", SQL.replace('"@daily"', "1" + ":00" * 2500), "specs/x.yaml:4:11: error"),
        ("cron field", SQL.replace("@daily", f"{BIG} * * * *"), "specs/x.yaml:4:12: error[C302]"),
        ("step", SQL.replace("@daily", f"*/{BIG} * * * *"), "specs/x.yaml:4:14: error[C302]"),
        ("seconds", SQL.replace("@daily", f"{BIG} seconds"), "specs/x.yaml:4:12: error[C302]"),
    ],
)
def test_a_huge_integer_is_one_line(
    project: Project, cli: Cli, where: str, text: str, expected: str
) -> None:
    assert _one_line(cli, project({"x.yaml": text})).startswith(expected)


def test_a_huge_next_runs_in_the_config(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": SQL}, toml=f"[report]\nnext_runs = {BIG}\n")
    assert _one_line(cli, root) == (
        "cronspec.toml:2:13: error[T601]: invalid TOML: a number of more than 4300 digits"
    )


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Mars/Base", "`timezone`: unknown time zone `Mars/Base`"),
        ("", "`timezone` is empty"),
        ("../etc/passwd", "`timezone`: unknown time zone `../etc/passwd`"),
    ],
)
def test_a_bad_project_zone_when_every_task_has_its_own(
    project: Project, cli: Cli, zone: str, expected: str
) -> None:
    root = project({"x.yaml": SQL + "timezone: UTC\n"}, toml=f'timezone = "{zone}"\n')
    assert _one_line(cli, root) == (
        f"cronspec.toml:1:1: error[T602]: {expected}; use an IANA name such as `UTC` or "
        "`Europe/Berlin`"
    )


@pytest.mark.parametrize("value", ["garbage", "2026-01-01T00:00:00+02:00", ""])
def test_a_bad_report_from(project: Project, cli: Cli, value: str) -> None:
    root = project({"x.yaml": SQL}, toml=f'[report]\nfrom = "{value}"\n')
    assert _one_line(cli, root).startswith(
        f"cronspec.toml:2:1: error[T602]: `report.from`: `{value}` is not a local date-time"
    )


@pytest.mark.parametrize(
    "start", ["9999-12-31T00:00:00", "9999-12-31T23:59:00", "0001-01-01T00:00:00"]
)
def test_report_from_at_the_calendars_edge(project: Project, cli: Cli, start: str) -> None:
    """Runs stop where the calendar does: fewer runs listed, no OverflowError."""
    root = project({"x.yaml": SQL}, toml=f'timezone = "Asia/Tokyo"\n[report]\nfrom = "{start}"\n')
    code, _, err = cli(root, "compile")
    assert code == 0, err
    report = (root / "generated" / "REPORT.md").read_text()
    assert f"after {start}" in report or "next runs" not in report


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:00:00", "9999-12-31T23:59:59+00:00", "0001-01-01"]
)
def test_explain_from_the_calendars_edge(project: Project, cli: Cli, start: str) -> None:
    root = project({"x.yaml": SQL + "timezone: Pacific/Kiritimati\n"})
    code, out, err = cli(root, "explain", "--format", "json", "--from", start)
    assert code == 0, err
    (task,) = json.loads(out)["tasks"]
    assert len(task["schedules"][0]["next_runs"]) <= 5


def test_deeply_nested_toml(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": SQL}, toml="a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert _one_line(cli, root) == (
        "cronspec.toml:1:104: error[T601]: invalid TOML: nested too deeply to read"
    )


def test_deeply_nested_yaml(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": APP + "args: " + "[" * 50_000 + "]" * 50_000 + "\n"})
    assert _one_line(cli, root).startswith("specs/x.yaml:7:")
    assert "error[Y110]: nesting deeper than 16 levels" in _one_line(cli, root)


def test_output_naming_a_file_points_at_the_setting(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": SQL}, toml='specs = "specs"\noutput = "specs/x.yaml"\n')
    assert _one_line(cli, root) == (
        "cronspec.toml:2:1: error[T603]: `output` names `specs/x.yaml`, which is a file; point "
        "it at a folder, or move the file away"
    )


def test_a_nul_in_a_folder_setting(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": SQL}, toml='output = "gen\\u0000erated"\n')
    assert _one_line(cli, root) == (
        "cronspec.toml:1:1: error[T602]: `output`: `gen\\u0000erated` is not a folder name "
        "(empty, or a NUL in it)"
    )


NAMES = ["x\nforged.yaml:1:1: error[Y101]: forged", "x\x1b[2J\x1b[31mred", "x\u202egnp.yaml"]


@pytest.mark.parametrize("name", NAMES, ids=["newline", "terminal escapes", "bidi"])
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_file_name_cannot_forge_or_escape(
    project: Project, cli: Cli, name: str, fmt: str
) -> None:
    root = project({f"{name}.yaml": SQL})
    code, out, err = cli(root, "compile", "--format", fmt)
    printed = err if fmt == "text" else out
    assert code == 1
    assert printed.isascii() and "\x1b" not in printed and "\u202e" not in printed
    lines = printed.splitlines()
    if fmt == "json":
        (diag,) = json.loads(printed)["diagnostics"]
        assert diag["path"] == f"specs/{name}.yaml"  # JSON keeps the real name, escaped
    else:
        assert len(lines) == 1, printed
        assert "\\u" in lines[0]


def test_a_specs_folder_with_a_newline_keeps_the_report_whole(project: Project) -> None:
    root = project({})
    folder = root / "my\nspecs"
    folder.mkdir()
    (folder / "x.yaml").write_text(SQL)
    (root / "cronspec.toml").write_text('specs = "my\\nspecs"\n')
    compiled = compile_specs(root)
    assert compiled.ok, compiled.diagnostics
    report = compiled.files["REPORT.md"]
    assert "- Spec: `my\\u000aspecs/x.yaml`" in report
    assert "\nspecs/x.yaml" not in report


def test_positions_inside_an_indentation_indicator_block(project: Project, cli: Cli) -> None:
    text = SQL.replace("sql: |\n  UPDATE t SET a = a + 1;\n", "sql: |2\n    SELECT 1;\n  COMMIT;\n")
    line = _one_line(cli, project({"x.yaml": text}))
    assert line.startswith("specs/x.yaml:7:3: error[Q403]: transaction control (COMMIT)")


@pytest.mark.parametrize(
    ("char", "name"),
    [("\u200d", "ZERO WIDTH JOINER"), ("\u00ad", "SOFT HYPHEN"), ("\u2060", "WORD JOINER")],
)
@pytest.mark.parametrize("key", ["description", "sql"])
def test_invisible_characters_are_refused(
    project: Project, cli: Cli, char: str, name: str, key: str
) -> None:
    text = (
        SQL.replace("A SQL task.", f"A SQL{char} task.")
        if key == "description"
        else (SQL.replace("a + 1", f"a + 1 -- {char}"))
    )
    line = _one_line(cli, project({"x.yaml": text}))
    assert f"error[S209]: `{key}` contains an invisible or control character" in line
    assert f"(U+{ord(char):04X} {name})" in line


def test_an_empty_timezone_is_not_the_projects(project: Project, cli: Cli) -> None:
    line = _one_line(cli, project({"x.yaml": SQL + 'timezone: ""\n'}))
    assert line == (
        "specs/x.yaml:7:11: error[C306]: `timezone` is empty; write an IANA name such as "
        "`Europe/Berlin`, or remove the key to use the project's zone (`UTC`)"
    )


def test_every_error_in_one_pass(project: Project, cli: Cli) -> None:
    """A YAML error in one spec does not hide another's C303, nor a schema error a spec's own
    schedule error."""
    root = project(
        {
            "a.yaml": "name: [a\n",
            "b.yaml": SQL_TASK.format(name="b", schedule="30 seconds"),
            "c.yaml": SQL_TASK.format(name="c", schedule="0 24 * * *") + "priority: high\n",
        }
    )
    code, _, err = cli(root, "compile")
    assert code == 1
    assert [line.split(": ")[1] for line in err.splitlines()] == [
        "error[Y101]",
        "error[C303]",
        "error[C302]",
        "error[S203]",
    ]


def test_explain_shows_the_valid_tasks_and_lists_the_errors(project: Project, cli: Cli) -> None:
    root = project(
        {
            "a.yaml": "name: [a\n",
            "b.yaml": SQL_TASK.format(name="b", schedule="0 3 * * *"),
            "c.yaml": SQL_TASK.format(name="c", schedule="30 seconds"),
        }
    )
    code, out, err = cli(root, "explain", "--from", "2026-01-01T00:00:00")
    assert code == 1
    assert out.splitlines()[0] == "b: sql-eligible -> pg_cron"
    assert "c:" not in out
    assert err.splitlines()[0].startswith("specs/a.yaml:2:1: error[Y101]")
    assert err.splitlines()[1].startswith("specs/c.yaml:4:12: error[C303]")
    assert err.splitlines()[-1] == ("cronspec: explained 1 valid task; the specs above have errors")
    code, out, _ = cli(root, "explain", "--format", "json")
    document = json.loads(out)
    assert code == 1 and [t["name"] for t in document["tasks"]] == ["b"]
    assert [d["code"] for d in document["diagnostics"]] == ["Y101", "C303"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "schedule: @daily",
            "4:11: error[Y119]: `@` cannot start an unquoted YAML value; quote it: "
            'schedule: "@daily"',
        ),
        (
            "description: Backup: nightly",
            "2:14: error[Y119]: `: ` inside an unquoted value reads as a new key; quote it: "
            'description: "Backup: nightly"',
        ),
        (
            "description: %50 sampled",
            "2:14: error[Y119]: `%` cannot start an unquoted YAML value; quote it: "
            'description: "%50 sampled"',
        ),
        (
            "description: *important* refresh",
            "2:14: error[Y119]: an unquoted value starting with `*` is read by YAML as an alias; "
            'quote it: description: "*important* refresh"',
        ),
    ],
)
def test_a_value_that_needs_quotes_says_so(
    project: Project, cli: Cli, line: str, expected: str
) -> None:
    key = line.split(":")[0]
    text = "\n".join(line if row.startswith(f"{key}:") else row for row in SQL.split("\n"))
    assert _one_line(cli, project({"x.yaml": text})) == f"specs/x.yaml:{expected}"


def test_a_multi_line_description_is_kept_and_rendered_safely(project: Project) -> None:
    description = (
        "description: |\n  Refresh totals.\n  # not a heading\n  */ -- not SQL\n"
        "  | not | a table |\n"
    )
    text = SQL.replace("description: A SQL task.\n", description)
    compiled = compile_specs(project({"x.yaml": text}))
    assert compiled.ok, compiled.diagnostics
    report = compiled.files["REPORT.md"]
    assert (
        "Refresh totals.\\\n\\# not a heading\\\n\\*/ -- not SQL\\\n\\| not \\| a table \\|\n"
        in (report)
    )
    assert compiled.plan is not None
    statements = sqlglot.parse(compiled.files["pg_cron.sql"], read="postgres")
    assert all("not SQL" not in (s.sql() if s else "") for s in statements)
    (placement,) = compiled.placements
    assert placement.classified.task.description == (
        "Refresh totals.\n# not a heading\n*/ -- not SQL\n| not | a table |"
    )


def test_explain_says_which_instant_it_counts_from(project: Project, cli: Cli) -> None:
    root = project({"x.yaml": SQL_TASK.format(name="x", schedule="0 3 * * *")})
    _, out, _ = cli(root, "explain", "--from", "2026-05-01T00:00:00")
    assert "    next (UTC, after 2026-05-01 00:00, --from): 2026-05-01T03:00:00+00:00" in out
    _, out, _ = cli(root, "explain")
    assert ", now): " in out
    _, out, _ = cli(root, "explain", "--format", "json")
    (task,) = json.loads(out)["tasks"]
    assert task["counted_from"] == "now" and task["next_runs_after"]


def test_a_daylight_saving_change_within_a_year_is_noted(project: Project, cli: Cli) -> None:
    """The change is in March and October; the one run listed is in January."""
    spec = APP_TASK.format(name="x", schedule="30 2 * * *")
    root = project({"x.yaml": spec}, toml='timezone = "Europe/Berlin"\n[report]\nnext_runs = 1\n')
    code, _, err = cli(root, "compile")
    assert code == 0, err
    report = (root / "generated" / "REPORT.md").read_text()
    assert "next runs (Europe/Berlin, after 2026-01-01T00:00:00): 2026-01-01 02:30 Thu\n" in report
    assert (
        "    - daylight saving in the year after 2026-01-01T00:00:00: 2026-03-29 02:30 does not "
        "exist (clocks go forward): Oban's Cron plugin matches the local time once a minute and "
        "never sees it, so that run is skipped; 2026-10-25 02:30 happens twice (clocks go back)"
    ) in report
    _, out, _ = cli(root, "explain", "--count", "1", "--from", "2026-01-01T00:00:00")
    assert "    daylight saving within a year: 2026-03-29 02:30 does not exist" in out
    noon = project(
        {"x.yaml": APP_TASK.format(name="x", schedule="0 12 * * *")},
        toml='timezone = "Europe/Berlin"\n',
    )
    cli(noon, "compile")
    assert "daylight saving" not in (noon / "generated" / "REPORT.md").read_text()
