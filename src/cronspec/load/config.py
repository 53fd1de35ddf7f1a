"""cronspec.toml to `model.Settings`, with positions for its errors.

pydantic (`spec.ProjectConfig`) validates the settings and holds their defaults; what leaves
this module is the frozen `Settings` value.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ..diagnostics import Diagnostic, Span, error
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


def load_config(root: Path) -> tuple[Settings | None, list[Diagnostic]]:
    """The project's settings (defaults when there is no cronspec.toml), or why not."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return settings_from(ProjectConfig()), []
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        return None, [error("T601", "cronspec.toml is not UTF-8", Span.at(CONFIG_FILE, 1, 1))]
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's tomllib gives the position in the message only
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at line.*\)", "", str(exc))
        return None, [error("T601", f"invalid TOML: {message}", Span.at(CONFIG_FILE, line, col))]
    try:
        return settings_from(ProjectConfig.model_validate(data)), []
    except ValidationError as exc:
        diags = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(map(str, loc))
            if err["type"] == "extra_forbidden":
                message = f"unknown setting `{where}`"
            else:
                message = f"`{where}`: {err['msg']}"
            diags.append(error("T602", message, _key_span(text, loc)))
        return None, diags
