"""The one place cronspec runs Elixir: `read_crontab.exs` (package data) on a config file.

The script parses the file with `Code.string_to_quoted/2` (nothing in it is evaluated), walks
the AST for `{Oban.Plugins.Cron, opts}` and prints its crontab as tagged JSON; `oban.py` turns
that into values. No regular expression ever reads Elixir here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib.resources import as_file, files
from pathlib import Path

from .crontab import ObanCrontab, crontab_from_json

SCRIPT = "read_crontab.exs"
TIMEOUT = 120.0  # seconds; a start of the VM and one parse take well under one


class ElixirError(Exception):
    """Elixir is missing, or could not read the file: one line for the user, exit 1."""


def read_crontab(path: Path, shown: str) -> ObanCrontab:
    """The Cron plugins of the config file at `path` (`shown` is how messages name it)."""
    elixir = shutil.which("elixir")
    if elixir is None:
        raise ElixirError(
            "`cronspec import --oban` reads the config with Elixir's own parser, and the "
            "`elixir` command is not installed (Debian: apt-get install elixir)"
        )
    if not path.is_file():
        raise ElixirError(f"{shown}: no such file")
    env = {k: v for k, v in os.environ.items() if k not in ("ERL_LIBS", "MIX_ENV")}
    with as_file(files(__package__).joinpath(SCRIPT)) as script:
        try:
            proc = subprocess.run(
                [elixir, str(script), str(path)],
                capture_output=True,
                text=True,
                encoding="utf-8",
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ElixirError(f"cannot run elixir on {shown}: {exc}") from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        problem = next((ln.strip() for ln in proc.stderr.splitlines() if ln.strip()), "")
        raise ElixirError(
            f"elixir could not read {shown} (exit {proc.returncode}): {problem or 'no output'}"
        )
    data = json.loads(lines[-1])
    if not data["ok"]:
        message = " ".join(str(data["message"]).split("\n")[0].split())
        raise ElixirError(
            f"{shown}:{data['line']}:{data['column']}: Elixir cannot parse it: {message}"
        )
    return crontab_from_json(shown, data)
