"""Recovery after a crash: unlock the workflow folder when, and only when, nothing holds it.

A Snakemake killed with SIGKILL (or a power loss) leaves its lock files in
``.snakemake/locks``, and the next run stops with ``LockException``. ``make smoke``,
``make paper`` and the other make targets call

    python -m earlyphase unlock-stale -- <the snakemake command they run>

first: without lock files it does nothing; with lock files it looks for a live Snakemake
process working in this folder and, if there is none, runs ``<command> --unlock``. Under a
live run it leaves the lock alone, so the make target then stops with Snakemake's own
message (two runs in one folder would corrupt each other). Unfinished jobs are handled by
the rerun itself: outputs are atomic, ``--rerun-incomplete`` reruns what was cut off, and
training resumes from its checkpoint.

Processes are checked on this machine (``/proc``). Where several hosts share the folder,
or ``/proc`` does not exist, the lock is left alone with a message saying how to unlock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROC = Path("/proc")


def lock_files(workdir: Path) -> list[Path]:
    locks = workdir / ".snakemake" / "locks"
    return sorted(locks.glob("*.lock")) if locks.is_dir() else []


def _ancestors() -> set[int]:
    """This process and its parents (make, the shell), which are not the Snakemake run."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            pid = int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def _is_snakemake(argv: list[str]) -> bool:
    names = [Path(arg).name for arg in argv[:3]]
    return "snakemake" in names or any(argv[i:i + 2] == ["-m", "snakemake"] for i in range(len(argv)))


def live_snakemake(workdir: Path) -> list[int]:
    """Pids of Snakemake processes whose working directory is ``workdir`` (or cannot be read)."""
    workdir = workdir.resolve()
    mine = _ancestors()
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # exited meanwhile
        if not _is_snakemake(argv):
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd")).resolve()
        except OSError:
            cwd = None  # someone else's process: it might be working here
        if cwd is None or cwd == workdir:
            found.append(int(entry.name))
    return sorted(found)


def unlock_stale(command: list[str], workdir: Path, out=sys.stderr) -> int:
    """Run ``command --unlock`` if ``workdir`` is locked by no live process; 0 unless unlocking failed."""
    locks = lock_files(workdir)
    if not locks:
        return 0
    if not PROC.is_dir():
        print(f"unlock-stale: {workdir} is locked and live processes cannot be listed here; if no "
              f"Snakemake runs in it, unlock with: {' '.join(command)} --unlock", file=out)
        return 0
    live = live_snakemake(workdir)
    if live:
        print(f"unlock-stale: Snakemake (pid {', '.join(map(str, live))}) is running in {workdir}; "
              "leaving its lock alone", file=out)
        return 0
    print(f"unlock-stale: {len(locks)} lock file(s) in {workdir}/.snakemake/locks and no live Snakemake "
          "process: a previous run was interrupted; unlocking", file=out)
    if not command:
        raise ValueError("unlock-stale: give the Snakemake command after --")
    return subprocess.run([*command, "--unlock"], cwd=workdir, stdout=subprocess.DEVNULL).returncode


def main(args) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return unlock_stale(command, Path(args.directory))
