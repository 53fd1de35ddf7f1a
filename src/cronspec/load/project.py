"""A project on disk: where its specs are, and their bytes read into documents.

Reading is all this touches; it writes nothing. Every entry of the specs folder whose name ends
in `.yaml` or `.yml`, in any capitalisation, is either read or reported with its path: a link
that leads nowhere, a folder, a fifo or a file we may not read is an error, never a silent skip
(the next plan would remove that task's job). Limits are checked before reading: the number of
specs by listing the folder, a file's size by `fstat` on the opened file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, Span, error, printable
from ..model import Settings
from .source import MAX_FILE_BYTES, Document, parse_document, too_large

SPEC_SUFFIXES = (".yaml", ".yml")
MAX_SPECS = 50_000


@dataclass(frozen=True)
class Listing:
    """The specs folder listed: the spec files to read, in name order, and what is wrong."""

    paths: tuple[Path, ...]
    problems: tuple[Diagnostic, ...]


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def list_specs(root: Path, specs_dir: str) -> Listing:
    """The spec files of the project, sorted by name, and the entries that cannot be specs."""
    folder = root / specs_dir
    shown = _relative(root, folder)
    try:
        with os.scandir(folder) as it:
            names = sorted(e.name for e in it if e.name.lower().endswith(SPEC_SUFFIXES))
    except FileNotFoundError:
        return Listing((), ())
    except NotADirectoryError:
        return Listing(
            (),
            (
                error(
                    "Y114",
                    f"the specs folder `{printable(specs_dir)}` is a file; point `specs` in "
                    "cronspec.toml at a folder",
                    Span(shown),
                ),
            ),
        )
    except OSError as exc:
        return Listing(
            (),
            (error("Y114", f"cannot read the specs folder: {exc.strerror or exc}", Span(shown)),),
        )
    paths, problems = [], []
    for name in names:
        if name.endswith(SPEC_SUFFIXES):
            paths.append(folder / name)
            continue
        stem, suffix = name.rsplit(".", 1)
        problems.append(
            error(
                "Y115",
                f"spec files end in `.yaml` or `.yml`, in lowercase; rename it to "
                f"`{printable(stem)}.{suffix.lower()}`",
                Span(_relative(root, folder / name)),
            )
        )
    if len(paths) > MAX_SPECS:
        problems.append(
            error(
                "Y116",
                f"{len(paths)} spec files, over the limit of {MAX_SPECS} for one project; "
                "none was read",
                Span(shown),
            )
        )
        return Listing((), tuple(problems))
    return Listing(tuple(paths), tuple(problems))


_KINDS = (
    (stat.S_ISFIFO, "a fifo"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_a_file(path: Path, exc: OSError | None, mode: int = 0) -> str:
    """Why the entry at `path` is not a spec file we can read, in words."""
    if exc is None:
        if stat.S_ISDIR(mode):
            return "a folder, not a spec file; rename it so that its name does not end in .yaml"
        kind = next((word for test, word in _KINDS if test(mode)), "not a regular file")
        return f"{kind}, not a regular file; a spec is a file"
    if exc.errno == errno.ELOOP:
        return "a symbolic link that loops back on itself; fix or delete the link"
    if exc.errno == errno.ENOENT and os.path.islink(path):
        target = printable(os.readlink(path))
        return f"a symbolic link to `{target}`, which does not exist; fix or delete the link"
    return f"cannot read it: {exc.strerror or exc}"


def read_spec(path: Path, shown: str) -> bytes | Diagnostic:
    """One spec file's bytes, or why not: read only after its size is known to be in bounds.

    Links to files are followed, as an editor would; O_NONBLOCK keeps a fifo from hanging us.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return error("Y114", _not_a_file(path, exc), Span(shown))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return error("Y114", _not_a_file(path, None, st.st_mode), Span(shown))
        if st.st_size > MAX_FILE_BYTES:
            return too_large(shown, st.st_size)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:  # the file may grow while we read it
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            return too_large(shown, size)
        return b"".join(chunks)
    except OSError as exc:
        return error("Y114", _not_a_file(path, exc), Span(shown))
    finally:
        os.close(fd)


def read_documents(root: Path, settings: Settings) -> Iterator[Document | Diagnostic]:
    """Each spec file parsed, in name order: its document, or the diagnostics of its file.

    One file at a time, so memory holds one document, not the whole project.
    """
    listing = list_specs(root, settings.specs)
    yield from listing.problems
    if not listing.paths and not listing.problems:
        yield error(
            "S210",
            f"no task specs (*.yaml) in {printable(settings.specs)}/",
            Span(settings.specs),
        )
    for path in listing.paths:
        shown = _relative(root, path)
        raw = read_spec(path, shown)
        if isinstance(raw, Diagnostic):
            yield raw
            continue
        doc, diags = parse_document(shown, raw)
        yield from diags
        if doc is not None:
            yield doc
