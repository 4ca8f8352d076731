"""Benchmark of the curvature probes (not a test).

Prints, for a ResNet-18-like network (``earlyphase.models.build_model("resnet18", ...)``
with a width multiplier) on ``--points`` random probe points at metric batch ``--batch``:

* each probe's wall time in units of one plain training step (train-mode forward +
  backward + SGD step at the same batch size);
* the tr(F) speed-up of the per-sample estimator (hook path; the vmap path timed on
  4 × ``--loop-points`` examples and scaled) and of the batched single-backward estimator
  over the naive per-example loop (the loop is timed on ``--loop-points``
  examples and scaled linearly);
* each probe's cost against the passes its definition needs, in batched-pass units
  measured on the same model: tr(F) one backward per example (= points/batch eval
  forward+backward passes), S_avg ``n_draws`` eval forwards per batch, S_worst
  ``apgd_iters`` forward+backward per batch, λ_max ``eig_iters`` Hessian-vector products
  per batch counted as 2 forward+backward passes each.

Writes the figures as JSON to ``--out``.  Example (about a minute on a laptop CPU)::

    python -m earlyphase.bench.probes --width 0.125 --points 2048 --batch 256 --out bench_probes.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from earlyphase.models import build_model
from earlyphase.probes import (
    average_sharpness,
    fisher_trace,
    hessian_max_eigenvalue,
    worst_case_sharpness,
)
from earlyphase.probes.base import FunctionalModel, probe_mode


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timeit(fn, device, repeat: int = 3, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--width", type=float, default=0.125)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--image", type=int, default=32)
    ap.add_argument("--points", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--n-draws", type=int, default=15)
    ap.add_argument("--apgd-iters", type=int, default=15)
    ap.add_argument("--eig-iters", type=int, default=20)
    ap.add_argument("--eig-examples", type=int, default=None, help="default: all points")
    ap.add_argument("--fisher-chunk", type=int, default=64)
    ap.add_argument("--loop-points", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default="bench_probes.json")
    return ap.parse_args(argv)


def _time_passes(model, xb: torch.Tensor, yb: torch.Tensor, dev: torch.device) -> tuple[float, float, float]:
    """Seconds of one plain training step, one eval forward and one eval forward+backward on a batch:
    the units the probes are measured in."""
    # a couple of training steps so BN statistics are not the initial ones
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()

    t_train = timeit(train_step, dev)

    with probe_mode(model) as m:
        fm = FunctionalModel(m, "all")

        def fwd():
            with torch.no_grad():
                F.cross_entropy(fm(fm.base, xb), yb)

        leaves = {k: v.clone().requires_grad_(True) for k, v in fm.base.items()}

        def fwd_bwd():
            loss = F.cross_entropy(fm(leaves, xb), yb)
            torch.autograd.grad(loss, list(leaves.values()))

        t_fwd = timeit(fwd, dev)
        t_fb = timeit(fwd_bwd, dev)
    return t_train, t_fwd, t_fb


def _time_fisher(model, x: torch.Tensor, y: torch.Tensor, args, dev: torch.device, gen) -> dict[str, float]:
    """Seconds of tr(F) over all points per estimator; the slow ones timed on a subset and scaled linearly."""
    bs = args.batch
    res: dict[str, float] = {}
    lp = min(args.loop_points, args.points)
    t_loop_sub = timeit(
        lambda: fisher_trace(model, x[:lp], y[:lp], batch_size=bs, generator=gen(), estimator="loop"),
        dev,
        repeat=1,
    )
    res["fisher_loop"] = t_loop_sub * args.points / lp
    res["fisher_per_sample"] = timeit(
        lambda: fisher_trace(model, x, y, batch_size=bs, generator=gen(), chunk_size=args.fisher_chunk),
        dev,
        repeat=1,
    )
    res["fisher_vmap"] = (
        timeit(
            lambda: fisher_trace(
                model,
                x[: 4 * lp],
                y[: 4 * lp],
                batch_size=bs,
                generator=gen(),
                chunk_size=args.fisher_chunk,
                per_sample_method="vmap",
            ),
            dev,
            repeat=1,
        )
        * args.points
        / min(4 * lp, args.points)
    )
    res["fisher_batched"] = timeit(
        lambda: fisher_trace(model, x, y, batch_size=bs, generator=gen(), estimator="batched"),
        dev,
        repeat=1,
    )
    return res


def _time_sharpness(model, x: torch.Tensor, y: torch.Tensor, args, dev: torch.device, gen) -> dict[str, float]:
    """Seconds of S_avg, S_worst and lambda_max (one run each, no warm-up: each is long)."""
    bs = args.batch
    res: dict[str, float] = {}
    res["avg_sharpness"] = timeit(
        lambda: average_sharpness(model, x, y, batch_size=bs, generator=gen(), n_draws=args.n_draws),
        dev,
        repeat=1,
        warmup=0,
    )
    res["worst_sharpness"] = timeit(
        lambda: worst_case_sharpness(model, x, y, batch_size=bs, generator=gen(), n_iters=args.apgd_iters),
        dev,
        repeat=1,
        warmup=0,
    )
    ne = args.eig_examples or args.points
    res["hessian_max_eig"] = timeit(
        lambda: hessian_max_eigenvalue(
            model, x[:ne], y[:ne], batch_size=bs, generator=gen(), n_iter=args.eig_iters
        ),
        dev,
        repeat=1,
        warmup=0,
    )
    return res


def _definition_seconds(args, t_fwd: float, t_fb: float) -> dict[str, float]:
    """Each probe's cost counted as the batched passes its definition needs (module docstring)."""
    n_batches = -(-args.points // args.batch)
    eig_batches = -(-(args.eig_examples or args.points) // args.batch)
    return {
        "fisher_per_sample": n_batches * t_fb,
        "fisher_vmap": n_batches * t_fb,
        "fisher_batched": n_batches * t_fb,
        "fisher_loop": n_batches * t_fb,
        "avg_sharpness": n_batches * (args.n_draws * t_fwd),
        "worst_sharpness": n_batches * args.apgd_iters * t_fb,
        "hessian_max_eig": eig_batches * args.eig_iters * 2 * t_fb,
    }


def _summarize(args, dev, n_params: int, passes: tuple[float, float, float], res: dict[str, float]) -> dict:
    """The JSON record: the machine, the setting, the unit passes, one row per probe and the speed-ups."""
    t_train, t_fwd, t_fb = passes
    needed = _definition_seconds(args, t_fwd, t_fb)
    set_names = ["fisher_per_sample", "avg_sharpness", "worst_sharpness", "hessian_max_eig"]
    rows = []
    for name, t in res.items():
        rows.append(
            {
                "probe": name,
                "seconds": t,
                "train_steps": t / t_train,
                "definition_passes_s": needed[name],
                "ratio_to_definition": t / needed[name],
            }
        )
    total = sum(res[k] for k in set_names)
    total_needed = sum(needed[k] for k in set_names)
    return {
        "device": str(dev),
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "arch": args.arch,
        "width": args.width,
        "n_params": n_params,
        "points": args.points,
        "batch": args.batch,
        "t_train_step_s": t_train,
        "t_eval_forward_s": t_fwd,
        "t_eval_forward_backward_s": t_fb,
        "fisher_speedup_per_sample_over_loop": res["fisher_loop"] / res["fisher_per_sample"],
        "fisher_speedup_vmap_over_loop": res["fisher_loop"] / res["fisher_vmap"],
        "fisher_speedup_batched_over_loop": res["fisher_loop"] / res["fisher_batched"],
        "probe_set_seconds": total,
        "probe_set_train_steps": total / t_train,
        "probe_set_ratio_to_definition": total / total_needed,
        "rows": rows,
    }


def _print_summary(summary: dict) -> None:
    s = summary
    print(
        f"{s['arch']} width {s['width']} ({s['n_params']:,} params) on {s['device']}, "
        f"{s['points']} points, batch {s['batch']}, {s['threads']} threads"
    )
    print(
        f"train step {s['t_train_step_s'] * 1e3:.1f} ms | eval fwd {s['t_eval_forward_s'] * 1e3:.1f} ms | "
        f"eval fwd+bwd {s['t_eval_forward_backward_s'] * 1e3:.1f} ms"
    )
    print(f"{'probe':<20}{'seconds':>10}{'train steps':>13}{'definition s':>14}{'ratio':>8}")
    for r in s["rows"]:
        print(
            f"{r['probe']:<20}{r['seconds']:>10.2f}{r['train_steps']:>13.1f}"
            f"{r['definition_passes_s']:>14.2f}{r['ratio_to_definition']:>8.2f}"
        )
    print(
        "tr(F) speed-up over the per-example loop: per-sample (hooks) "
        f"{s['fisher_speedup_per_sample_over_loop']:.1f}x, "
        f"vmap {s['fisher_speedup_vmap_over_loop']:.1f}x, "
        f"batched {s['fisher_speedup_batched_over_loop']:.1f}x"
    )
    print(
        f"probe set (tr(F) per-sample, S_avg, S_worst, lambda_max): {s['probe_set_seconds']:.2f} s = "
        f"{s['probe_set_train_steps']:.1f} train steps = "
        f"{s['probe_set_ratio_to_definition']:.2f}x its definition's passes"
    )


def main(argv: list[str] | None = None) -> dict:
    args = _parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)

    torch.manual_seed(0)
    model = build_model(args.arch, args.classes, 3, args.width).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    g = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(args.points, 3, args.image, args.image, generator=g).to(dev)
    y = torch.randint(0, args.classes, (args.points,), generator=g).to(dev)
    passes = _time_passes(model, x[: args.batch], y[: args.batch], dev)

    def gen():
        return torch.Generator(device=dev).manual_seed(1)

    res = _time_fisher(model, x, y, args, dev, gen)
    res.update(_time_sharpness(model, x, y, args, dev, gen))
    summary = _summarize(args, dev, n_params, passes, res)
    _print_summary(summary)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(summary, fh, indent=2)
    os.replace(tmp, args.out)
    return summary


if __name__ == "__main__":
    main()
