"""What an import makes: spec texts written here, each checked by the compiler's own stages.

A draft is the fields of one spec, in the order a reader expects them. `render` writes them
as YAML that reads back as exactly those values (every string double-quoted, with escapes for
anything YAML would read otherwise; a SQL body as a literal block when that reads back the
same), and `compile_draft` runs the text through load, validate, classify, place and plan, as
`cronspec compile` will: an import writes only specs that compile, and lists the rest with the
compiler's reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..classify import classify
from ..diagnostics import Diagnostic
from ..load.source import parse_document
from ..model import Settings
from ..plan import Plan, build_plan, place
from ..validate import validate

Draft = Sequence[tuple[str, Any]]  # (key, value) in the order they are written


@dataclass(frozen=True)
class Written:
    """A spec the import writes: the file's name in the specs folder, its text, and where it
    came from (`pg_cron job 3 (nightly)`, `config/config.exs:12:8 (MyApp.Worker)`)."""

    name: str
    text: str
    source: str

    @property
    def filename(self) -> str:
        """`NAME.yaml`."""
        return f"{self.name}.yaml"


@dataclass(frozen=True)
class Listed:
    """Something the import did not write a spec for, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Conversion:
    """An import's outcome before anything is written.

    `error` is set when nothing can be imported at all (several roles' jobs, a server zone the
    project does not have); `listed` are jobs or entries left out with their reason, `skipped`
    those cronspec already owns.
    """

    specs: tuple[Written, ...] = ()
    listed: tuple[Listed, ...] = ()
    skipped: tuple[Listed, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()


def quoted(text: str) -> str:
    """A double-quoted YAML scalar that reads back as `text`, whatever it holds.

    Printable ASCII and ordinary non-ASCII letters stay readable; controls, line and paragraph
    separators, byte-order marks and non-characters are escaped, so YAML neither folds nor
    refuses them (validation then says what it thinks of them).
    """
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code >= 0xA0 and char not in "\u2028\u2029\ufeff" and not 0xD800 <= code < 0xE000:
            out.append(char if code not in (0xFFFE, 0xFFFF) else f"\\u{code:04x}")
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    if exponent and "." not in mantissa:  # YAML 1.1 reads `1e-05` as a string, `1.0e-05` not
        text = f"{mantissa}.0e{exponent}"
    return text


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# what YAML 1.1 reads as something other than a string (PyYAML: booleans and null)
_NOT_STRINGS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])


def _string(text: str) -> str:
    """Plain when YAML reads the word as this string (`sql`, `MyApp.Worker`), else quoted."""
    if _PLAIN.fullmatch(text) and text.lower() not in _NOT_STRINGS:
        return text
    return quoted(text)


def _flow(value: Any) -> str:
    """JSON-like data as a YAML flow value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{quoted(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} in a spec")


def _block(text: str) -> str | None:
    """A literal block scalar for a body that is stripped and one YAML can hold as is."""
    if not text or text != text.strip() or any(c in text for c in "\r\x85\u2028\u2029\ufeff"):
        return None
    return "|\n" + "".join(f"  {line}\n" if line else "\n" for line in text.split("\n"))


def render(draft: Draft, *, block_sql: bool = True) -> str:
    """The spec text of a draft."""
    lines = []
    for key, value in draft:
        if key == "sql" and isinstance(value, str) and block_sql and (block := _block(value)):
            lines.append(f"sql: {block}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            lines.append(f"{key}:\n" + "".join(f"  - {quoted(v)}\n" for v in value))
        else:
            lines.append(f"{key}: {_string(value) if isinstance(value, str) else _flow(value)}\n")
    return "".join(lines)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, allow_nan=False)


def render_exactly(path: str, draft: Draft) -> str:
    """The spec text of a draft, read back to the same values; an AssertionError if it
    cannot be (a bug: `quoted` writes any string)."""
    for block_sql in (True, False):
        want = dict(draft)
        if block_sql and isinstance(want.get("sql"), str):
            want["sql"] += "\n"  # a literal block ends with its line's end
        text = render(draft, block_sql=block_sql)
        doc, _ = parse_document(path, text.encode("utf-8"))
        if doc is not None and _canonical(doc.data) == _canonical(want):
            return text
    raise AssertionError(f"bug: the spec written for {path} does not read back as written")


def compile_draft(path: str, text: str, settings: Settings) -> tuple[Plan | None, list[Diagnostic]]:
    """One spec text through the compiler's stages: its plan, or None and the errors."""
    doc, diags = parse_document(path, text.encode("utf-8"))
    if doc is None:
        return None, diags
    task, more = validate(doc, settings.timezone)
    diags += more
    if task is None:
        return None, diags
    classified, more = classify(task)
    diags += more
    if classified is None:
        return None, diags
    placements, more = place([classified], settings)
    diags += more
    plan, more = build_plan(placements, settings)
    diags += more
    if any(d.is_error for d in diags):
        return None, diags
    return plan, diags


def first_error(diags: Sequence[Diagnostic]) -> str:
    """The message of the first error (what an import lists as the reason)."""
    return next((d.message for d in diags if d.is_error), "it does not compile")
