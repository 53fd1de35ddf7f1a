"""A project on disk: where its specs are, and their bytes read into documents.

Reading is all this touches; it writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import Diagnostic, Span, error
from ..model import Settings
from .source import Document, parse_document

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_SPECS = 50_000


def spec_paths(root: Path, specs_dir: str) -> list[Path]:
    """The spec files of the project, sorted by name."""
    folder = root / specs_dir
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file()),
        key=lambda p: p.name,
    )


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_documents(root: Path, settings: Settings) -> Iterator[Document | Diagnostic]:
    """Each spec file parsed, in name order: its document, or the diagnostics of its file.

    One file at a time, so memory holds one document, not the whole project.
    """
    paths = spec_paths(root, settings.specs)
    if not paths:
        yield error("S210", f"no task specs (*.yaml) in {settings.specs}/", Span(settings.specs))
    for path in paths[:MAX_SPECS]:
        doc, diags = parse_document(_relative(root, path), path.read_bytes())
        yield from diags
        if doc is not None:
            yield doc
