"""Files and folders that readers only ever see whole.

A file is written beside itself (``<name>.<id>.partial``) and renamed over the old one (``write_whole``). A folder
is ``<root>``, a symlink to one complete release in ``<root>.releases/``.

A build writes into a fresh ``.partial`` folder there; only when everything is written is it renamed and ``<root>``
pointed at it in one ``os.replace``. A build that raises (or is killed) leaves the previous release untouched;
what a killed build left behind is deleted by the next successful one. The release just replaced is kept, so a
reader that resolved the old link a moment ago still finds its files.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RELEASES_SUFFIX = ".releases"
PARTIAL = ".partial"


def write_whole(path: Path, data: bytes | str) -> None:
    """Replace ``path`` in one rename: a reader sees the old content or the new; a killed writer leaves a .partial."""
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}{PARTIAL}")
    partial.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(partial, path)


def link_or_copy(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` without copying its bytes (a hard link) when the file system allows it.
    Safe between releases because a released file is never written in place: a new version is a new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, target)


def releases_dir(root: Path) -> Path:
    """Where every release of ``root`` lives (beside it, so ``root`` itself can be one symlink)."""
    return root.with_name(root.name + RELEASES_SUFFIX)


@contextmanager
def new_release(root: Path) -> Iterator[Path]:
    """Yield an empty staging folder; when the block ends without an exception it becomes ``root``'s content."""
    root = Path(root)
    releases = releases_dir(root)
    releases.mkdir(parents=True, exist_ok=True)
    staging = releases / f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}{PARTIAL}"
    staging.mkdir()
    try:
        yield staging
        release = staging.with_name(staging.name.removesuffix(PARTIAL))
        staging.rename(release)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # nothing of this build is released; the previous release stays
        raise
    _swap(root, release)


def _swap(root: Path, release: Path) -> None:
    """Point ``root`` at ``release`` in one rename, then drop releases older than the one just replaced."""
    previous = root.resolve() if root.is_symlink() else None
    if root.exists() and not root.is_symlink():  # a folder from before releases were whole: keep it as a release
        previous = releases_dir(root) / f"legacy-{uuid.uuid4().hex[:8]}"
        root.rename(previous)
    tmp = root.with_name(f".{root.name}.{uuid.uuid4().hex}.tmp")
    tmp.symlink_to(Path(release.parent.name) / release.name)
    os.replace(tmp, root)
    keep = {release.resolve(), previous.resolve() if previous else None}
    for old in releases_dir(root).iterdir():
        if old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)  # older releases and builds killed before they finished
