"""What cronspec emits for pg_cron, fed to the real pg_cron 1.4.2 and 1.6.7 of the test servers.

Each `cron.schedule` call runs in a transaction that is rolled back, on one connection per
server. Every pg_cron text of the schedule corpus (support/schedule_corpus.py) for
`[pg_cron] version` 1.4 goes to 1.4.2, every 1.6 text to 1.6.7, and pg_cron's own parser in
that server (support/pg_cron_parser) reads it as exactly what cronspec means by the schedule.
The texts pg_cron misreads or rejects (scheduler-facts.md) are confirmed on both servers and
must never reach them; test_schedule_facts.py checks every claim of cronspec's messages.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from support import pg_cron_parser
from support.common import need
from support.schedule_corpus import CASES, TARGETS
from support.servers import Server

from cronspec.diagnostics import Diagnostic
from cronspec.schedule import Cron, Reboot, Seconds, check_target, emit, parse, reparse

pytestmark = pytest.mark.db

PG14 = TARGETS["1.4"]

# pg_cron accepts these and runs something else than they say (facts, tested on 1.4.2 and 1.6.7)
MISREAD = [
    "*/10 * * * * *",  # the 6th field is ignored: every 10 minutes
    "1#2 * * * *",  # `#2` dropped
    "5.5 * * * *",  # `.5` dropped
    "@daily extra",  # `extra` dropped
    "10-5 * * * *",  # never runs
    "0 0 31 2 *",  # never runs
]
# pg_cron 1.4.2 takes steps above the field's top value (meaningless); 1.6.5+ refuses them
STEP_ABOVE_TOP = ["*/60 * * * *", "0 */24 * * *", "0 0 * */13 *"]
# both reject these
REJECTED = [
    "1/20 * * * *",
    "@DAILY",
    "@every 5m",
    "0 0 L * *",
    "0 0 ? * *",
    "60 * * * *",
    "0 24 * * *",
    "0 0 0 * *",
    "0 0 32 * *",
    "0 0 * 13 *",
    "0 0 * * 8",
    "* * * *",
    "",
]
# 1.4.2 rejects these, 1.6.7 accepts them (`$` since 1.6, `N seconds` since 1.5, any case)
NEWER = ["30 seconds", "0 12 $ * *", "30 SECONDS"]
# cronspec refused these although pg_cron reads them as written (issue 13 part 6): each is
# accepted now, written for pg_cron as below, and the live test above runs that text
ONCE_REFUSED = [
    pytest.param("0 0 1 */12 *", "1.4", "0 0 1 */12 *", id="*/12-months"),
    pytest.param("0 0 */31 * *", "1.4", "0 0 */31 * *", id="*/31-days"),
    pytest.param("@restart", "1.4", "@reboot", id="@restart"),
    pytest.param("30 SECONDS", "1.6", "30 seconds", id="30-SECONDS"),
]


def emitted(target: str) -> list[str]:
    """Every pg_cron text the corpus says cronspec writes for `[pg_cron] version = target`."""
    texts = {case.verdicts()[target] for case in CASES}
    return sorted(text for text in texts if isinstance(text, str))


@pytest.fixture(scope="module")
def conn(pg_server: Server) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(pg_server.cluster.dsn()) as connection:
        yield connection


def pg_accepts(conn: psycopg.Connection[tuple[object, ...]], text: str) -> bool:
    """Whether `cron.schedule` takes `text` (in a transaction that is rolled back)."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT cron.schedule('cronspec-schedule-test', %s, 'SELECT 1')", (text,))
    except psycopg.errors.InvalidParameterValue as exc:
        assert "invalid schedule" in str(exc)
        return False
    return True


def test_the_corpus_gives_pg_cron_texts() -> None:
    assert len(emitted("1.4")) >= 50
    assert set(emitted("1.6")) - set(emitted("1.4"))  # `$` and seconds


