"""cronspec.toml to `ProjectConfig`, with positions for its errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from .diagnostics import Diagnostic, Span, error
from .spec import ProjectConfig

CONFIG_FILE = "cronspec.toml"


def _key_span(text: str, loc: tuple[str | int, ...]) -> Span:
    """The line of the innermost key of `loc` (tomllib keeps no positions)."""
    key = str(loc[-1]) if loc else ""
    section = str(loc[0]) if len(loc) > 1 else None
    in_section = section is None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = section is not None and stripped.strip("[] ") == section
            if in_section and len(loc) == 1:
                return Span(CONFIG_FILE, number, 1)
            continue
        if in_section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return Span(CONFIG_FILE, number, line.index(key) + 1)
    return Span(CONFIG_FILE, 1, 1)


def load_config(root: Path) -> tuple[ProjectConfig | None, list[Diagnostic]]:
    path = root / CONFIG_FILE
    if not path.is_file():
        return ProjectConfig(), []
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        return None, [error("T601", "cronspec.toml is not UTF-8", Span(CONFIG_FILE, 1, 1))]
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at line.*\)", "", str(exc))
        return None, [error("T601", f"invalid TOML: {message}", Span(CONFIG_FILE, line, col))]
    try:
        return ProjectConfig.model_validate(data), []
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
