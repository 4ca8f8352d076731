"""One GPU per job on a multi-GPU machine: a pool of lock files.

Snakemake counts a ``gpu`` resource but never says *which* device a job should use, so
two training jobs started side by side on a 4-GPU workstation would both land on
``cuda:0``. The train and evaluate commands therefore claim a device from this pool:

- one lock file per visible device, ``<lock dir>/gpu-<id>.lock``; a job holds an exclusive
  ``fcntl.flock`` on the file of its device for as long as it runs. The kernel drops the
  lock when the process exits for any reason (SIGKILL and out-of-memory kills included),
  so a crashed job never leaves a device claimed;
- the pool applies only when the job may pick a device (``--device auto`` or ``cuda``)
  and more than one device is visible. Under SLURM, ``CUDA_VISIBLE_DEVICES`` already names
  the single device the scheduler gave the job, and nothing happens here;
- ``<id>`` is the device's entry of ``CUDA_VISIBLE_DEVICES`` (index or UUID) when that lists
  several devices, else the CUDA ordinal; two workflows on one machine that see the same
  devices therefore share the pool;
- the lock directory is ``$EARLYPHASE_GPU_LOCKS``, by default
  ``<tmp>/earlyphase-gpu-locks-<uid>`` (one per user and machine, not per workflow folder,
  so that two checkouts on one machine do not hand out the same device);
- when every device is taken, the job waits for one to free up (a line in its log says so).
  Tell Snakemake how many GPUs there are (``--resources gpu=N``) and it never starts more
  GPU jobs than devices, so nobody waits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

LOCK_DIR_ENV = "EARLYPHASE_GPU_LOCKS"


def default_lock_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(LOCK_DIR_ENV):
        return Path(env[LOCK_DIR_ENV])
    return Path(tempfile.gettempdir()) / f"earlyphase-gpu-locks-{os.getuid()}"


def visible_device_ids(device_count: int, env: Mapping[str, str] | None = None) -> list[str]:
    """Lock names of the ``device_count`` devices this process sees, in CUDA ordinal order."""
    env = os.environ if env is None else env
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return [str(i) for i in range(device_count)]
    ids = [item.strip() for item in listed.split(",") if item.strip()]
    return ids[:device_count]


@dataclass
class Claim:
    """A held device: ``ordinal`` is the index to use in ``cuda:<ordinal>``."""

    ordinal: int
    device_id: str
    handle: object

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file drops the flock
            self.handle = None


def _try_lock(path: Path):
    handle = open(path, "a+")  # noqa: SIM115 - held open for the job's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def claim(device_count: int, *, env: Mapping[str, str] | None = None, lock_dir: Path | None = None,
          wait: bool = True, poll_s: float = 1.0) -> Claim | None:
    """Lock the first free device of ``device_count``; None when there is nothing to choose.

    With ``wait=False`` a fully taken pool raises :class:`TimeoutError` instead of waiting.
    """
    ids = visible_device_ids(device_count, env)
    if len(ids) <= 1:
        return None  # no GPU, or exactly one (SLURM gave us ours): nothing to choose
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir(env)
    lock_dir.mkdir(parents=True, exist_ok=True)
    announced = False
    while True:
        for ordinal, device_id in enumerate(ids):
            handle = _try_lock(lock_dir / f"gpu-{device_id}.lock")
            if handle is not None:
                return Claim(ordinal, device_id, handle)
        if not wait:
            raise TimeoutError(f"all {len(ids)} GPUs are claimed by other jobs "
                               f"(locks in {lock_dir})")
        if not announced:
            print(f"earlyphase: all {len(ids)} GPUs are busy (locks in {lock_dir}); "
                  "waiting for one", file=sys.stderr, flush=True)
            announced = True
        time.sleep(poll_s)


def _cuda_device_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@contextlib.contextmanager
def claimed_device(requested: str = "auto", *, device_count: int | None = None,
                   env: Mapping[str, str] | None = None,
                   lock_dir: Path | None = None) -> Iterator[str]:
    """The device string a job should use, holding its GPU's lock for the block.

    ``requested`` other than ``auto``/``cuda`` (``cpu``, ``cuda:1``) is used as given.
    """
    if requested not in ("auto", "cuda"):
        yield requested
        return
    count = _cuda_device_count() if device_count is None else device_count
    held = claim(count, env=env, lock_dir=lock_dir)
    if held is None:
        yield requested
        return
    try:
        print(f"earlyphase: using GPU {held.device_id} (cuda:{held.ordinal}) from the pool",
              file=sys.stderr, flush=True)
        yield f"cuda:{held.ordinal}"
    finally:
        held.release()
