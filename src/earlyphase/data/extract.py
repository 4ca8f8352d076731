"""Safe extraction of tar and zip archives.

Every member is checked before anything is written: absolute paths, ``..`` components,
paths that resolve outside the destination, links whose target lies outside it, and
device files are refused with :class:`UnsafeArchiveError`. Tar extraction additionally uses
Python's ``filter="data"`` where available.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from .errors import UnsafeArchiveError


def _check_name(name: str, dest: Path) -> Path:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path")
    if ".." in pure.parts:
        raise UnsafeArchiveError(f"archive member {name!r} escapes the destination ('..')")
    target = (dest / pure).resolve()
    if target != dest and dest not in target.parents:
        raise UnsafeArchiveError(f"archive member {name!r} resolves outside {dest}")
    return target


def _check_link(name: str, link: str, dest: Path, relative_to_member: bool) -> None:
    if os.path.isabs(link) or link.startswith(("/", "\\")):
        raise UnsafeArchiveError(f"link {name!r} -> {link!r} points to an absolute path")
    base = (dest / PurePosixPath(name)).parent if relative_to_member else dest
    target = Path(os.path.normpath(base / link))
    if target != dest and dest not in target.parents:
        raise UnsafeArchiveError(f"link {name!r} -> {link!r} points outside {dest}")


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for m in members:
            _check_name(m.name, dest)
            if m.issym():
                _check_link(m.name, m.linkname, dest, relative_to_member=True)
            elif m.islnk():
                _check_link(m.name, m.linkname, dest, relative_to_member=False)
            elif not (m.isfile() or m.isdir()):
                raise UnsafeArchiveError(f"archive member {m.name!r} is a device or fifo")
        if hasattr(tarfile, "data_filter"):
            tf.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            tf.extractall(dest, members=members)


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            _check_name(info.filename, dest)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchiveError(f"archive member {info.filename!r} is a symlink")
        for info in infos:
            zf.extract(info, dest)


def safe_extract(archive: Path, dest: Path) -> Path:
    """Extract a .tar(.gz/.bz2/.xz) or .zip ``archive`` into ``dest`` after checking it."""
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()
    if zipfile.is_zipfile(archive):
        _extract_zip(archive, dest)
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, dest)
    else:
        raise UnsafeArchiveError(f"{archive} is neither a tar nor a zip archive")
    return dest
