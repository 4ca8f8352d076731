"""Host synchronisations of the training step: ``python -m earlyphase.bench.sync_check``.

Runs ``--steps`` training steps (after a warm-up) of the benchmark's Trainer under
``torch.cuda.set_sync_debug_mode("warn")``, which warns at every operation that makes the
host wait for the GPU, and lists where they come from: the innermost frame of earlyphase
code on the stack of each warning, with a count. The loop is expected to sync once per
``log_every`` steps (the loss read of the log row, :data:`.fast_loop.LOG_EVERY`); anything
else is a candidate to fix. ``--probe`` also lists the syncs of the probes (each called
twice, warm-up and timed, as :func:`.probe_cost.probe_seconds` does).
On a CPU there is nothing to synchronise with: the steps run and the list is empty.
"""

from __future__ import annotations

import argparse
import collections
import sys
import traceback
import warnings
from pathlib import Path

import torch

from earlyphase.bench.report import emit
from earlyphase.training.acceleration import configure_cuda
from earlyphase.training.device import pick_device

from .fast_loop import LOG_EVERY, build_trainer, trainer_step
from .probe_cost import PROBE_PRESETS
from .workloads import WORKLOADS

_PACKAGE = str(Path(__file__).resolve().parents[1])


def _where() -> str:
    """The innermost earlyphase frame of the current stack (outside this module)."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if frame.filename.startswith(_PACKAGE) and not frame.filename.endswith("sync_check.py"):
            return f"{Path(frame.filename).relative_to(Path(_PACKAGE).parent)}:{frame.lineno} ({frame.line})"
    return "outside earlyphase"


def count_syncs(work, device: torch.device) -> collections.Counter:
    """``{location: count}`` of the host syncs ``work()`` makes on ``device``."""
    seen: collections.Counter = collections.Counter()
    if device.type != "cuda":
        work()
        return seen
    previous = warnings.showwarning

    def record(message, category, filename, lineno, file=None, line=None):
        if "synchroniz" in str(message):
            seen[_where()] += 1
        else:
            previous(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = record
        torch.cuda.set_sync_debug_mode("warn")
        try:
            work()
        finally:
            torch.cuda.set_sync_debug_mode("default")
            warnings.showwarning = previous
    return seen


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m earlyphase.bench.sync_check",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workload", default="resnet18-cifar", choices=sorted(WORKLOADS))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cuda-graphs", action="store_true")
    parser.add_argument("--probe", action="store_true", help="also one call of each probe")
    parser.add_argument("--probe-preset", default="quick", choices=sorted(PROBE_PRESETS))
    parser.add_argument("--probe-points", type=int, help="override the preset's number of points")
    parser.add_argument("--out", help="write the result as JSON here")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    configure_cuda(deterministic=False)
    n_images = max(args.batch_size * (args.steps + args.warmup + 1), PROBE_PRESETS[args.probe_preset]["points"])
    trainer = build_trainer(WORKLOADS[args.workload], args.batch_size, args.width, n_images, device,
                            {"cuda_graphs": args.cuda_graphs or None})
    step = trainer_step(trainer)
    for _ in range(args.warmup):
        step()

    def steps():
        for _ in range(args.steps):
            step()

    train = count_syncs(steps, device)
    result = {"device": str(device), "workload": args.workload, "steps": args.steps,
              "cuda_graphs": trainer.fast.cuda_graphs, "applicable": device.type == "cuda",
              "expected_log_reads": args.steps // LOG_EVERY,
              "train_syncs": sum(train.values()),
              "train": [{"where": w, "count": n} for w, n in train.most_common()], "probes": {}}
    if args.probe:
        from .probe_cost import probe_seconds

        settings = dict(PROBE_PRESETS[args.probe_preset])
        if args.probe_points:
            settings["points"] = settings["batch_size"] = args.probe_points
        found = count_syncs(lambda: probe_seconds(trainer, settings), device)
        result["probes"] = [{"where": w, "count": n} for w, n in found.most_common()]
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