def test_every_text_cronspec_emits_is_accepted(
    pg_server: Server, conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    refused = [text for text in emitted(pg_server.target) if not pg_accepts(conn, text)]
    assert refused == []
    with conn.cursor() as cur:  # nothing was kept
        cur.execute("SELECT count(*) FROM cron.job WHERE jobname = 'cronspec-schedule-test'")
        assert cur.fetchone() == (0,)


def test_pg_cron_runs_what_cronspec_means(
    pg_server: Server, conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    """pg_cron's parser (in the server) reads every emitted cron text as cronspec's meaning."""
    need(pg_cron_parser.why_unavailable(), "pg_cron's parser in the server")
    reader = pg_cron_parser.Reader(conn)
    target = TARGETS[pg_server.target]
    wrong = {}
    texts = emitted(pg_server.target)
    for text in texts:
        meaning = reparse(text, target)
        assert isinstance(meaning, Cron | Reboot | Seconds), (text, meaning)
        if isinstance(meaning, Seconds):
            continue  # not this parser's (job_metadata.c reads it); test_pg_cron16 fires one
        read = reader.read(text)
        assert read is not None, text
        if isinstance(meaning, Reboot):
            assert read.reboot, text
            continue
        rule = "any" if read.either_day else "all"
        got = Cron(read.minutes, read.hours, read.doms, read.months, read.dows, rule, read.last_dom)
        if got != meaning:
            wrong[text] = got
    assert wrong == {}
    assert len(texts) >= 50


def test_facts_hold_on_the_live_server(
    pg_server: Server, conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    newer = pg_server.target == "1.6"
    assert pg_accepts(conn, "0 7 * * 7")
    assert pg_accepts(conn, "1-59/20 * * * *")  # what cronspec writes for `1/20`
    assert pg_accepts(conn, "0 0 1 */12 *") and pg_accepts(conn, "0 0 */31 * *")
    assert pg_accepts(conn, "@restart") and pg_accepts(conn, "@reboot")
    for text in MISREAD:
        assert pg_accepts(conn, text), text
    for text in STEP_ABOVE_TOP:
        assert pg_accepts(conn, text) != newer, text
    for text in REJECTED:
        assert not pg_accepts(conn, text), text
    for text in NEWER:
        assert pg_accepts(conn, text) == newer, text


@pytest.mark.parametrize("text", MISREAD + STEP_ABOVE_TOP)
def test_what_pg_cron_misreads_is_refused(text: str) -> None:
    assert isinstance(parse(text), Diagnostic)


@pytest.mark.parametrize("text", REJECTED)
def test_what_pg_cron_rejects_never_reaches_it(text: str) -> None:
    """Refused outright, refused for pg_cron 1.4, or written in a form 1.4 reads."""
    schedule = parse(text)
    if isinstance(schedule, Diagnostic) or check_target(schedule, PG14) is not None:
        return
    written = emit(schedule)
    assert written != " ".join(text.split())
    assert written in emitted("1.4")  # so the live test above has run it


@pytest.mark.parametrize(("text", "version", "written"), ONCE_REFUSED)
def test_what_pg_cron_reads_as_written_is_accepted(text: str, version: str, written: str) -> None:
    target = TARGETS[version]
    schedule = parse(text)
    assert not isinstance(schedule, Diagnostic), schedule.message
    assert check_target(schedule, target) is None
    assert emit(schedule) == written
    assert written in emitted(version)  # so test_every_text_cronspec_emits_is_accepted ran it


def test_restart_is_refused_for_oban() -> None:
    """pg_cron's synonym of @reboot; Oban 2.18-2.23 reject it (test_schedule_facts.py)."""
    schedule = parse("@restart")
    assert not isinstance(schedule, Diagnostic)
    problem = check_target(schedule, TARGETS["oban"])
    assert problem is not None and "`@restart` is pg_cron's name for `@reboot`" in problem.message
