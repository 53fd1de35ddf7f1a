"""The writer's staging folders: the swap beside the output folder, the journal of a write in
place, and the recovery of what an interrupted write left.

Private to `cronspec.output`, whose docstring says how they combine."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from ._disk import (
    _LEGACY,
    _NOT_A_FOLDER,
    JOURNAL,
    RENAME_EXCHANGE,
    TEMP_PREFIX,
    Comparison,
    OutputError,
    _entries,
    _fsync_dir,
    _isdir,
    _Lock,
    _lstat,
    _move_new,
    _ours,
    _renameat2,
    _renameat2_fn,
    _same,
    _step,
    _write_file,
)


def _leftovers(out: Path) -> list[Path]:
    """Staging folders an interrupted write left: ours (parent's and in-place) and older ones'."""
    found = [p for p in (out / TEMP_PREFIX, out.parent / f"{TEMP_PREFIX}-{out.name}") if _lstat(p)]
    try:
        with os.scandir(out.parent) as it:
            legacy = [e.name for e in it if (m := _LEGACY.fullmatch(e.name)) and m[1] == out.name]
    except OSError:
        legacy = []
    return found + [out.parent / name for name in sorted(legacy)]


_EMPTY_ROUNDS = 1000  # rounds of emptying an old folder that another program keeps saving into


def _empty_into(
    staging: Path, out: Path, linked: Mapping[str, os.stat_result] | None = None
) -> list[str]:
    """Empty one of our staging folders into `out` and remove it; return what was put back.

    Second links of what `out` holds and cronspec's own files are dropped; everything else goes
    back into `out`. After a swap (`linked`: what was linked over), a non-folder another program
    saved meanwhile under a name `out` has too is settled by time: saved into the old folder
    (`out` still has our link) it replaces that link, else `out` has the later save. Any other
    entry whose name `out` has taken again stays, and is named (OutputError).
    """
    if not os.access(staging, os.W_OK | os.X_OK):
        os.chmod(staging, 0o700)  # an earlier version left read-only ones
    moved: list[str] = []
    # Another program may still be saving into the old folder while it is emptied: go round
    # again until the folder can be removed (a save after that fails in that program).
    for _ in range(_EMPTY_ROUNDS):
        kept = []
        for name, st in sorted(_entries(staging).items()):
            src, there = staging / name, _lstat(out / name)
            if _same(st, there) or _ours(src) or _torn(st, out / name):
                os.unlink(src)
            elif there is None:
                _move_new(src, out / name)
                moved.append(name)
            elif linked is not None and not _isdir(st, there):
                if name in linked and _same(linked[name], there):
                    os.replace(src, out / name)
                else:
                    os.unlink(src)
            else:
                kept.append(name)
            _step()
        if kept:
            raise OutputError(
                f"{staging} holds {', '.join(kept)} from an interrupted write, and {out} has "
                "entries of the same names: compare them, keep one, and delete the folder"
            )
        try:
            os.rmdir(staging)
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                raise
            continue
        _step()
        return moved
    raise OutputError(f"{staging}: another program keeps writing into it; stop it and run again")


def _torn(st: os.stat_result, there: Path) -> bool:
    """A file of ours that a kill cut short while it was written into the staging folder: too
    short to hold cronspec's header, one link only, under a name whose file in the output folder
    is cronspec's. (A killed write can leave it empty: the file exists from its open.)"""
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size < 200 and _ours(there)


def _finish_in_place(staging: Path, out: Path) -> bool:
    """Roll an in-place write forward if its journal was committed, else drop it; True if done."""
    try:
        intent = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
        replaced, deleted = list(intent["replace"]), list(intent["delete"])
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(staging)
        return False
    for name in replaced:
        if "/" not in name and not name.startswith(".") and _lstat(staging / name):
            os.replace(staging / name, out / name)
            _step()
    for name in deleted:
        if "/" not in name and _ours(out / name):
            os.unlink(out / name)
            _step()
    _fsync_dir(out)
    shutil.rmtree(staging)
    _step()
    return True


def _recover(out: Path) -> list[str]:
    notes = []
    for path in _leftovers(out):
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            notes.append(_NOT_A_FOLDER.format(path))
        elif path.parent == out:
            done = _finish_in_place(path, out)
            notes.append(f"{'finished' if done else 'undid'} an interrupted write of {out}")
        else:
            moved = _empty_into(path, out)
            back = f" (put back: {', '.join(moved)})" if moved else ""
            notes.append(f"cleaned up after an interrupted write of {out}{back}")
    return notes


def _in_place_reason(out: Path, project_root: Path | None) -> str | None:
    """Why the folder must be updated in place (None: the swap is possible)."""
    if _renameat2_fn() is None:
        return "no renameat2"
    for inside in (project_root, os.environ.get("PWD")):  # a swap would strand a shell's cwd
        real = Path(os.path.realpath(inside)) if inside else None
        if real is not None and (real == out or out in real.parents):
            return "the output folder holds the project or the current folder"
    st = os.stat(out)
    if os.path.ismount(out) or st.st_uid != os.geteuid():
        return "a mount point or another user's folder"
    try:  # ACLs and other attributes would not move to a new folder; labels are inherited
        if any(not a.startswith("security.") for a in os.listxattr(out)):
            return "extended attributes"
    except OSError:
        pass
    return None


def _swap(out: Path, files: Mapping[str, str], plan: Comparison, lock: _Lock) -> str | None:
    """Build the new folder beside `out` and exchange them; the reason if that is not possible."""
    staging = out.parent / f"{TEMP_PREFIX}-{out.name}"
    try:
        os.mkdir(staging, 0o700)
    except OSError as exc:
        return exc.strerror or str(exc)
    _step()
    try:
        lock.take(staging, recheck=False)
        st = os.stat(out)
        if os.stat(staging).st_gid != st.st_gid:
            os.chown(staging, -1, st.st_gid)
        for name in (*plan.changed, *plan.missing):
            _write_file(staging / name, files[name])
            _step()
        folders, linked = [], {}
        for name, entry in _entries(out).items():
            if name in plan.changed or name in plan.extra:
                continue
            if stat.S_ISDIR(entry.st_mode):
                folders.append(name)
                continue
            try:
                os.link(out / name, staging / name, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile by another program
            linked[name] = os.lstat(staging / name)  # what was linked, maybe newer than `entry`
            _step()
        os.chmod(staging, stat.S_IMODE(st.st_mode))
        _fsync_dir(staging)
        for name in sorted(folders):  # from here until the exchange they are in staging/ only
            _move_new(out / name, staging / name)
            _step()
        _renameat2(staging, out, RENAME_EXCHANGE)
        _step()
    except BaseException as exc:
        _empty_into(staging, out)  # put back what moved, drop the rest
        if isinstance(exc, OSError):
            return exc.strerror or str(exc)
        raise
    _empty_into(staging, out, linked)  # the old folder: old files go, late arrivals move over
    _fsync_dir(out.parent)
    return None


def _write_in_place(out: Path, files: Mapping[str, str], plan: Comparison) -> None:
    staging = out / TEMP_PREFIX
    os.mkdir(staging, 0o700)
    _step()
    try:
        for name in (*plan.changed, *plan.missing):
            _write_file(staging / name, files[name])
            _step()
        intent = {"replace": [*plan.changed, *plan.missing], "delete": list(plan.extra)}
        _write_file(staging / f"{JOURNAL}.tmp", json.dumps(intent))
        os.rename(staging / f"{JOURNAL}.tmp", staging / JOURNAL)  # the commit point
        _fsync_dir(staging)
        _step()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not _finish_in_place(staging, out):
        raise OSError(errno.EIO, "the journal just written cannot be read back", str(staging))


def _probe(out: Path) -> None:
    """Fail now, with the system's reason, if we may not write in `out` (a swap would not ask)."""
    probe = out / TEMP_PREFIX
    if _lstat(probe) is None:
        try:
            os.mkdir(probe, 0o700)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(out)) from None
        os.rmdir(probe)
    elif not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out))
