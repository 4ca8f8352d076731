"""The GPU pool hands concurrent jobs distinct devices, or K slots per device (fake device
counts, no GPU needed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from earlyphase.operations.gpu_pool import claim, claimed_device, default_lock_dir, slots_per_device, visible_device_ids

from .helpers import HANG_GUARD_S, child_env

HOLDER = """
import sys, time, pathlib
from earlyphase.operations.gpu_pool import claimed_device
with claimed_device("auto", device_count=int(sys.argv[1]), lock_dir=pathlib.Path(sys.argv[2])) as device:
    print(device, flush=True)
    while not pathlib.Path(sys.argv[3]).exists():
        time.sleep(0.05)
"""


def _holder(count: int, lock_dir, release, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOLDER, str(count), str(lock_dir), str(release)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or child_env())


def test_two_concurrent_processes_get_different_devices(tmp_path):
    release = tmp_path / "release"
    env = child_env()
    del env["CUDA_VISIBLE_DEVICES"]  # the pool applies: not restricted to one device
    first = _holder(2, tmp_path / "locks", release, env)
    second = _holder(2, tmp_path / "locks", release, env)
    try:
        first_device, second_device = first.stdout.readline().strip(), second.stdout.readline().strip()
        assert {first_device, second_device} == {"cuda:0", "cuda:1"}
        # With both held, a third claim finds the pool full.
        with pytest.raises(TimeoutError, match="all 2 GPUs are claimed"):
            claim(2, env={}, lock_dir=tmp_path / "locks", wait=False)
        # A killed holder frees its device at once (the kernel drops the flock).
        second.send_signal(signal.SIGKILL)
        second.wait(HANG_GUARD_S)
        freed = claim(2, env={}, lock_dir=tmp_path / "locks", wait=False)
        assert f"cuda:{freed.ordinal}" == second_device
        freed.release()
    finally:
        release.touch()
        for proc in (first, second):
            proc.wait(HANG_GUARD_S)
    assert first.returncode == 0, first.stderr.read()


def test_claims_in_one_process_are_distinct_and_released(tmp_path):
    held = [claim(3, env={}, lock_dir=tmp_path) for _ in range(3)]
    assert sorted(c.ordinal for c in held) == [0, 1, 2]
    with pytest.raises(TimeoutError):
        claim(3, env={}, lock_dir=tmp_path, wait=False)
    held[1].release()
    again = claim(3, env={}, lock_dir=tmp_path, wait=False)
    assert again.ordinal == held[1].ordinal
    assert (tmp_path / f"gpu-{again.device_id}.lock").read_text().strip() == str(os.getpid())


def test_a_waiting_job_gets_the_device_freed_by_another(tmp_path):
    release = tmp_path / "release"
    env = child_env()
    del env["CUDA_VISIBLE_DEVICES"]
    blockers = [claim(2, env={}, lock_dir=tmp_path / "locks") for _ in range(2)]
    waiter = _holder(2, tmp_path / "locks", release, env)
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        line = ""
        while "busy" not in line and time.monotonic() < deadline:
            line = waiter.stderr.readline()
        assert "all 2 GPUs are busy" in line
        blockers[1].release()
        assert waiter.stdout.readline().strip() == f"cuda:{blockers[1].ordinal}"
    finally:
        release.touch()
        waiter.wait(HANG_GUARD_S)
        blockers[0].release()


@pytest.mark.parametrize(("visible", "count", "ids"), [
    (None, 3, ["0", "1", "2"]),        # nothing set: CUDA ordinals
    ("2,5", 2, ["2", "5"]),            # a restricted set: lock by physical id
    ("GPU-aa,GPU-bb", 2, ["GPU-aa", "GPU-bb"]),
    ("3", 1, ["3"]),                   # SLURM gave exactly one
    ("", 0, []),                       # explicitly no GPU
])
def test_visible_device_ids(visible, count, ids):
    env = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    assert visible_device_ids(count, env) == ids


def test_pool_stays_out_of_the_way_when_there_is_nothing_to_choose(tmp_path):
    lock_dir = tmp_path / "locks"
    # One device assigned by the scheduler, no GPU at all, or an explicit device: no locking.
    assert claim(1, env={"CUDA_VISIBLE_DEVICES": "3", "SLURM_JOB_ID": "42"}, lock_dir=lock_dir) is None
    assert claim(0, env={}, lock_dir=lock_dir) is None
    with claimed_device("cuda:1", device_count=4, lock_dir=lock_dir) as device:
        assert device == "cuda:1"
    with claimed_device("cpu", device_count=4, lock_dir=lock_dir) as device:
        assert device == "cpu"
    with claimed_device("auto", device_count=4, env={"CUDA_VISIBLE_DEVICES": "7", "SLURM_JOB_ID": "42"},
                        lock_dir=lock_dir) as device:
        assert device == "auto"
    assert not lock_dir.exists()
    # Several devices: the block holds one, and releases it on exit.
    with claimed_device("auto", device_count=2, env={}, lock_dir=lock_dir) as device:
        assert device == "cuda:0"
        other = claim(2, env={}, lock_dir=lock_dir, wait=False)
        assert other.ordinal == 1
    again = claim(2, env={}, lock_dir=lock_dir, wait=False)
    assert again.ordinal == 0
    other.release()
    again.release()


def test_one_gpu_outside_a_scheduler_is_shared_through_its_slots(tmp_path):
    # A one-GPU workstation: K = 2 slots, the third GPU job finds the pool full (and waits).
    env = {"EARLYPHASE_GPU_SLOTS": "2"}
    held = [claim(1, env=env, lock_dir=tmp_path, wait=False) for _ in range(2)]
    assert [(c.ordinal, c.slot) for c in held] == [(0, 0), (0, 1)]
    with pytest.raises(TimeoutError, match=r"all 1 GPUs are claimed \(2 slots each\)"):
        claim(1, env=env, lock_dir=tmp_path, wait=False)
    with claimed_device("cuda", device_count=1, env={}, lock_dir=tmp_path / "one") as device:
        assert device == "cuda:0" and (tmp_path / "one" / "gpu-0.lock").exists()
    for c in held:
        c.release()


def test_lock_dir_from_the_environment(tmp_path):
    assert default_lock_dir({"EARLYPHASE_GPU_LOCKS": str(tmp_path)}) == tmp_path
    assert default_lock_dir({}).name == f"earlyphase-gpu-locks-{os.getuid()}"


SLOT_HOLDER = """
import sys, time, pathlib
from earlyphase.operations.gpu_pool import claim
held = claim(int(sys.argv[1]), lock_dir=pathlib.Path(sys.argv[2]))
print(held.ordinal, held.slot, flush=True)
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.05)
"""


def test_k_slots_per_device_and_killed_holders_free_theirs(tmp_path):
    release, locks = tmp_path / "release", tmp_path / "locks"
    env = child_env(EARLYPHASE_GPU_SLOTS="2")
    del env["CUDA_VISIBLE_DEVICES"]
    holders = []
    try:
        for _ in range(4):
            holders.append(subprocess.Popen([sys.executable, "-c", SLOT_HOLDER, "2", str(locks), str(release)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
        got = [tuple(int(v) for v in h.stdout.readline().split()) for h in holders]
        assert sorted(got) == [(0, 0), (0, 1), (1, 0), (1, 1)]  # K = 2 slots on each of 2 devices
        with pytest.raises(TimeoutError, match=r"all 2 GPUs are claimed \(2 slots each\)"):
            claim(2, env={"EARLYPHASE_GPU_SLOTS": "2"}, lock_dir=locks, wait=False)
        victim = got.index((1, 1))
        holders[victim].send_signal(signal.SIGKILL)  # the kernel drops its flock at once
        holders[victim].wait(HANG_GUARD_S)
        freed = claim(2, env={"EARLYPHASE_GPU_SLOTS": "2"}, lock_dir=locks, wait=False)
        assert (freed.ordinal, freed.slot) == (1, 1)
        assert (locks / "gpu-1.slot1.lock").read_text().strip() == str(os.getpid())
        freed.release()
    finally:
        release.touch()
        for proc in holders:
            proc.wait(HANG_GUARD_S)


def test_slots_are_handed_out_breadth_first_and_validated(tmp_path):
    held = [claim(3, env={}, lock_dir=tmp_path, slots=2, wait=False) for _ in range(6)]
    assert [(c.ordinal, c.slot) for c in held] == [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gpu-0.lock", "gpu-0.slot1.lock", "gpu-1.lock", "gpu-1.slot1.lock", "gpu-2.lock", "gpu-2.slot1.lock"]
    for c in held:
        c.release()
    assert slots_per_device({}) == 1 and slots_per_device({"EARLYPHASE_GPU_SLOTS": "4"}) == 4
    for bad in ("0", "two", "-1"):
        with pytest.raises(ValueError, match="EARLYPHASE_GPU_SLOTS"):
            slots_per_device({"EARLYPHASE_GPU_SLOTS": bad})
