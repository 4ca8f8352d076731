"""Cost of one probe point (one call of one probe at one step) in units of a training step.

Each probe runs alone through :class:`earlyphase.probes.suite.ProbeSuite` on the Trainer's
own model (with its memory layout), on ``points`` un-augmented, normalized training images,
with the settings the run would use (paper: 2048 points, metric batch 256, 15 noise draws,
15 APGD iterations, 20 power iterations). One untimed call warms up (and gives lambda_max
its warm-start vector, as in a run); the timed calls follow.
"""

from __future__ import annotations

import torch

from earlyphase.probes.suite import PROBES, ProbeSuite
from earlyphase.training.batches import stream_generator
from earlyphase.training.trainer import Trainer

from .timing import seconds_per_call

PROBE_PRESETS = {
    "paper": {"points": 2048, "batch_size": 256, "n_draws": 15, "apgd_iters": 15, "eig_iters": 20},
    "smoke": {"points": 256, "batch_size": 128, "n_draws": 3, "apgd_iters": 3, "eig_iters": 20},
    "quick": {"points": 128, "batch_size": 64, "n_draws": 3, "apgd_iters": 3, "eig_iters": 5},
}


# The probe points the cost model reads (``--probes cost-model``): per workload, the probes
# its experiments record (the adaptive sharpness variants are costed as their quantity's
# probe, hessian_max_eig is the post-hoc probe of Table 1's models). Workloads left out are
# costed from their architecture's CIFAR-shape rows (ResNet-18 at MNIST shape, scaled by the
# pixel count) or from step equivalents (the FCN's sharpness).
COST_MODEL_PROBES = {
    "resnet18-cifar": ("fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig", "feature_rank"),
    "vgg11-cifar": ("fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig", "feature_rank"),
    "simple_cnn-cifar": ("fisher_trace",),
}


def probe_seconds(trainer: Trainer, settings: dict, repeat: int = 1,
                  probes: tuple[str, ...] = PROBES) -> dict[str, float]:
    """Seconds of one call of each of ``probes`` (default: every probe) with ``settings``."""
    generator = stream_generator(0, 0x5EED_0003, 0)
    order = torch.randperm(len(trainer.train_labels), generator=generator)[: settings["points"]]
    order = order.to(trainer.device)
    inputs = trainer.normalizer(trainer.train_images[order])
    targets = trainer.train_labels[order]
    suite_settings = {k: v for k, v in settings.items() if k != "points"}
    seconds = {}
    for name in probes:
        suite = ProbeSuite({**suite_settings, "probes": [name]}, inputs, targets, trainer.device)
        seconds[name] = seconds_per_call(lambda s=suite: s(trainer.model, 1), repeat, 1,
                                         trainer.device)
    return seconds
