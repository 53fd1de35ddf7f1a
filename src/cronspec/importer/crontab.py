"""What `read_crontab.exs` read from an Elixir config, as values: each `Oban.Plugins.Cron`
with its `timezone` and crontab, every entry a literal term with its line and column, or what
it is when it is not a literal (the script evaluates nothing).

Terms: strings, numbers, booleans and nil as Python's own; atoms `Atom`, tuples `tuple`, lists
`list`, maps `MapLiteral` (pairs in source order, so a repeated key stays visible).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Atom:
    """An Elixir atom (a module alias as `Elixir.A.B`)."""

    name: str


@dataclass(frozen=True)
class MapLiteral:
    """An Elixir map as written: its pairs in source order (a key may repeat)."""

    pairs: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True)
class Located:
    """A value read at a line and column, or what it is when it is not a literal."""

    line: int
    column: int
    value: Any = None
    not_literal: str | None = None


@dataclass(frozen=True)
class CronPlugin:
    """One `{Oban.Plugins.Cron, opts}`: its zone and crontab (None where not given)."""

    line: int
    column: int
    timezone: Located | None
    crontab: Located | None  # not_literal set, or value None with `entries`
    entries: tuple[Located, ...] = ()


@dataclass(frozen=True)
class ObanCrontab:
    """Every Cron plugin of one config file, and the file as messages name it."""

    path: str
    plugins: tuple[CronPlugin, ...]


def _term(value: Any) -> Any:
    """The script's tagged JSON to Python values."""
    if isinstance(value, list):
        return [_term(v) for v in value]
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        if tag == "atom":
            return Atom(inner)
        if tag == "tuple":
            return tuple(_term(v) for v in inner)
        if tag == "map":
            return MapLiteral(tuple((_term(k), _term(v)) for k, v in inner))
        raise ValueError(f"unknown term tag {tag!r}")
    return value


def _located(raw: Mapping[str, Any] | None) -> Located | None:
    if raw is None:
        return None
    value = _term(raw["value"]) if "value" in raw else None
    return Located(int(raw["line"]), int(raw["column"]), value, raw.get("not_literal"))


def crontab_from_json(path: str, data: Mapping[str, Any]) -> ObanCrontab:
    """The script's answer (`"ok": true`) as values."""
    plugins = []
    for raw in data["plugins"]:
        crontab = raw.get("crontab")
        entries = tuple(_located(e) for e in crontab.get("entries", ())) if crontab else ()
        plugins.append(
            CronPlugin(
                int(raw["line"]),
                int(raw["column"]),
                _located(raw.get("timezone")),
                _located(crontab),
                tuple(e for e in entries if e is not None),
            )
        )
    return ObanCrontab(path, tuple(plugins))
