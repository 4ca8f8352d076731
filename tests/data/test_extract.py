"""Safe extraction refuses members that would land outside the destination."""

from __future__ import annotations

import pytest

from earlyphase.data.errors import UnsafeArchiveError
from earlyphase.data.extract import safe_extract


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_extracts_tar_and_zip(tmp_path, builders):
    members = {"top/a.txt": b"hello", "top/sub/b.txt": b"world"}
    for name, data in (
        ("x.tar", builders.tar_bytes(members)),
        ("x.zip", builders.zip_bytes(members)),
    ):
        out = tmp_path / name.replace(".", "_")
        safe_extract(_write(tmp_path, name, data), out)
        assert (out / "top/a.txt").read_bytes() == b"hello"
        assert (out / "top/sub/b.txt").read_bytes() == b"world"


@pytest.mark.parametrize("member", ["../evil.txt", "top/../../evil.txt", "/tmp/evil_abs.txt"])
@pytest.mark.parametrize("fmt", ["tar", "zip"])
def test_path_traversal_is_refused(tmp_path, builders, member, fmt):
    members = {"top/ok.txt": b"ok", member: b"evil"}
    data = builders.tar_bytes(members) if fmt == "tar" else builders.zip_bytes(members)
    out = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError):
        safe_extract(_write(tmp_path, f"x.{fmt}", data), out)
    assert not (tmp_path / "evil.txt").exists()
    assert not (out / "top" / "ok.txt").exists()  # nothing extracted at all


@pytest.mark.parametrize(
    "kind,target", [("sym", "../../outside"), ("sym", "/etc/passwd"), ("hard", "../outside")]
)
def test_links_pointing_outside_are_refused(tmp_path, builders, kind, target):
    data = builders.tar_bytes({"top/ok.txt": b"ok"}, links={"top/link": (kind, target)})
    with pytest.raises(UnsafeArchiveError, match="link"):
        safe_extract(_write(tmp_path, "x.tar", data), tmp_path / "out")


def test_internal_symlink_is_allowed(tmp_path, builders):
    data = builders.tar_bytes({"top/ok.txt": b"ok"}, links={"top/alias": ("sym", "ok.txt")})
    out = tmp_path / "out"
    safe_extract(_write(tmp_path, "x.tar", data), out)
    assert (out / "top/alias").read_bytes() == b"ok"


def test_non_archive_is_refused(tmp_path):
    with pytest.raises(UnsafeArchiveError, match="neither"):
        safe_extract(_write(tmp_path, "x.tar", b"plain bytes" * 100), tmp_path / "out")
