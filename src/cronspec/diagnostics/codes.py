"""THE registry of diagnostic codes: severity, title, an example, the fix, and the golden case
that shows it.

`docs/errors.md` is generated from this table (`python -m cronspec.diagnostics`) and a
test fails when the two differ. `error()` and `warning()` refuse a code that is not here, or
one registered with the other severity, so the table is also the list of what cronspec can say.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """What a diagnostic does to the run: an error fails it and writes nothing; a warning not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    """One stable code: what it means, an input that gets it, and how to fix that input."""

    code: str
    severity: Severity
    title: str
    example: str  # Markdown: an input that gets this code
    fix: str  # Markdown: what to change
    cases: tuple[str, ...] = ()  # golden cases (tests/cases/NAME) that show it

    @property
    def stage(self) -> str:
        """The stage that finds it, from the code's letter."""
        return STAGES[self.code[0]]


STAGES = {
    "Y": "reading YAML",
    "S": "the spec schema",
    "C": "schedules",
    "Q": "SQL bodies",
    "X": "the choice of executor",
    "T": "cronspec.toml",
    "R": "the week's schedule (REPORT.md)",
    "P": "run-time policies",
    "E": "query plans (`cronspec plan --explain`, on a live database)",
}

E, W = Severity.ERROR, Severity.WARNING

