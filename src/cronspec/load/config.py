"""cronspec.toml to `model.Settings`, with positions for its errors.

pydantic (`spec.ProjectConfig`) validates the settings and holds their defaults; what leaves
this module is the frozen `Settings` value.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from ..diagnostics import Diagnostic, Span, error, position, printable
from ..model import ObanSettings, PgCronSettings, ReportSettings, Settings
from ..spec import ProjectConfig

CONFIG_FILE = "cronspec.toml"


def settings_from(config: ProjectConfig) -> Settings:
    """The validated settings as a value (pydantic ends here)."""
    pg = config.pg_cron
    return Settings(
        project=config.project,
        timezone=config.timezone,
        specs=config.specs,
        output=config.output,
        pg_cron=PgCronSettings(pg.version, pg.database, pg.schema_, pg.keep_history),
        oban=ObanSettings(config.oban.app, config.oban.version),
        report=ReportSettings(
            config.report.next_runs, config.report.from_, config.report.max_starts_per_minute
        ),
    )


def _key_span(text: str, loc: tuple[str | int, ...]) -> Span:
    """The span of the innermost key of `loc` (tomllib keeps no positions)."""
    key = str(loc[-1]) if loc else ""
    section = str(loc[0]) if len(loc) > 1 else None
    in_section = section is None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = section is not None and stripped.strip("[] ") == section
            if in_section and len(loc) == 1:
                return Span.at(CONFIG_FILE, number, 1, len(line.rstrip()))
            continue
        if in_section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return Span.at(CONFIG_FILE, number, line.index(key) + 1, len(key))
    return Span.at(CONFIG_FILE, 1, 1, 0)


_DIGITS = re.compile(r"[0-9_]{4301,}")


def _read_error(text: str, exc: Exception) -> Diagnostic:
    """tomllib's own failures that are not TOMLDecodeError, at the place that caused them."""
    if isinstance(exc, RecursionError):
        line, col = _deepest(text)
        return error(
            "T601", "invalid TOML: nested too deeply to read", Span.at(CONFIG_FILE, line, col)
        )
    found = _DIGITS.search(text)
    line, col = position(text, found.start()) if found else (1, 1)
    return error(
        "T601",
        "invalid TOML: a number of more than 4300 digits",
        Span.at(CONFIG_FILE, line, col, len(found.group()) if found else 1),
    )


def _deepest(text: str, limit: int = 100) -> tuple[int, int]:
    """Where brackets outside strings first nest `limit` deep (roughly: comments count too)."""
    depth = 0
    quote = ""
    for offset, char in enumerate(text):
        if quote:
            quote = "" if char == quote or char == "\n" else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            if depth >= limit:
                return position(text, offset)
        elif char in "]}":
            depth -= 1
    return 1, 1


def _setting(data: dict[str, Any], loc: tuple[str, ...], default: str) -> str | None:
    """The string setting at `loc`, its default when absent, None when it is not a string
    (pydantic says so)."""
    node: Any = data
    for key in loc:
        if not isinstance(node, dict):
            return None
        if key not in node:
            return default
        node = node[key]
    return node if isinstance(node, str) else None


def _setting_rules(root: Path, data: dict[str, Any], text: str) -> list[Diagnostic]:
    """What pydantic's types do not say: a zone that exists, an instant that parses, folders
    that can be folders. Read from the data, so that they are checked with pydantic's errors."""
    defaults = ProjectConfig()
    diags: list[Diagnostic] = []
    span = functools.partial(_key_span, text)
    zone = _setting(data, ("timezone",), defaults.timezone)
    start_text = _setting(data, ("report", "from"), defaults.report.from_)
    folders = {key: _setting(data, (key,), getattr(defaults, key)) for key in ("specs", "output")}
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            diags.append(
                error(
                    "T602",
                    (
                        f"`timezone`: unknown time zone `{printable(zone)}`"
                        if zone
                        else "`timezone` is empty"
                    )
                    + "; use an IANA name such as `UTC` or `Europe/Berlin`",
                    span(("timezone",)),
                )
            )
    try:
        start = datetime.fromisoformat(start_text) if start_text is not None else None
    except ValueError:
        start = None
    if start_text is not None and (start is None or start.tzinfo is not None):
        diags.append(
            error(
                "T602",
                f"`report.from`: `{printable(start_text)}` is not a local date-time "
                'such as "2026-01-01T00:00:00" (no offset: it is read in the project\'s zone)',
                span(("report", "from")),
            )
        )
    for key, value in folders.items():
        if value is None:
            continue
        if not value or "\0" in value:  # no path can hold a NUL byte
            diags.append(
                error(
                    "T602",
                    f"`{key}`: `{printable(value)}` is not a folder name (empty, or a NUL in it)",
                    span((key,)),
                )
            )
            continue
        if key == "output" and os.path.exists(root / value) and not os.path.isdir(root / value):
            diags.append(
                error(
                    "T603",
                    f"`output` names `{printable(value)}`, which is a file; point it at a "
                    "folder, or move the file away",
                    span((key,)),
                )
            )
    return diags


def load_config(root: Path) -> tuple[Settings | None, list[Diagnostic]]:
    """The project's settings (defaults when there is no cronspec.toml), or why not."""
    path = root / CONFIG_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return settings_from(ProjectConfig()), []
    except IsADirectoryError:
        return None, [
            error("T603", "cronspec.toml is a folder; it must be a file", Span(CONFIG_FILE))
        ]
    except OSError as exc:
        return None, [
            error("T603", f"cannot read cronspec.toml: {exc.strerror or exc}", Span(CONFIG_FILE))
        ]
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        return None, [error("T601", "cronspec.toml is not UTF-8", Span.at(CONFIG_FILE, 1, 1))]
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's tomllib gives the position in the message only
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at line.*\)", "", str(exc))
        return None, [error("T601", f"invalid TOML: {message}", Span.at(CONFIG_FILE, line, col))]
    except (ValueError, RecursionError) as exc:  # a huge integer; nesting deeper than the stack
        return None, [_read_error(text, exc)]
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        diags = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(map(str, loc))
            if err["type"] == "extra_forbidden":
                message = f"unknown setting `{printable(where)}`"
            else:
                message = f"`{printable(where)}`: {err['msg']}"
            diags.append(error("T602", message, _key_span(text, loc)))
        refused = {d.span for d in diags}
        return None, diags + [d for d in _setting_rules(root, data, text) if d.span not in refused]
    diags = _setting_rules(root, data, text)
    if diags:
        return None, diags
    return settings_from(config), []
