"""Aggregate throughput of K training runs sharing one device (``--pack K``).

K processes (spawned on CUDA, as K jobs of the workflow would be) each build the Trainer of one
run on the same device, warm up, report ready and wait; when all are ready they start
together and time the same number of steps. The aggregate is every image trained divided
by the time from the first start to the last end (a conservative measure: a member that
finished early counts as idle). On CUDA each process has its own context; whether they
overlap or time-slice is the device's business (with MPS running they share the SMs).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time

import torch

HANG_GUARD_S = 900  # a member that never gets ready (build, compile) is a failure, not a hang
POLL_S = 1.0  # how often the parent looks at its members while it waits for their reports


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _member(index: int, spec: dict, ready, start, results) -> None:
    """One run of the pack (runs in a child process)."""
    try:
        from earlyphase.training.acceleration import configure_cuda

        from .fast_loop import build_trainer, trainer_step
        from .workloads import WORKLOADS

        torch.set_num_threads(spec["threads"])
        configure_cuda(deterministic=False)
        torch.backends.cudnn.benchmark = spec["cudnn_benchmark"]
        device = torch.device(spec["device"])
        if device.type == "cuda":
            torch.cuda.set_device(device)
        trainer = build_trainer(WORKLOADS[spec["workload"]], spec["batch_size"], spec["width"],
                                spec["n_images"], device, spec["fast"])
        step = trainer_step(trainer)
        built = time.monotonic()
        for _ in range(spec["warmup"]):
            step()
        _synchronize(device)
        ready.put((index, built))
        start.wait()
        begin = time.monotonic()
        for _ in range(spec["steps"]):
            step()
        _synchronize(device)
        end = time.monotonic()
        results.put({"index": index, "begin": begin, "end": end,
                     "images": spec["steps"] * spec["batch_size"],
                     "fast": trainer.execution()["fast"]})
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which fails loudly
        results.put({"index": index, "error": f"{type(err).__name__}: {err}"})
        ready.put((index, None))


def _collect(messages, members: list, what: str) -> list:
    """One message per member from ``messages`` (``(index, ...)`` tuples or dicts with
    ``"index"``), in member order. A member that exits without reporting (killed, out of
    memory, a crash in native code) fails the pack at once instead of after HANG_GUARD_S."""
    got: dict[int, object] = {}
    deadline = time.monotonic() + HANG_GUARD_S
    while len(got) < len(members):
        try:
            item = messages.get(timeout=POLL_S)
        except queue.Empty:
            if time.monotonic() > deadline:
                raise RuntimeError(f"pack of {len(members)}: a member did not report {what} within "
                                   f"{HANG_GUARD_S} s") from None
            gone = [i for i, m in enumerate(members) if i not in got and m.exitcode is not None]
            if not gone:
                continue
            try:  # what it put just before exiting may still be in the pipe
                item = messages.get(timeout=POLL_S)
            except queue.Empty:
                codes = ", ".join(f"member {i} exited with code {members[i].exitcode}" for i in gone)
                raise RuntimeError(f"pack of {len(members)}: {codes} before it reported {what} "
                                   "(killed, out of memory, or a crash in native code)") from None
        index = item["index"] if isinstance(item, dict) else item[0]
        got[index] = item
    return [got[i] for i in sorted(got)]


def pack_throughput(k: int, spec: dict) -> dict:
    """Run a pack of ``k`` members of ``spec`` (see :func:`_member`); aggregate images/s."""
    # A CUDA context must not be forked: spawn fresh interpreters there (their start-up is
    # then a job's). A CPU pack forks (no CUDA in the parent; seconds of imports saved).
    context = mp.get_context("spawn" if torch.device(spec["device"]).type == "cuda" else "fork")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    members = [context.Process(target=_member, args=(i, spec, ready, start, results), daemon=True)
               for i in range(k)]
    spawned = time.monotonic()
    for member in members:
        member.start()
    try:
        built = [item[1] for item in _collect(ready, members, "ready")]
        start.set()
        rows = _collect(results, members, "its result")
    finally:
        start.set()
        for member in members:
            member.join(timeout=60)
            if member.is_alive():
                member.kill()
    errors = [row["error"] for row in rows if "error" in row]
    if errors:
        raise RuntimeError(f"pack of {k}: {errors[0]}")
    span = max(r["end"] for r in rows) - min(r["begin"] for r in rows)
    rows.sort(key=lambda r: r["index"])
    # Start-up of a job: a fresh interpreter, imports, CUDA context, data and model (the
    # members start together, so with K > 1 it includes their contention).
    startup = sum(t - spawned for t in built) / k
    return {"k": k, "images_per_s": sum(r["images"] for r in rows) / span, "seconds": span,
            "startup_seconds": startup,
            "per_run_images_per_s": [r["images"] / (r["end"] - r["begin"]) for r in rows],
            "fast": rows[0]["fast"]}