_TABLE = (
    Code("Y101", E, "invalid YAML syntax", "`name: [x`",
         "Fix the YAML at the position given.", ("yaml-bad", "bytes-bad")),
    Code("Y102", E, "duplicate key (YAML would keep the last one silently)", "`name: x` twice",
         "Keep one of the two keys.", ("yaml-bad",)),
    Code("Y103", E, "anchors, aliases and merge keys", "`sql: *d`, `<<: *base`",
         "Write the value out: each spec reads on its own.", ("yaml-bad",)),
    Code("Y104", E, "empty file", "(empty), or comments only",
         "Write a task (name, description, kind, schedule) or delete the file.", ("yaml-bad",)),
    Code("Y105", E, "several YAML documents", "`---` between two tasks",
         "One task per file: move the second document to a file of its own.", ("yaml-bad",)),
    Code("Y106", E, "not UTF-8", "a Latin-1 `é`", "Save the file as UTF-8.", ("bytes-bad",)),
    Code("Y107", E, "byte-order mark", "a BOM at the start",
         "Save the file as UTF-8 without BOM.", ("bytes-bad",)),
    Code("Y108", E, "NUL byte", "`\\0` in the file", "Remove the NUL byte; specs are text.",
         ("bytes-bad",)),
    Code("Y109", E, "file over 256 KiB", "a 300 kB spec",
         "Keep bulk data out of specs: a body that large belongs in a schema migration."),
    Code("Y110", E, "nesting deeper than 16 levels", "`args: [[[[...]]]]`",
         "Flatten the value.", ("yaml-bad",)),
    Code("Y111", E, "top level is not a mapping", "`- a`",
         "Write the task as `key: value` lines.", ("yaml-bad",)),
    Code("Y112", E, "unquoted cron expression", "`schedule: */5 * * * *`",
         'Quote it: `schedule: "*/5 * * * *"`.', ("yaml-bad",)),
    Code("Y113", E, "a key that is not a plain string", "`1: x`",
         "Use the spec's keys; quote a key YAML reads as a number, date or boolean.",
         ("yaml-bad",)),
    Code("Y114", E, "a specs entry that is not a readable file, or a specs folder that cannot be "
         "read", "a dangling or looping link, a folder or a fifo named `x.yaml`; no permission",
         "Make it a readable file, or delete or rename the entry: a spec that cannot be read "
         "would drop its task from the next plan.", ("reads-bad",)),
    Code("Y115", E, "a spec file named `.YAML`, `.Yml` or other capitals", "`specs/x.YAML`",
         "Rename it to end in lowercase `.yaml` or `.yml`.", ("reads-bad",)),
    Code("Y116", E, "more than 50,000 spec files", "50,001 files in `specs/`",
         "Split the project: each cronspec.toml names its own `specs` folder."),
    Code("Y117", E, "a YAML tag, or a value that does not fit the type YAML gives it",
         "`priority: !!int foo`, `!env X`, `day: 2024-13-45`",
         "Remove the tag and write the value plainly; quote a value meant as text.",
         ("yaml-values-bad",)),
    Code("Y118", E, "an integer of more than 4,300 digits", "`priority: 1111...1` (5,000 digits)",
         "Write a number of sensible size; quote it if it is text.", ("yaml-values-bad",)),
    Code("Y119", E, "an unquoted value that YAML reads as syntax",
         "`schedule: @daily`, `description: Backup: nightly`",
         'Quote the value, e.g. `schedule: "@daily"`: the message shows the quoted form.',
         ("yaml-quoting-bad",)),
    Code("S201", E, "missing required key", "no `kind:`",
         "Add the key; the message says what it holds.", ("schema-keys-bad",)),
    Code("S202", E, "unknown key, with a suggestion", "`schedul: ...`",
         "Fix the spelling; `cronspec schema` lists every key.", ("schema-keys-bad",)),
    Code("S203", E, "wrong YAML type, saying what YAML read", "`schedule: 12:30`",
         "Quote the value, or write the type the message asks for.", ("schema-keys-bad",)),
    Code("S204", E, "invalid value (pattern, range, allowed words)", "`needs: [gpu]`",
         "Use a value the message allows.", ("schema-values-bad", "args-nul-bad")),
    Code("S205", E, "`name` differs from the file's stem", "`name: y` in `x.yaml`",
         "Rename the file or the task: one task per file, named alike.", ("schema-kind-bad",)),
    Code("S206", E, "two files define the same task", "`x.yaml` and `x.yml`",
         "Delete or rename one of the two files.", ("tasks-duplicate-bad",)),
    Code("S207", E, "a key that does not apply to the task's kind", "`sql:` on `kind: app`",
         "Remove the key, or change `kind`.", ("schema-kind-bad",)),
    Code("S208", E, "a key the task's kind requires", "`kind: sql` without `sql:`",
         "Add `sql:` to a `kind: sql` task, `worker:` to a `kind: app` task.",
         ("schema-kind-bad",)),
    Code("S209", E, "control or invisible characters (zero-width, bidirectional, soft hyphen)",
         '`description: "a\\u200d"`', "Remove the character: what a reviewer reads must be what "
         "runs. Line breaks and tabs are fine.", ("schema-values-bad", "text-invisible-bad")),
    Code("S210", E, "no spec files", "an empty `specs/`",
         "Add specs (`cronspec init` writes two), or point `specs` in cronspec.toml at them.",
         ("no-specs-bad",)),
    Code("C301", E, "schedule syntax", "`@dialy`, `1#2 * * * *`, 6 fields",
         "Write 5 cron fields, a nickname, `N seconds`, `@reboot` or `@startup`; the message "
         "says how each executor would misread the rest.", ("schedule-syntax-bad",)),
    Code("C302", E, "out of range, reversed range, step too large", "`0 24 * * *`",
         "Use values in the field's range; write a range that wraps as two.",
         ("schedule-range-bad",)),
    Code("C303", E, "unsupported by the task's executor or version", "`30 seconds` on pg_cron 1.4",
         "Set `[pg_cron] version` to what the servers run, or move the task to the executor "
         "that has the syntax.", ("schedule-target-bad",)),
    Code("C304", E, "can never fire", "`0 0 31 2 *`",
         "Pick a day the months have; `$` is the last day on pg_cron 1.6+.",
         ("schedule-range-bad",)),
    Code("C305", E, "day-of-month and day-of-week both restricted: rule unstated, or not the "
         "executor's", "`0 0 1,15 * 1`",
         "Say `day_match: any` (either matches, pg_cron's rule) or `day_match: all` (both, "
         "Oban's rule), and run the task where that rule holds.",
         ("schedule-meaning-bad", "schedule-day-rule-bad")),
    Code("C306", E, "time zone problems", "`timezone: Mars/Olympus`; Berlin on pg_cron 1.4",
         "Use an IANA zone; each executor runs in one zone, and pg_cron 1.4 only in UTC "
         "(fixed offsets are shifted when the shift is exact).",
         ("schema-values-bad", "zones-pg14-bad", "zones-pg15-bad")),
    Code("C307", E, "job name over 63 bytes on pg_cron < 1.5, or names that merge",
         "a 62-character task with two schedules", "Shorten the task name.",
         ("job-names-pg14-bad",)),
    Code("C308", E, "the same schedule twice in a task", "`['@daily', '0 0 * * *']`",
         "Keep one of them.", ("schedule-meaning-bad",)),
    Code("C309", W, "`day_match` has no effect", "`day_match: any` with `0 0 * * 1`",
         "Remove `day_match`: it matters only when both day fields are restricted.",
         ("day-match-no-effect-warn",)),
    Code("Q401", E, "SQL that PostgreSQL's parser refuses, with its message",
         "`SELECT 'a' 'b'`: syntax error at or near \"'b'\"",
         "Fix the SQL at the position given.", ("sql-bad",)),
    Code("Q403", E, "transaction control in a body", "`COMMIT;`",
         "Remove it: each job runs in a transaction of its own.", ("sql-bad",)),
    Code("Q404", E, "a statement that refuses a transaction, with others or in a procedure",
         "`SELECT 1; VACUUM t;`, or `VACUUM t` with `run_as: procedure`",
         "Move the statement to a task of its own (and drop `run_as: procedure`).",
         ("sql-bad", "run-as-bad")),
    Code("Q405", E, "empty SQL body", '`sql: ";"`', "Write the statements.", ("sql-bad",)),
    Code("Q406", E, "`@startup` on a statement that refuses a transaction, or a lone CALL",
         "`VACUUM` or `CALL p()` with `@startup`", "Schedule it with cron fields instead.",
         ("sql-bad",)),
    Code("Q407", E, "`DO` blocks", "`DO $$ ... $$`",
         "Create a function in your schema migrations and call it.", ("sql-bad",)),
    Code("Q408", E, "a body too large or nested too deeply to analyse",
         "over 100,000 tokens", "Split the body, or move it into a function of your schema "
         "migrations.", ("sql-limits-bad",)),
    Code("Q409", E, "code cronspec cannot see into, like a DO block",
         "`CREATE FUNCTION f() ... LANGUAGE plpgsql`, `query_to_xml('...')`",
         "Create that code in your schema migrations and call it, or write it as LANGUAGE sql.",
         ("sql-opaque-bad",)),
    Code("Q410", E, "a body that changes how PostgreSQL reads SQL",
         "`SET standard_conforming_strings = off`",
         "Remove it: cronspec fixes `standard_conforming_strings = on` where a job runs.",
         ("sql-settings-bad",)),
    Code("Q411", E, "text whose meaning depends on standard_conforming_strings, in a body that "
         "is the job's own command", "`CALL p('a\\b')`",
         "Write `$$a\\b$$` (or `E'a\\\\b'`): a job's own command is read with the database's "
         "setting, a procedure's with cronspec's.", ("sql-settings-bad",)),
    Code("Q412", E, "a statement that needs a transaction block, as a job's whole command",
         "`LOCK t` with `database: other`",
         "Put the statements it protects in the same task.", ("sql-command-bad",)),
    Code("Q413", W, "a CALL among other statements", "`UPDATE t ...; CALL p();`",
         "If the procedure COMMITs, give the CALL a task of its own (a lone CALL is the job's "
         "own command).", ("sql-call-warn",)),
    Code("X501", E, "`executor: pg_cron` on an app-bound task", "`kind: app` + `executor: pg_cron`",
         "Drop `executor`, or remove what makes the task app-bound; SQL that reaches outside on "
         "purpose: the message says which `reaches:` accepts it.", ("executor-bad",)),
    Code("X502", W, "`executor: oban` on a SQL-eligible task", "`kind: sql` + `executor: oban`",
         "Drop `executor: oban` to run it on pg_cron, or keep it on purpose.", ("executor-ok",)),
    Code("X503", E, "a task on Oban without a worker", "SQL with `COPY ... PROGRAM`, no `worker:`",
         "Add `worker:`, the Oban worker that runs the task; or, for SQL that reaches outside on "
         "purpose, the `reaches:` the message names.", ("executor-bad",)),
    Code("X504", E, "`database:` on a task that cannot use it (Oban, `@startup`, "
         "`run_as: procedure`)",
         "`database: analytics` with `@startup`",
         "Remove `database:`, or schedule the task with cron fields on pg_cron.",
         ("executor-bad", "run-as-bad")),
    Code("X505", E, "`reaches:` accepts a capability the body does not use",
         "`reaches: [http]` on `UPDATE t ...`", "Remove it: each entry says what the body does.",
         ("reaches-bad",)),
    Code("X506", E, "`run_as` on a task that runs on Oban", "`executor: oban` + `run_as: command`",
         "Remove `run_as`: it says how a pg_cron job runs the body.", ("run-as-bad",)),
    Code("T601", E, "cronspec.toml is not valid TOML or UTF-8", "`timezone = `",
         "Fix the TOML at the position given.", ("config-toml-bad", "config-utf8-bad")),
    Code("T602", E, "invalid setting", '`version = "1.3"`',
         "Use a setting and value the message allows; `cronspec init` writes every one.",
         ("config-settings-bad", "zone-project-unknown-bad")),
    Code("T603", E, "cronspec.toml, or a folder it names, cannot be used", "no permission to "
         "read cronspec.toml; `output` naming a file",
         "Give read permission, or point the setting at a folder.", ("config-paths-bad",)),
    Code("R701", W, "more jobs start in one minute than `[report] max_starts_per_minute`",
         "four tasks at `0 3 * * *` (the default allows 3)",
         "Spread the schedules (`5 3 * * *`, `10 3 * * *`), or raise the setting if the load is "
         "fine.", ("week-crowded-warn",)),
    Code("P801", E, "an interval cronspec cannot read, out of range, or a backoff not shorter "
         "than the timeout", "`timeout: 10 minuts`, `timeout: 30 days`",
         "Write whole numbers with units up to days, as PostgreSQL reads an interval: "
         "`10 minutes`, `90 seconds`, `1 hour 30 minutes`.", ("policy-values-bad",)),
    Code("P802", E, "a setting a procedure cannot carry", "`settings: {statement_timeout: 1min}`",
         "Use `timeout:` for statement_timeout; cronspec fixes standard_conforming_strings on; "
         "schema-qualify the body's names instead of setting search_path.",
         ("policy-values-bad",)),
    Code("P803", E, "a policy on a pg_cron task whose body is the job's own command",
         "`overlap: skip` on `VACUUM t`, on a lone `CALL p()`, with `run_as: command` or "
         "`database:`",
         "Keep policies to tasks whose body cronspec wraps in a procedure; a lone CALL of a "
         "procedure that does not COMMIT can be wrapped with `run_as: procedure`.",
         ("policy-pg-cron-bad",)),
    Code("P804", E, "a policy Oban cannot take from a crontab entry",
         "`timeout:`, `retry.backoff`, `settings` or `overlap: queue` on an Oban task",
         "Write it in the worker module (the message says how: `timeout/1`, `backoff/1`, SET "
         "LOCAL in the worker's transaction, a queue with limit 1) and remove it from the spec.",
         ("policy-oban-bad",)),
    Code("P805", E, "a policy and the Oban option it becomes, both on one task",
         "`retry: {attempts: 3}` with `max_attempts: 5`; `overlap: skip` with `unique:`",
         "Keep one: `retry.attempts` becomes the job's `max_attempts`, `overlap: skip` the "
         "crontab entry's `unique`.", ("policy-oban-bad",)),
    # E: found in EXPLAIN's plans on a live database, so shown by tests/test_explain.py rather
    # than by a golden case; each points at the statement's lines in its spec
    Code("E901", W, "a correlated subquery scans a large table once per row",
         "`SET ids = ARRAY(SELECT target_id FROM graph_edges WHERE source_id = gn.id)` "
         "without an index on graph_edges(source_id)",
         "Create the index the message names, or rewrite the subquery as one join or "
         "aggregate over all rows."),
    Code("E902", W, "a nested loop scans a large table once per outer row",
         "`CROSS JOIN LATERAL (SELECT count(*) FROM graph_edges e WHERE e.target_id = n.id)` "
         "without an index",
         "Create the index the message names, or join on an equality the planner can hash."),
    Code("E903", W, "a function outside pg_catalog runs once per row",
         "`FROM graph_nodes n, LATERAL node_deps(n.id)` with a PL/pgSQL `node_deps`",
         "Join the function's query into the statement (a LANGUAGE sql function can be "
         "inlined), or call it once for all rows."),
    Code("E904", W, "a nested loop's join filter compares every pair of rows",
         "`JOIN graph_edges b ON a.target_id = b.source_id OR a.source_id = b.target_id`",
         "Create the indexes the message names (one per OR branch), or join on an equality "
         "the planner can hash."),
    Code("E905", W, "a statement PostgreSQL cannot plan", "`SELECT ... FROM gone_table` in a "
         "`database:` task", "Fix what the server's message names: the job would fail so."),
)  # fmt: skip

