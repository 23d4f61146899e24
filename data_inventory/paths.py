"""Where an inventory location may point, and which files of a drop folder may be read.

* ``path_escape(value)``: why a location (a path, a ``sqlite:///`` URL or a file glob) reaches outside the data
  roots, or None. Relative paths resolve inside the data directory, so they may not climb out of it (``..``) or
  start at the home or root folder; an absolute path is allowed only under a root listed in
  ``$CITYSTAT_DATA_ROOTS`` (``os.pathsep``-separated).
* ``env_location_escape(value, data_dir)``: why a location an environment variable gives (a drop folder, a
  database file or a ``sqlite:///`` URL) lies outside the data directory and the ``$CITYSTAT_DATA_ROOTS``, or None.
  An operator's variable overrides the inventory's default, so it is held to the same roots.
* ``files_in_folder(folder, pattern)``: the regular files matching a glob whose real path stays inside the
  folder's real path. A symlink (or a linked sub-folder) that leads out of the folder is never followed; the
  problems name the link and where it leads, never anything read from the target.
"""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

DATA_ROOTS_ENV = "CITYSTAT_DATA_ROOTS"
_SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(?P<path>.*)$", re.IGNORECASE)


def data_roots() -> list[Path]:
    """Extra folders (absolute) an inventory location may name, from $CITYSTAT_DATA_ROOTS."""
    return [Path(p).resolve() for p in os.environ.get(DATA_ROOTS_ENV, "").split(os.pathsep) if p.strip()]


def within(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True when `path`, with every symlink and ``..`` resolved, is `root` or lies under it."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return real == base or base in real.parents


def path_escape(value: str) -> str | None:
    """Why the location `value` points outside the data roots, or None when it stays inside."""
    match = _SQLITE_URL.match(value)
    if match:
        value = match.group("path").split("?", 1)[0]  # sqlite:////abs/path -> /abs/path
    elif "://" in value:
        return None  # a network URL: the credential rules apply, not the path rules
    if not value:
        return None
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if value.startswith("~"):
        return "starts at a home folder (~), outside the data roots"
    if ".." in posix.parts or ".." in windows.parts:
        return "climbs out of the data directory (..)"
    if posix.is_absolute() or windows.is_absolute() or windows.drive or value.startswith("\\"):
        if posix.is_absolute() and any(within(value, root) for root in data_roots()):
            return None
        return f"is an absolute path outside the data roots (relative paths resolve in the data directory; list other roots in ${DATA_ROOTS_ENV})"
    return None


def env_location_escape(value: str, data_dir: str | os.PathLike) -> str | None:
    """Why the location `value`, read from an environment variable, points outside `data_dir` and the data roots."""
    match = _SQLITE_URL.match(value)
    if match:
        value = match.group("path").split("?", 1)[0]
    elif "://" in value:
        return None  # a network URL: the credential rules apply, not the path rules
    if not value or value == ":memory:":
        return None
    path = Path(value).expanduser()  # a relative value is used from the working folder, so judged from there
    if within(path, data_dir) or any(within(path, root) for root in data_roots()):
        return None
    return (f"is outside the data directory {Path(data_dir)} (symlinks followed); list other roots in ${DATA_ROOTS_ENV}")


def files_in_folder(folder: str | os.PathLike, pattern: str) -> tuple[list[Path], list[str]]:
    """(files matching `pattern` that really live inside `folder`, a problem per match that leads outside it)."""
    folder = Path(folder)
    files, problems = [], []
    for path in sorted(folder.glob(pattern)):
        if not within(path, folder):
            what = "a symlink" if path.is_symlink() else "a path through a linked folder"
            problems.append(f"{path}: {what} that leads outside the drop folder {folder}; not read")
        elif path.is_file():
            files.append(path)
    return files, problems
