"""GPUs for jobs on a multi-GPU machine: a pool of lock files, K slots per device.

Snakemake counts a ``gpu`` resource but never says *which* device a job should use, so
two training jobs started side by side on a 4-GPU workstation would both land on
``cuda:0``. The train and evaluate commands therefore claim a device from this pool:

- ``K`` slots per visible device (``$EARLYPHASE_GPU_SLOTS``, default 1; the workflow sets
  it from ``gpu_slots``, see workflow/profiles/gpu-slots): a training step at batch 128 on
  32x32 images leaves most of an H100 idle, so several runs may share one;
- one lock file per slot, ``<lock dir>/gpu-<id>.lock`` for slot 0 and
  ``gpu-<id>.slot<j>.lock`` for slot j; a job holds an exclusive ``fcntl.flock`` on the file
  of its slot for as long as it runs. The kernel drops the lock when the process exits for
  any reason (SIGKILL and out-of-memory kills included), so a crashed job never leaves a
  slot claimed;
- slots are handed out breadth first: slot 0 of every device, then slot 1 of every
  device, ..., so jobs spread over the GPUs before they double up;
- the pool applies when the job may pick a device (``--device auto`` or ``cuda``) and a
  device is visible, one GPU included: on a one-GPU workstation its K slots are what keeps
  the K+1-th GPU job waiting when Snakemake runs without ``--resources gpu=K``. Under SLURM
  (``$SLURM_JOB_ID`` set) with one visible device, the scheduler already gave the job its
  device (or its shard of one) and nothing happens here;
- ``<id>`` is the device's entry of ``CUDA_VISIBLE_DEVICES`` (index or UUID) when that lists
  several devices, else the CUDA ordinal; two workflows on one machine that see the same
  devices therefore share the pool;
- the lock directory is ``$EARLYPHASE_GPU_LOCKS``, by default
  ``<tmp>/earlyphase-gpu-locks-<uid>`` (one per user and machine, not per workflow folder,
  so that two checkouts on one machine do not hand out the same device);
- when every slot is taken, the job waits for one to free up (a line in its log says so).
  Tell Snakemake how many slots there are (``--resources gpu=K*N`` for N GPUs) and it never
  starts more GPU jobs than slots, so nobody waits.
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
SLOTS_ENV = "EARLYPHASE_GPU_SLOTS"


def slots_per_device(env: Mapping[str, str] | None = None) -> int:
    """K, the number of jobs that may share one device (``$EARLYPHASE_GPU_SLOTS``, default 1)."""
    env = os.environ if env is None else env
    text = env.get(SLOTS_ENV, "").strip() or "1"
    try:
        slots = int(text)
    except ValueError:
        slots = 0
    if slots < 1:
        raise ValueError(f"${SLOTS_ENV} must be a positive integer (jobs per GPU), got {text!r}")
    return slots


def lock_name(device_id: str, slot: int) -> str:
    return f"gpu-{device_id}.lock" if slot == 0 else f"gpu-{device_id}.slot{slot}.lock"


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


def scheduler_assigned(env: Mapping[str, str] | None = None) -> bool:
    """True inside a SLURM job, whose visible devices the scheduler chose for it."""
    env = os.environ if env is None else env
    return bool(env.get("SLURM_JOB_ID"))


@dataclass
class Claim:
    """A held slot of a device: ``ordinal`` is the index to use in ``cuda:<ordinal>``."""

    ordinal: int
    device_id: str
    handle: object
    slot: int = 0

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
          wait: bool = True, poll_s: float = 1.0, slots: int | None = None) -> Claim | None:
    """Lock the first free slot of ``device_count`` devices (``slots`` each, default
    :func:`slots_per_device`); None when there is no device to choose.

    With ``wait=False`` a fully taken pool raises :class:`TimeoutError` instead of waiting.
    """
    ids = visible_device_ids(device_count, env)
    if not ids or (len(ids) == 1 and scheduler_assigned(env)):
        return None  # no GPU, or the one the scheduler gave this job: nothing to share out
    slots = slots_per_device(env) if slots is None else slots
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir(env)
    lock_dir.mkdir(parents=True, exist_ok=True)
    each = f" ({slots} slots each)" if slots > 1 else ""
    announced = False
    while True:
        for slot in range(slots):
            for ordinal, device_id in enumerate(ids):
                handle = _try_lock(lock_dir / lock_name(device_id, slot))
                if handle is not None:
                    return Claim(ordinal, device_id, handle, slot)
        if not wait:
            raise TimeoutError(f"all {len(ids)} GPUs are claimed{each} by other jobs "
                               f"(locks in {lock_dir})")
        if not announced:
            print(f"earlyphase: all {len(ids)} GPUs are busy{each} (locks in {lock_dir}); "
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
        print(f"earlyphase: using GPU {held.device_id} (cuda:{held.ordinal}, slot {held.slot}) "
              "from the pool", file=sys.stderr, flush=True)
        yield f"cuda:{held.ordinal}"
    finally:
        held.release()
