"""Training-stage subcommands: ``train`` one run, ``evaluate`` it (ID and OOD), ``probe-checkpoint``
its final model. Each runs on a device of its own (:func:`_job_device`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from earlyphase.cli.arguments import json_arg


def _csv_list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


@contextlib.contextmanager
def _job_device(requested: str):
    """The device of this job: a GPU of its own from the pool on a multi-GPU machine."""
    from earlyphase.operations.gpu_pool import claimed_device

    with claimed_device(requested) as device:
        if device.startswith("cuda:"):
            import torch

            torch.cuda.set_device(device)
        yield device


def cmd_train(args) -> int:
    import signal

    import torch

    from earlyphase.training.acceleration import configure_cuda
    from earlyphase.training.trainer import RunInterrupted, Trainer

    torch.set_num_threads(args.threads)
    configure_cuda(args.deterministic)
    fast = {"precision": args.precision, "channels_last": args.channels_last, "compile": args.compile,
            "cuda_graphs": args.cuda_graphs}
    with _job_device(args.device) as device:
        trainer = Trainer(args.config, args.run_dir, args.data, device=device, fast=fast,
                          checkpoint_every=args.checkpoint_every,
                          checkpoint_minutes=args.checkpoint_minutes or None,
                          progress=not args.no_progress)
        # A scheduler ends a job with SIGTERM (then SIGKILL): save the last step and stop.
        previous = signal.signal(signal.SIGTERM, lambda *_: setattr(trainer, "stop_requested", True))
        try:
            status = trainer.run()
        except RunInterrupted as err:
            print(f"earlyphase train: {err}", file=sys.stderr)
            return 128 + signal.SIGTERM
        except TypeError as err:  # a step that crashed inside torch (a fused optimizer, ...)
            raise RuntimeError(f"the training step failed at step {trainer.step} with TypeError: {err} "
                               f"(device {device}, execution {trainer.fast.describe()}); the run is "
                               "recorded as failed, a rerun resumes from its last checkpoint") from err
        finally:
            signal.signal(signal.SIGTERM, previous)
    print(json.dumps(status))
    return 0


def cmd_evaluate(args) -> int:
    from earlyphase.training.evaluate import evaluate_run

    with _job_device(args.device) as device:
        evaluate_run(args.final, args.clean, args.ood, _csv_list(args.corruptions),
                     [int(s) for s in _csv_list(args.severities)], args.out, device=device,
                     batch_size=args.batch_size)
    return 0


def cmd_probe_checkpoint(args) -> int:
    from earlyphase.probes.posthoc import probe_final

    with _job_device(args.device) as device:
        frame = probe_final(args.final, args.data, args.settings, args.out, device=device)
    print(frame.to_string(index=False))
    return 0


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train one run (resumes from its checkpoint)")
    p.add_argument("--config", type=json_arg, required=True, help="resolved run config (JSON)")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--data", required=True, help="clean data folder")
    p.add_argument("--device", default="auto")
    p.add_argument("--checkpoint-every", type=int, default=500,
                   help="steps between resume checkpoints (0: none by step count)")
    p.add_argument("--checkpoint-minutes", type=float, default=None,
                   help="wall-clock minutes between resume checkpoints, written in the background (0: none)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--precision", choices=["fp32", "bf16"], help="default: bf16 on CUDA, fp32 on CPU")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="default: on for CUDA")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the forward pass (falls back to eager if it fails)")
    p.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=None,
                   help="replay the full-batch update as a CUDA graph (CUDA only; eager for penalty runs)")
    p.add_argument("--deterministic", action="store_true",
                   help="deterministic CUDA kernels (slower; see docs/performance.md); "
                        "without it cuDNN autotunes its convolutions")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_train)


def register(sub) -> None:
    """Add this stage's subcommands to ``sub`` (the parser's subparsers)."""
    _add_train(sub)

    p = sub.add_parser("evaluate", help="ID and OOD accuracy of one run")
    p.add_argument("--final", required=True, help="the run's final/ folder")
    p.add_argument("--clean", required=True)
    p.add_argument("--ood", required=True)
    p.add_argument("--corruptions", required=True, help="comma-separated")
    p.add_argument("--severities", required=True, help="comma-separated")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=1000)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("probe-checkpoint", help="post-hoc probes of a run's final model")
    p.add_argument("--final", required=True, help="the run's final/ folder")
    p.add_argument("--data", required=True, help="clean data folder (training points)")
    p.add_argument("--settings", type=json_arg, required=True, help="probe settings (JSON)")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_probe_checkpoint)
