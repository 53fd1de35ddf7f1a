"""What the executors do with schedule text cronspec refuses, where it depends on the text:
the clauses of parse's messages that say so (tests/test_schedule_facts.py checks each on the
real executors).

Read in pg_cron's src/entry.c (Vixie cron's parser) and bitstring.h, and Oban's
Oban.Cron.Expression (2.18.3 and 2.23.1).
"""

from __future__ import annotations

from .model import OBANS, FieldSpec


def large_step(step: int, first: int, *, open_end: bool) -> str:
    """What the executors do with a step above the field's top value: pg_cron's parser (Vixie
    cron's entry.c) keeps the step in a C int, and 1.6.5+ checks it; Oban reads a step of one
    or two digits only."""
    only = f"would run it at {first} only"
    oban = f"{OBANS} {only}" if step <= 99 else f"{OBANS} rejects a step of more than two digits"
    if open_end:  # `A/S`: pg_cron rejects a step without a range, whatever the step
        return f"{oban}, and pg_cron 1.4-1.6 rejects it"
    if step <= 99:
        return f"pg_cron 1.4 and {OBANS} {only}, and pg_cron 1.6.5+ rejects it"
    if step < 2**31:
        return f"pg_cron 1.4 {only}, {oban}, and pg_cron 1.6.5+ rejects it"
    return (
        f"{oban}, and pg_cron 1.4-1.6 keep only the low 32 bits of so large a step: they "
        "reject some such steps and run others as another step (`*/4294967297` runs every "
        "minute)"
    )


def reversed_on_pg16(start: int, end: int, spec: FieldSpec) -> list[int]:
    """The values pg_cron 1.6 runs for a reversed range `start-end` (no step): its set_range
    calls bitstring.h's `bit_nset(bits, start, end)`, which for start > end sets the bits from
    `start` to the end of its byte and from the start of `end`'s byte to `end`, or nothing
    when both are in one byte. (1.4 loops from start to end: nothing.)"""
    a, b = start - spec.low, end - spec.low
    first, last = a >> 3, b >> 3
    if first == last:
        return []
    bits = [first * 8 + i for i in range(a & 7, 8)] + [last * 8 + i for i in range((b & 7) + 1)]
    return sorted({spec.fold(v + spec.low) for v in bits if v + spec.low <= spec.high})
