"""unlock-stale (what `make smoke` / `make paper` run first): nothing without lock files,
unlock when the lock is stale, never under a live Snakemake process in the folder."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from earlyphase.operations.workflow_lock import live_snakemake, unlock_stale

# A stand-in for `snakemake`: records the arguments it was called with.
RECORDER = [sys.executable, "-c", "import sys; open('called', 'w').write(' '.join(sys.argv[1:]))"]


def _lock(workdir):
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("figures/table1.tex\n")


def test_without_locks_nothing_runs(tmp_path):
    assert unlock_stale(RECORDER, tmp_path, out=io.StringIO()) == 0
    assert not (tmp_path / "called").exists()


def test_a_stale_lock_is_unlocked_with_the_same_command(tmp_path):
    _lock(tmp_path)
    out = io.StringIO()
    assert unlock_stale([*RECORDER, "figures/table1.tex"], tmp_path, out=out) == 0
    assert (tmp_path / "called").read_text() == "figures/table1.tex --unlock"
    assert "no live Snakemake process" in out.getvalue()


def _wait_until_running(pid: int, program: str, timeout_s: float = 30.0) -> None:
    """Until ``pid`` runs ``program`` (its shell's command line names it) and its cwd is readable."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if program in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                os.readlink(f"/proc/{pid}/cwd")
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} did not start {program} within {timeout_s} s")


def test_a_live_snakemake_in_the_folder_keeps_its_lock(tmp_path):
    _lock(tmp_path)
    fake = tmp_path / "bin" / "snakemake"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsleep 60\n")
    fake.chmod(0o755)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    here = subprocess.Popen([str(fake), "--cores", "1"], cwd=tmp_path)
    other = subprocess.Popen([str(fake)], cwd=elsewhere)
    try:
        for process in (here, other):  # a process caught mid-exec has no readable cwd yet
            _wait_until_running(process.pid, str(fake))
        assert live_snakemake(tmp_path) == [here.pid]
        out = io.StringIO()
        assert unlock_stale(RECORDER, tmp_path, out=out) == 0
        assert not (tmp_path / "called").exists() and f"pid {here.pid}" in out.getvalue()
    finally:
        for proc in (here, other):
            proc.kill()
            proc.wait()
    assert live_snakemake(tmp_path) == []