CODES: dict[str, Code] = {c.code: c for c in _TABLE}


def errors_markdown() -> str:
    """docs/errors.md: the registry as the page users read."""
    lines = [
        "# Diagnostic codes",
        "",
        "<!-- Generated from src/cronspec/diagnostics/codes.py by "
        "`python -m cronspec.diagnostics > docs/errors.md`. -->",
        "",
        "Every problem cronspec finds is one line, `path:line:col: severity[CODE]: message`, with "
        "a stable code. Errors exit 1 and write nothing; warnings are printed and do not fail the "
        "run. With `--format json` or `--format github` each diagnostic also carries where it "
        "ends (`endLine`, `endColumn`: the position just after its last character).",
        "",
        "Codes by stage: "
        + "; ".join(f"`{letter}` {stage}" for letter, stage in STAGES.items())
        + ". Each code links to a golden case (tests/cases/) that shows it; the query-plan "
        "codes, found on a live database, to the test that shows them.",
        "",
        "| code | severity | what | example input | fix | case |",
        "|---|---|---|---|---|---|",
    ]
    for c in _TABLE:
        cases = ", ".join(f"[{name}](../tests/cases/{name}/)" for name in c.cases)
        if c.code.startswith("E"):
            cases = cases or "[test_explain.py](../tests/test_explain.py)"
        lines.append(
            f"| {c.code} | {c.severity.value} | {c.title} | {c.example} | {c.fix} | {cases} |"
        )
    return "\n".join(lines) + "\n"
