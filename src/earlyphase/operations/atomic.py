"""Atomic outputs: a file or folder appears under its final name only when complete.

An interrupted job therefore never leaves an output that looks finished; the temporary
names start with ``.partial-`` and are cleaned up (or overwritten) by the next attempt.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import torch


def _partial_name(path: Path) -> Path:
    return path.with_name(f".partial-{path.name}")


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_name(path)
    if partial.is_dir():
        shutil.rmtree(partial)
    elif partial.exists():
        partial.unlink()
    try:
        yield partial
    except BaseException:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()
        raise
    _fsync(partial)
    if path.is_dir() and partial.is_dir():
        # Move the old folder aside first, so the name never points at a half-deleted tree.
        old = path.with_name(f".old-{path.name}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(path, old)
        os.replace(partial, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(partial, path)


@contextlib.contextmanager
def atomic_dir(path: Path | str) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces ``path`` when the block succeeds."""
    with atomic_path(path) as partial:
        partial.mkdir()
        yield partial


def _fsync(path: Path) -> None:
    if path.is_file():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def write_json(path: Path | str, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_torch(path: Path | str, obj) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def write_parquet(path: Path | str, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
