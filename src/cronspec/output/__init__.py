"""Generated files to disk, all or nothing, and the `--check` comparison.

Only this package (and `db/`) touches the outside world: `_disk.py` holds the primitives
(renames, fsync, the lock, the comparison), `_staging.py` the swap, the journal and recovery.

Whose files. cronspec's files have plain names and its header (`MARKERS`) in their first bytes.
Everything else in the output folder is foreign (dotfiles, sub-folders, links, fifos, other
files): never deleted or rewritten, kept with its inode. A foreign entry where cronspec must
write (a folder named `pg_cron.sql`, a file without the header) is an error: nothing changes.

Lock. Writers hold flock(LOCK_EX) on the output folder itself, readers (`compare`) LOCK_SH;
the kernel drops it when a process dies, so no lock file is left behind. A swap gives the path
a new folder, so a writer also locks the new folder before the swap and every taker checks
that the path still names what it locked. Where a file system refuses folder locks (NFS),
`.cronspec.lock` inside is locked instead and stays; without fcntl (Windows) there is none.

Swap (Linux). The new folder is built beside the old one as `.cronspec-tmp-NAME`, complete at
the moment of the swap: new files written and fsynced; unchanged files and every foreign
non-folder hard-linked (same inode, same mtime); then the foreign sub-folders moved in; then
one renameat2(RENAME_EXCHANGE) swaps the two folders. The old one is emptied into the new:
second links and cronspec's old files dropped, whatever another program put there meanwhile
moved over (for a file saved twice, the later save wins). Guarantees: at every instant the
path holds entirely old or entirely new generated files; a foreign non-folder never leaves
it; a foreign sub-folder is out of it only from its move to the swap (microseconds), inside
the staging folder. cronspec's readers (the lock) see foreign entries in place too. Another
program that reads several files one by one can straddle the swap; one file read is whole.

Recovery. The staging folder is its own journal: whatever a killed run left there (old or new
files, links, parked sub-folders) is emptied into the output folder the same way before the
next write, which is then from one consistent state. A name taken again meanwhile is not
overwritten: the write stops with one error naming both. A failed swap is undone likewise and
the write goes on in place, with a note.

In place (no renameat2 or no RENAME_EXCHANGE on the file system, the output folder holds the
project or the shell's folder, a mount point, another user's folder, ACLs, a parent we may not
write, or an entry that cannot be linked or moved). Files are staged in NAME/.cronspec-tmp/
with a journal committed by one rename, then each is renamed into place. The next run rolls a
committed journal forward and an uncommitted one back. Foreign entries are never touched
here. Weaker: each file is replaced whole, and cronspec's readers never see a mix, but other
programs can see new files beside old ones during the renames, and after a kill until the
next run.

Durability: files and folders are fsynced before the swap or the journal's commit.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ._disk import (
    _NOT_A_FOLDER,
    MARKERS,
    TEMP_PREFIX,
    Comparison,
    OutputError,
    _compare,
    _entries,
    _fail,
    _folder,
    _kind,
    _Lock,
    _ours,
)
from ._staging import (
    _in_place_reason,
    _leftovers,
    _probe,
    _recover,
    _swap,
    _write_in_place,
)

__all__ = [
    "MARKERS",
    "TEMP_PREFIX",
    "Comparison",
    "OutputError",
    "add_files",
    "compare",
    "create_new",
    "write",
]


def compare(
    out_dir: Path, files: Mapping[str, str], label: str, *, with_diff: bool = True
) -> Comparison:
    """What writing `files` would change, read under a shared lock (never a half-written set)."""
    out = _folder(out_dir, "read")
    if not out.is_dir():
        return _compare(out, out_dir, files, label, with_diff)
    lock = _Lock()
    try:
        lock.take(out, shared=True)
        result = _compare(out, out_dir, files, label, with_diff)
        notes = tuple(
            f"{p}: left by an interrupted write; the next `cronspec compile` cleans it up"
            if stat.S_ISDIR(os.lstat(p).st_mode)
            else _NOT_A_FOLDER.format(p)
            for p in _leftovers(out)
        )
    except OSError as exc:
        raise _fail(out_dir, exc, "read") from None
    finally:
        lock.release()
    return replace(result, notes=notes)


def write(
    out_dir: Path, files: Mapping[str, str], *, project_root: Path | None = None
) -> Comparison:
    """Make `out_dir` hold exactly `files` besides what cronspec did not write; return the change.

    Raises OutputError (nothing changed, nothing left behind) when that cannot be done.
    """
    out = _folder(out_dir, "write")
    created = not out.exists()
    lock = _Lock()
    done = False
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock.take(out)
        notes = _recover(out)
        plan = _compare(out, out_dir, files, "", with_diff=False)
        for name in plan.changed:
            if not _ours(out / name):
                raise OutputError(
                    f"cannot write {out_dir / name}: it exists and cronspec did not write it "
                    f"(no {MARKERS[0]!r} header); move it away"
                )
        if plan.stale:
            _probe(out)
            reason = _in_place_reason(out, project_root)
            failure = _swap(out, files, plan, lock) if reason is None else reason
            if reason is None and failure is not None:
                notes.append(f"{out_dir} was updated file by file: the swap failed ({failure})")
            if failure is not None:
                _write_in_place(out, files, plan)
        done = True
        return replace(plan, notes=tuple(notes))
    except OSError as exc:
        raise _fail(out_dir, exc) from None
    finally:
        lock.release()
        if created and not done:
            with contextlib.suppress(OSError):
                out.rmdir()


def create_new(root: Path, files: Mapping[str, str]) -> list[str]:
    """Create `files` under `root`; refuse (and create nothing) if any of them exists."""
    existing = sorted(name for name in files if (root / name).exists())
    if existing:
        raise FileExistsError(", ".join(existing))
    created: list[Path] = []
    try:
        for name in sorted(files):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8", newline="\n") as handle:
                created.append(path)
                handle.write(files[name])
    except OSError as exc:
        for path in created:
            path.unlink(missing_ok=True)
        raise _fail(root, exc) from None
    return sorted(files)


def add_files(out_dir: Path, files: Mapping[str, str], *, replace: bool = False) -> list[str]:
    """Write `files` into `out_dir` (specs that `cronspec import` makes), all or nothing, beside
    whatever the folder holds; return their names.

    An existing name is refused (FileExistsError, nothing written) unless `replace`. The write
    is the in-place one above: staged and fsynced, committed by its journal, then renamed into
    place; a run killed after the commit is finished by the next write, one killed before it
    is undone.
    """
    out = _folder(out_dir, "write")
    created = not out.exists()
    lock = _Lock()
    done = False
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock.take(out)
        _recover(out)
        entries = _entries(out)
        existing = sorted(name for name in files if name in entries)
        if existing and not replace:
            raise FileExistsError(errno.EEXIST, "exists", ", ".join(existing))
        for name in existing:
            if not stat.S_ISREG(entries[name].st_mode):
                raise OutputError(
                    f"cannot write {out_dir / name}: it is {_kind(entries[name].st_mode)}"
                )
        missing = tuple(sorted(n for n in files if n not in entries))
        if files:
            _probe(out)
            _write_in_place(out, files, Comparison(tuple(existing), missing, ()))
        done = True
        return sorted(files)
    except FileExistsError:
        raise
    except OSError as exc:
        raise _fail(out_dir, exc) from None
    finally:
        lock.release()
        if created and not done:
            with contextlib.suppress(OSError):
                out.rmdir()
