"""`cronspec import`: existing pg_cron jobs and Oban crontabs to specs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import db, importer, output
from ..diagnostics import Diagnostic, has_errors, sort_diagnostics
from ..load.config import load_config
from ..model import Settings


@dataclass(frozen=True)
class ImportOutcome:
    """What `cronspec import` found and wrote.

    `diagnostics` are cronspec.toml's (nothing is imported when it has errors); `error` is why
    nothing could be imported (the database, Elixir, the folder), one line each.
    """

    diagnostics: list[Diagnostic]
    conversion: importer.Conversion | None = None
    written: tuple[str, ...] = ()  # the spec files written, as shown, in `conversion.specs` order
    error: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether everything found was imported (skipped jobs are cronspec's own already)."""
        return (
            not self.error
            and not has_errors(self.diagnostics)
            and self.conversion is not None
            and not self.conversion.listed
        )


def _import_folder(root: Path, settings: Settings, out: Path | None) -> tuple[Path, str]:
    """The folder specs are written to, and how messages name it."""
    folder = out if out is not None else root / settings.specs
    try:
        return folder, folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return folder, folder.as_posix()


def _existing(folder: Path) -> dict[str, str]:
    """Task names the folder has spec files for, to their file names (`.yml` wins: it is
    never replaced)."""
    found: dict[str, str] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir(), key=lambda p: p.suffix == ".yml"):
            if path.suffix in (".yaml", ".yml"):
                found[path.stem] = path.name
    return found


def _write_specs(
    diags: list[Diagnostic], conversion: importer.Conversion, folder: Path, shown: str, force: bool
) -> ImportOutcome:
    if conversion.error is not None:
        return ImportOutcome(diags, conversion, error=(conversion.error,))
    files = {spec.filename: spec.text for spec in conversion.specs}
    try:
        if files:
            output.add_files(folder, files, replace=force)
    except FileExistsError as exc:
        return ImportOutcome(
            diags,
            conversion,
            error=(f"{shown}: {exc.filename} appeared meanwhile; nothing was written",),
        )
    except output.OutputError as exc:
        return ImportOutcome(diags, conversion, error=(str(exc),))
    return ImportOutcome(
        diags, conversion, tuple(f"{shown}/{s.filename}" for s in conversion.specs)
    )


def import_pg_cron(
    root: Path, dsn: str, *, role: str | None = None, out: Path | None = None, force: bool = False
) -> ImportOutcome:
    """`cronspec import --dsn`: one spec per pg_cron job the connection sees (one role's)."""
    settings, diags = load_config(root)
    if settings is None:
        return ImportOutcome(sort_diagnostics(diags))
    folder, shown = _import_folder(root, settings, out)
    try:
        conn = db.connect(dsn)
        with conn:
            source = db.read_cron_jobs(conn, role)
    except db.DbError as exc:
        return ImportOutcome(diags, error=tuple(exc.lines()))
    conversion = importer.from_pg_cron(
        source.jobs,
        source.server,
        settings,
        folder=shown,
        existing=_existing(folder),
        force=force,
    )
    if not source.jobs:
        who = f"of role {role} " if role else ""
        hint = (
            " (pg_cron shows a role only its own jobs)"
            if role and role != source.server.role
            else ""
        )
        conversion = importer.Conversion(
            notes=(f"no pg_cron jobs {who}visible to role {source.server.role}{hint}",)
        )
    return _write_specs(diags, conversion, folder, shown, force)


def import_oban(
    root: Path, config_file: Path, *, out: Path | None = None, force: bool = False
) -> ImportOutcome:
    """`cronspec import --oban`: one app spec per literal entry of the file's Oban crontab."""
    from ..importer.elixir import ElixirError, read_crontab

    settings, diags = load_config(root)
    if settings is None:
        return ImportOutcome(sort_diagnostics(diags))
    folder, shown = _import_folder(root, settings, out)
    try:
        crontab = read_crontab(config_file, config_file.as_posix())
    except ElixirError as exc:
        return ImportOutcome(diags, error=(str(exc),))
    conversion = importer.from_oban(
        crontab, settings, folder=shown, existing=_existing(folder), force=force
    )
    return _write_specs(diags, conversion, folder, shown, force)
