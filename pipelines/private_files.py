"""Files only their owner can read: the warehouse holds people's names, emails and words.

The warehouse, its working copy, the run lock, dlt's local folder, dbt's work
folder and the docs page are created owner-only (files 0600, folders 0700),
whatever the umask, and a file that an earlier version (or another tool) left
readable by others is tightened on the next run, with one log line.

Three mechanisms, because files come from three places:

* **Files this project creates** (copies of the warehouse, dbt's profile, the
  docs page) are created owner-only from the start: `create_private_file`,
  `copy_private`, `write_private_text`, `ensure_private_dir`.
  (`shutil.copyfile` gives a new file the umask's mode, and `shutil.copy2` the
  source's; `os.replace` keeps the mode of the file renamed, so a staged copy
  must be private before it is renamed over the published file.)
* **Files libraries create** (DuckDB's database and `.wal` files, dlt's load
  packages and state, dbt's `target/` and `logs/`) take their mode from the
  process umask: `private_umask()` sets `077` for the duration of a command.
  The umask belongs to the whole process (every thread, every library), which
  is what an `atera-sync` command wants; a program that embeds `run_sync` keeps
  its own umask unless it enters `private_umask()` itself.
* **Files that exist already**, or that a library created under a permissive
  umask, are tightened afterwards: `tighten`, then `report_tightened` logs one
  line naming them.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger("atera_sync.files")

PRIVATE_UMASK = 0o077
"""Takes every permission from group and others."""
FILE_MODE = 0o600
DIR_MODE = 0o700
_NOT_OWNER = 0o077
"""The group and other permission bits."""
_SHOWN = 8
"""Entries the tightening log line names; it counts the rest."""


@contextmanager
def private_umask() -> Iterator[None]:
    """Create every file owner-only while inside; restore the previous umask after.

    A stricter umask is kept (its bits are added to `077`, never removed). The umask
    is process-wide: it applies to every thread while the block runs.
    """
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def ensure_private_dir(path: Path, *, tighten_existing: bool = True) -> None:
    """Create `path` and its missing parents as owner-only (0700) folders.

    Args:
        path: the folder.
        tighten_existing: when `path` exists already, take group and other
            permissions from it (not from its parents, which are not ours to change).
    """
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process: only tighten it
            pass
        else:
            folder.chmod(DIR_MODE)  # mkdir's mode goes through the umask
    if tighten_existing and not missing:
        tighten([path], recursive=False)


def create_private_file(path: Path) -> None:
    """Create `path` empty and owner-only, or truncate it and make it owner-only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        # an existing file keeps its mode on open: take group and other bits away
        os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & ~_NOT_OWNER)
    finally:
        os.close(fd)


def copy_private(source: Path, target: Path) -> None:
    """Copy a file's bytes to an owner-only `target` (0600), never readable by others.

    The target is created private before a byte is written, and a copy renamed
    over another file later (`os.replace`) keeps that mode.
    """
    create_private_file(target)
    shutil.copyfile(source, target)  # an existing target keeps its (private) mode


def write_private_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to an owner-only file."""
    create_private_file(path)
    path.write_text(text, encoding="utf-8")


def tighten(paths: Iterable[Path], *, recursive: bool = True) -> list[Path]:
    """Take group and other permissions from each path (and, for folders, all inside).

    Missing paths are skipped, and so are symbolic links (a link's target is not
    ours to change). A path this user cannot change is logged and skipped.

    Args:
        paths: files and folders.
        recursive: also tighten everything inside the folders given.

    Returns:
        The paths whose mode changed.
    """
    changed: list[Path] = []
    for path in paths:
        for entry in _entries(path, recursive):
            if _tighten_one(entry):
                changed.append(entry)
    return changed


def report_tightened(changed: list[Path], where: Path) -> None:
    """Log one line naming what `tighten` changed (nothing when nothing changed).

    Args:
        changed: the paths `tighten` returned.
        where: the folder the paths are named relative to; what changed inside one
            of its folders is counted under that folder's name.
    """
    if not changed:
        return
    counts: dict[str, int] = {}
    for path in changed:
        name = _top_level_name(path, where)
        counts[name] = counts.get(name, 0) + 1
    names = [name if count == 1 else f"{name} ({count})" for name, count in counts.items()]
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    logger.warning(
        "made %d file(s) and folder(s) in %s readable by their owner only (group or others "
        "could read them): %s%s",
        len(changed),
        where,
        ", ".join(names[:_SHOWN]),
        more,
    )


def warn_if_readable_secrets(path: Path) -> bool:
    """Warn (one line) when other users may read or change a secrets file, as ssh does for keys.

    Args:
        path: the secrets file, e.g. `.dlt/secrets.toml`; a missing file is fine.

    Returns:
        Whether it warned.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return False
    if mode & _NOT_OWNER == 0:
        return False
    logger.warning(
        "%s keeps secrets such as the Atera API key, but other users can access it "
        "(mode %04o): run `chmod 600 %s`",
        path,
        mode,
        path,
    )
    return True


def _entries(path: Path, recursive: bool) -> Iterator[Path]:
    """`path`, then (when recursive and a real folder) everything under it; no links."""
    if not os.path.lexists(path) or path.is_symlink():
        return
    yield path
    if not recursive or not path.is_dir():
        return
    for folder, dirs, files in os.walk(path, followlinks=False):
        for name in [*dirs, *files]:
            entry = Path(folder, name)
            if not entry.is_symlink():
                yield entry


def _tighten_one(path: Path) -> bool:
    """Remove group and other bits from one path; False when there were none (or it vanished)."""
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & _NOT_OWNER == 0:
            return False
        path.chmod(mode & ~_NOT_OWNER)
    except FileNotFoundError:  # removed meanwhile (e.g. a finished dlt job)
        return False
    except PermissionError as exc:
        logger.warning("cannot make %s private (it belongs to another user?): %s", path, exc)
        return False
    return True


def _top_level_name(path: Path, where: Path) -> str:
    """The name of the entry of `where` that holds `path` (folders end in `/`), else `path`."""
    try:
        top = where / path.relative_to(where).parts[0]
    except (ValueError, IndexError):
        top = path
    name = top.name if top.parent == where else str(top)
    return f"{name}/" if top.is_dir() else name
