"""Verified, resumable downloads.

``fetch`` streams a URL into ``<dest>.part`` with a tqdm progress bar, resumes an existing
``.part`` with an HTTP Range request (or restarts when the server ignores ranges), retries
with exponential back-off, and renames to ``dest`` only after the md5/sha256 matches. A
file whose checksum does not match is moved aside to ``<dest>.bad`` and
:class:`ChecksumError` is raised. A file already at ``dest`` (for example one downloaded
by hand) is verified and used without any network access.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from .errors import ChecksumError, DownloadError

CHUNK_BYTES = 1 << 20


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of ``path`` with hashlib ``algorithm`` ("md5" or "sha256")."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, md5: str | None = None, sha256: str | None = None) -> bool:
    """True when every given checksum matches (sha256 is checked first when given)."""
    if md5 is None and sha256 is None:
        raise ValueError("at least one checksum is required")
    if sha256 is not None and file_digest(path, "sha256") != sha256.lower():
        return False
    if md5 is not None and file_digest(path, "md5") != md5.lower():
        return False
    return True


def quarantine(path: Path, dest: Path | None = None) -> Path:
    """Move a file that failed verification to ``<dest name>.bad`` (replacing an older one)."""
    dest = path if dest is None else dest
    bad = dest.with_name(dest.name + ".bad")
    os.replace(path, bad)
    return bad


def _checksum_text(md5, sha256) -> str:
    parts = [f"md5 {md5}"] if md5 else []
    if sha256:
        parts.append(f"sha256 {sha256}")
    return ", ".join(parts)


def _manual_hint(url: str, dest: Path, md5, sha256) -> str:
    return (
        f"Download {url} by other means ({_checksum_text(md5, sha256)}) and place it at "
        f"{dest}; it will be verified and used."
    )


class _Incomplete(Exception):
    pass


def _transfer(url: str, part: Path, timeout: float, progress: bool, expected: int | None):
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "earlyphase-data/0.1"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range beyond the end: the .part is complete or wrong
            return
        raise
    with resp:
        if offset and resp.status == 206:
            content_range = resp.headers.get("Content-Range", "")
            if not content_range.startswith(f"bytes {offset}-"):
                raise _Incomplete(f"unexpected Content-Range {content_range!r}")
            mode = "ab"
        else:  # 200: full body (server ignored the range) -> restart
            offset, mode = 0, "wb"
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length is not None else expected
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                desc=part.name.removesuffix(".part"),
                leave=False,
            )
        written = offset
        try:
            with open(part, mode) as fh:
                while True:
                    block = resp.read(CHUNK_BYTES)
                    if not block:
                        break
                    fh.write(block)
                    written += len(block)
                    if bar:
                        bar.update(len(block))
        finally:
            if bar:
                bar.close()
        if total is not None and written < total:
            raise _Incomplete(f"connection closed after {written} of {total} bytes")


def fetch(
    url: str,
    dest: Path,
    md5: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    retries: int = 5,
    backoff: float = 2.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Make ``dest`` a verified copy of ``url`` and return it (see module docstring)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        if verify(dest, md5, sha256):
            return dest
        bad = quarantine(dest)
        raise ChecksumError(
            f"{dest} does not match its published checksum ({_checksum_text(md5, sha256)}); "
            f"moved it to {bad}. Delete it and rerun to download again, or "
            + _manual_hint(url, dest, md5, sha256)
        )
    part = dest.with_name(dest.name + ".part")
    last_error: Exception | None = None
    for attempt in range(max(1, retries)):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _transfer(url, part, timeout, progress, size)
            last_error = None
            break
        except urllib.error.HTTPError as exc:
            last_error = exc
            if exc.code < 500 and exc.code not in (408, 429):
                break  # 404 and friends will not get better
        except (urllib.error.URLError, http.client.HTTPException, OSError, _Incomplete) as exc:
            last_error = exc
    if last_error is not None or not part.exists():
        raise DownloadError(
            f"could not download {dest.name} from {url} after {max(1, retries)} attempt(s): "
            f"{last_error}. "
            + _manual_hint(url, dest, md5, sha256)
            + (
                f" A partial download is kept at {part} and will be resumed."
                if part.exists()
                else ""
            )
        )
    if not verify(part, md5, sha256):
        bad = quarantine(part, dest)
        raise ChecksumError(
            f"download of {url} does not match its published checksum "
            f"({_checksum_text(md5, sha256)}); moved it to {bad} and did not use it. "
            "Rerun to try again (a mirror may serve a different file)."
        )
    os.replace(part, dest)
    return dest
