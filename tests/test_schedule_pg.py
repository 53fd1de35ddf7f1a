"""What cronspec emits for pg_cron 1.4, fed to the real pg_cron 1.4.2 of the test cluster.

Each `cron.schedule` call runs in a transaction that is rolled back, on one connection. The
texts pg_cron misreads or rejects (the facts table of /work/shared/reference/scheduler-facts.md)
are confirmed against the live server and must never reach it from cronspec.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from pgcluster import PgCluster
from support.schedule_corpus import CASES, TARGETS

from cronspec.diagnostics import Diagnostic
from cronspec.schedule import check_target, emit, parse

pytestmark = pytest.mark.db

PG14 = TARGETS["1.4"]

# pg_cron accepts these and runs something else than they say (facts, tested on 1.4.2)
MISREAD = [
    "*/10 * * * * *",  # the 6th field is ignored: every 10 minutes
    "1#2 * * * *",  # `#2` dropped
    "5.5 * * * *",  # `.5` dropped
    "@daily extra",  # `extra` dropped
    "10-5 * * * *",  # never runs
    "0 0 31 2 *",  # never runs
    "*/60 * * * *",  # a step that never steps
]
# pg_cron 1.4.2 rejects these
REJECTED = [
    "1/20 * * * *",
    "@DAILY",
    "@every 5m",
    "30 seconds",
    "0 12 $ * *",
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


def _emitted_for_pg14() -> list[str]:
    texts = {case.pg14 for case in CASES if isinstance(case.pg14, str)}
    return sorted(texts)


@pytest.fixture(scope="module")
def conn(cluster: PgCluster) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(cluster.dsn()) as connection:
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


def test_the_corpus_gives_pg14_texts() -> None:
    assert len(_emitted_for_pg14()) >= 50


def test_every_pg14_text_cronspec_emits_is_accepted(
    conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    refused = [text for text in _emitted_for_pg14() if not pg_accepts(conn, text)]
    assert refused == []
    with conn.cursor() as cur:  # nothing was kept
        cur.execute("SELECT count(*) FROM cron.job WHERE jobname = 'cronspec-schedule-test'")
        assert cur.fetchone() == (0,)


def test_facts_hold_on_the_live_server(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    assert not pg_accepts(conn, "1/20 * * * *")
    assert pg_accepts(conn, "0 7 * * 7")
    assert pg_accepts(conn, "1-59/20 * * * *")  # what cronspec writes for `1/20`
    for text in MISREAD:
        assert pg_accepts(conn, text), text
    for text in REJECTED:
        assert not pg_accepts(conn, text), text


@pytest.mark.parametrize("text", MISREAD)
def test_what_pg_cron_misreads_is_refused(text: str) -> None:
    assert isinstance(parse(text), Diagnostic)


@pytest.mark.parametrize("text", REJECTED)
def test_what_pg_cron_rejects_never_reaches_it(text: str) -> None:
    """Refused outright, refused for pg_cron 1.4, or written in a form 1.4 reads."""
    schedule = parse(text)
    if isinstance(schedule, Diagnostic) or check_target(schedule, PG14) is not None:
        return
    emitted = emit(schedule)
    assert emitted != " ".join(text.split())
    assert emitted in _emitted_for_pg14()  # so the live test above has run it
